"""sinet_allen: SINET and CMAN joint entity and relation extraction for AllenNLP."""
from sinet_allen.settings import set_config_defaults

set_config_defaults()

# Importing the registries' packages registers every component with AllenNLP.
from sinet_allen import data_loaders, dataset_readers, metrics, models, modules  # noqa: E402,F401
from sinet_allen import commands, evaluation, predictors, training  # noqa: E402,F401
from sinet_allen.extractor import Extractor  # noqa: E402,F401
from sinet_allen import spacy_pipeline  # noqa: E402,F401  the spaCy factory "sinet"
