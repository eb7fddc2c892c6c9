"""`allennlp sinet-serve`: an HTTP API and a demo page over the `sinet` predictor."""
