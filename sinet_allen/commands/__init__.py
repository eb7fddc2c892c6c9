"""AllenNLP subcommands of the plugin; importing this package registers them."""
from sinet_allen.commands.attention import SinetAttention
from sinet_allen.commands.card import SinetCard
from sinet_allen.commands.check_data import SinetCheckData
from sinet_allen.commands.convert import SinetConvert
from sinet_allen.commands.experiment import SinetExperiment
from sinet_allen.commands.extract import SinetExtract
from sinet_allen.commands.report import SinetReport
from sinet_allen.commands.serve import SinetServe
from sinet_allen.commands.significance import SinetSignificance

__all__ = ["SinetAttention", "SinetCard", "SinetCheckData", "SinetConvert", "SinetExperiment", "SinetExtract", "SinetReport", "SinetServe", "SinetSignificance"]
