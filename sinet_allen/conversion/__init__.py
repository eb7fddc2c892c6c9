"""Annotation-tool exports (brat, doccano, Label Studio) and model predictions to the training
formats and back to brat (`allennlp sinet-convert`), and a report on a data file before training
(`allennlp sinet-check-data`)."""
