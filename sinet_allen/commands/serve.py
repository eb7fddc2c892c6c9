"""`allennlp sinet-serve MODEL [--port 8000] [--host 127.0.0.1] ...`: the HTTP API and demo page of
sinet_allen/server/app.py, under uvicorn (docs/prediction.md "Demo server").

SIGTERM or Ctrl+C stops the server gracefully: it stops accepting connections, answers the
requests it holds (the model's queue drains), and the command exits 0."""
import argparse
import logging
import signal
from contextlib import contextmanager
from typing import Iterator

from allennlp.commands.subcommand import Subcommand

from sinet_allen.models.joint_ie_model import PRECISIONS
from sinet_allen.server.limits import EVERY_NETWORK, Batching, Limits, allowed_hosts

logger = logging.getLogger(__name__)

LIMIT_HELP = {
    "max_request_bytes": "the most bytes of a request body",
    "max_text_chars": "the most characters of a 'sentence' or 'document'",
    "max_tokens": "the most tokens of a 'tokens' or 'sentences' input",
    "max_batch": "the most inputs in one request's list",
    "body_timeout": "seconds a request's body may take to arrive; a slower one gets 408 and its connection is closed",
}
BATCHING_HELP = {
    "batch_size": "the most inputs of concurrent requests predicted together; 1 predicts each request "
                  "alone, one at a time",
    "batch_wait_ms": "the longest a request waits, in milliseconds, for others to share its batch",
    "batch_wordpieces": "the most wordpieces (the encoder's) of one batch",
    "forward_pass_size": "the most sentences of one forward pass: a batch's sentences are sorted by length "
                         "and cut into passes of this many",
    "max_queue": "the most requests waiting for the model; beyond it the server answers 503",
}


@Subcommand.register("sinet-serve")
class SinetServe(Subcommand):
    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = ("Serve a model: POST /predict (the predictor's JSON inputs, one or a list), "
                       "GET /health, and a demo page at /.")
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument("archive_file", help="the model.tar.gz written by allennlp train")
        subparser.add_argument("--host", default="127.0.0.1", help=(
            "the address to listen on; 127.0.0.1 (default) accepts this machine only, 0.0.0.0 every network"))
        subparser.add_argument("--port", type=int, default=8000, help="the port (default 8000)")
        subparser.add_argument("--allowed-hosts", nargs="+", default=[], metavar="NAME", help=(
            "host names or addresses clients use to reach the server (their Host header), besides "
            "127.0.0.1, localhost, ::1 and --host; needed with --host 0.0.0.0; '*' allows any"))
        subparser.add_argument("--cuda-device", type=int, default=-1, help="GPU to run on; -1 (default) is the CPU")
        subparser.add_argument("--inference-precision", choices=PRECISIONS, default="float32")
        _add_options(subparser, Limits(), LIMIT_HELP)
        _add_options(subparser, Batching(), BATCHING_HELP)
        subparser.set_defaults(func=serve_from_args)
        return subparser


def _add_options(parser: argparse.ArgumentParser, defaults, helps: dict) -> None:
    """One option per field of the dataclass `defaults`, of the field's type: batch_wait_ms -> --batch-wait-ms."""
    for name, help_text in helps.items():
        default = getattr(defaults, name)
        # AllenNLP's help formatter adds "(default = ...)" itself.
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default, help=help_text)


def serve_from_args(args: argparse.Namespace) -> None:
    # Imported here: every allennlp command loads the plugin, only this one needs the web stack.
    import uvicorn
    from allennlp.models.archival import load_archive

    from sinet_allen.server.app import app_for_archive

    archive = load_archive(args.archive_file, cuda_device=args.cuda_device,
                           overrides={"model.inference_precision": args.inference_precision})
    limits = Limits(**{name: getattr(args, name) for name in LIMIT_HELP})
    batching = Batching(**{name: getattr(args, name) for name in BATCHING_HELP})
    hosts = allowed_hosts(args.host, tuple(args.allowed_hosts))
    if args.host in EVERY_NETWORK and not args.allowed_hosts:
        logger.warning("listening on every network, but answering only requests for %s: add the names "
                       "clients use with --allowed-hosts", ", ".join(hosts))
    app = app_for_archive(archive, limits, batching, hosts)
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, workers=1, log_level="info"))
    with _stop_is_success():
        server.run()


@contextmanager
def _stop_is_success() -> Iterator[None]:
    """uvicorn handles SIGTERM and SIGINT itself (a graceful shutdown) and then raises the signal
    again under the handlers it found; these handlers make that a normal end, so the command exits 0."""
    def stopped(number: int, frame) -> None:
        logger.info("stopped by %s after answering every request it held", signal.Signals(number).name)

    previous = {number: signal.signal(number, stopped) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
