"""`allennlp sinet-extract MODEL INPUT --output-dir OUT --engine ray`: the lines of one or many input
files predicted by a pool of Ray workers, on this machine or a cluster
(sinet_allen/predictors/ray_extraction.py, docs/scaling.md). Ray is imported only when asked for:
every `allennlp` command loads this plugin."""
import argparse
import logging

from sinet_allen.predictors.decoding_options import DecodingOptions

logger = logging.getLogger(__name__)


def add_ray_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Ray engine", "--engine ray: shards of the input files predicted by Ray "
                                      "workers, each holding the model (docs/scaling.md)")
    group.add_argument("--engine", choices=("local", "ray"), default="local", help=(
        "local (default): this process writes --output-file; ray: a pool of Ray workers writes --output-dir"))
    group.add_argument("--output-dir", help=(
        "where --engine ray writes the outputs of each input file's shards; a rerun into it continues it"))
    group.add_argument("--num-workers", type=int, default=1, help="Ray workers, each loading the model once")
    group.add_argument("--cpus-per-worker", type=float, default=1.0, help="CPUs (torch threads) of each worker")
    group.add_argument("--gpus-per-worker", type=float, default=0.0, help=(
        "GPUs of each worker (0.5: two share one); above 0 the model runs on the GPU"))
    group.add_argument("--shard-lines", type=int, default=10_000, help=(
        "input lines per shard: the unit of work, of retry and of output"))
    group.add_argument("--max-retries", type=int, default=3, help=(
        "how often a shard is predicted again after the worker holding it died"))
    group.add_argument("--ray-address", default=None, help=(
        "the Ray cluster to run on (default $RAY_ADDRESS; neither: a local Ray started for the command)"))


def extract_with_ray(args: argparse.Namespace) -> None:
    if args.output_dir is None or args.output_file is not None or args.resume or args.cuda_device != -1:
        raise SystemExit("sinet-extract: --engine ray writes --output-dir (not --output-file), a rerun into the "
                         "same folder continues it (no --resume), and --gpus-per-worker gives GPUs (not --cuda-device)")
    from sinet_allen.predictors.ray_extraction import WorkerOptions, extract_files

    try:
        decoding = DecodingOptions(args.overlapping_entities, args.relation_threshold, args.max_length)
        options = WorkerOptions(args.num_workers, args.cpus_per_worker, args.gpus_per_worker, args.batch_size,
                                args.inference_precision, args.max_retries, decoding, not args.no_bucketing)
        summary = extract_files(args.archive_file, args.input_file, args.output_dir, args.input_format,
                                args.shard_lines, options, args.ray_address)
    except (ValueError, FileNotFoundError) as error:  # the inputs, the output folder or the options
        raise SystemExit(f"sinet-extract: {error}")
    print(f"{summary.lines} lines, {summary.sentences} sentences, {summary.failures} failed, in {summary.shards} "
          f"shards ({summary.reused} written by an earlier run) -> {args.output_dir}")
    if summary.failures:
        logger.error("%d input line(s) could not be predicted; their error records are in %s",
                     summary.failures, args.output_dir)
        raise SystemExit(1)
