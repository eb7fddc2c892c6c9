from sinet_allen.modules.task_projection import TaskProjection
from sinet_allen.modules.range_span_extractors import (
    RangeMaxSpanExtractor,
    RangeMeanSpanExtractor,
    RangeSumSpanExtractor,
)
from sinet_allen.modules.max_pooler import MaxPooler
from sinet_allen.modules.task_interaction import TaskInteraction
from sinet_allen.modules.cross_task_attention import CrossTaskAttention
from sinet_allen.modules.portable_transformer import PortableTransformerEmbedder
