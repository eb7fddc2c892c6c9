from sinet_allen.metrics.joint_ie_f1 import JointIEF1
from sinet_allen.metrics.left_out import LeftOutCounts

__all__ = ["JointIEF1", "LeftOutCounts"]
