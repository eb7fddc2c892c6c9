"""AllenNLP subcommands of the plugin; importing this package registers them."""
from sinet_allen.commands.experiment import SinetExperiment
from sinet_allen.commands.extract import SinetExtract
from sinet_allen.commands.significance import SinetSignificance

__all__ = ["SinetExperiment", "SinetExtract", "SinetSignificance"]
