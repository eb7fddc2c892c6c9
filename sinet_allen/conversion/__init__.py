"""Annotation-tool exports (brat, doccano, Label Studio) and model predictions to the training
formats and back to brat (`allennlp sinet-convert`)."""
