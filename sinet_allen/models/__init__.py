from sinet_allen.models.sinet import Sinet
from sinet_allen.models.cman import Cman
