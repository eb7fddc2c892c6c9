"""The options of `allennlp sinet-serve`: what one request may hold, how requests are batched and
which host names the server answers to (apart from the app, so that the command's arguments are
built without importing the web framework)."""
from dataclasses import dataclass
from typing import Tuple

# The names a browser on this machine uses for a server on the loopback address.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
# Addresses that listen on every network: they name no host a client would use.
EVERY_NETWORK = ("0.0.0.0", "::")


@dataclass(frozen=True)
class Limits:
    """What one request may hold, and how long it may take to arrive."""

    max_request_bytes: int = 100_000
    max_text_chars: int = 5_000  # of a `sentence` or `document`
    max_tokens: int = 1_000  # of `tokens` or all `sentences` of an input
    max_batch: int = 32  # inputs in a list
    body_timeout: float = 30.0  # seconds from the request's headers to the end of its body


@dataclass(frozen=True)
class Batching:
    """How concurrent requests share the model's forward passes.

    When the model is free, the oldest waiting request opens a batch; the requests waiting with it
    that ask for the same outputs (attention or not) join it, up to `batch_size` inputs and
    `batch_wordpieces` wordpieces. The batch may wait up to `batch_wait_ms` milliseconds from the
    oldest one's arrival for more to come; 0 runs it at once, so a lone request waits for nothing
    and under load the requests that arrived during one forward pass share the next. A request
    larger than the batch runs alone. `batch_size` 1 predicts each request alone, one at a time
    (the server before batching). A batch's sentences are sorted by length and cut into forward
    passes of at most `forward_pass_size` sentences, so that a short sentence is not padded to a
    long one's length (a pass computes every sentence at the length of its longest). At most `max_queue` requests wait; beyond that
    the server answers 503.
    """

    batch_size: int = 32
    batch_wait_ms: float = 0.0
    batch_wordpieces: int = 8_192
    forward_pass_size: int = 8
    max_queue: int = 256


def allowed_hosts(listen_host: str, extra: Tuple[str, ...] = ()) -> Tuple[str, ...]:
    """The host names requests may name (`Host`, and `Origin` when a browser sends one): the
    loopback names, the address listened on when it is one host, and `extra` (`*` for any)."""
    own = () if listen_host in EVERY_NETWORK or listen_host in LOOPBACK_NAMES else (listen_host,)
    return LOOPBACK_NAMES + own + tuple(extra)
