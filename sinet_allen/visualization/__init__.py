"""Pictures and pages of what a model does: attention figures (`allennlp sinet-attention`) and the
error-analysis report (`allennlp sinet-report`)."""
