"""`allennlp sinet-serve MODEL [--port 8000] [--host 127.0.0.1]`: the HTTP API and demo page of
sinet_allen/server/app.py, under uvicorn (docs/prediction.md "Demo server")."""
import argparse

from allennlp.commands.subcommand import Subcommand

from sinet_allen.models.joint_ie_model import PRECISIONS
from sinet_allen.server.limits import Limits


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
        subparser.add_argument("--cuda-device", type=int, default=-1, help="GPU to run on; -1 (default) is the CPU")
        subparser.add_argument("--inference-precision", choices=PRECISIONS, default="float32")
        defaults = Limits()
        for name in ("max_request_bytes", "max_text_chars", "max_tokens", "max_batch"):
            subparser.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name),
                                   help=f"limit of one request (default {getattr(defaults, name)})")
        subparser.set_defaults(func=serve_from_args)
        return subparser


def serve_from_args(args: argparse.Namespace) -> None:
    # Imported here: every allennlp command loads the plugin, only this one needs the web stack.
    import uvicorn

    from sinet_allen.predictors.extraction import load_predictor
    from sinet_allen.server.app import create_app

    predictor = load_predictor(args.archive_file, args.cuda_device, args.inference_precision)
    limits = Limits(args.max_request_bytes, args.max_text_chars, args.max_tokens, args.max_batch)
    uvicorn.run(create_app(predictor, limits), host=args.host, port=args.port, workers=1, log_level="info")
