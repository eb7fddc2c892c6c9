"""spaCy integration (docs/spacy.md): the `sinet` pipeline component, registered with spaCy on
import (and through the `spacy_factories` entry point), its relations extension and displaCy."""
from sinet_allen.spacy_pipeline.component import SinetComponent, make_sinet_component  # noqa: F401
from sinet_allen.spacy_pipeline.display import relations_table, render  # noqa: F401
from sinet_allen.spacy_pipeline.relations import Relation, relations_of  # noqa: F401
