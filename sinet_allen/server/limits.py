"""The limits of one request to `allennlp sinet-serve` (apart from the app, so that the command's
arguments are built without importing the web framework)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """What one request may hold."""

    max_request_bytes: int = 100_000
    max_text_chars: int = 5_000  # of a `sentence` or `document`
    max_tokens: int = 1_000  # of `tokens` or all `sentences` of an input
    max_batch: int = 32  # inputs in a list
