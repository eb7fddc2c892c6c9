from spacy import _refuse as download  # noqa: F401
