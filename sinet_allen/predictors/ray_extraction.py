"""Extraction on Ray Data, over the cores of one machine or the machines of a cluster:
`allennlp sinet-extract MODEL INPUT --output-dir OUT --engine ray` (sinet_allen/commands/extract.py),
`extract_files` in Python, and `extract_dataset` for a Ray `Dataset` of one's own.

Files. INPUT is a file, a folder (its .jsonl, .json and .txt files, at any depth) or a glob (`*`, `?`
and `[...]` within a folder level), on the local disk or on any filesystem pyarrow opens by URI
(s3://, gs://, hdfs://). Every machine of the cluster must reach the inputs, the output folder and
the model archive by the names given. Each input file is cut into shards of `shard_lines` lines (a
Ray Data task per file finds the cuts); a pool of Ray actors, each with its own model loaded once,
predicts shard after shard with the functions of `sinet-extract` (sinet_allen/predictors/extraction.py),
so results and error records are those of `sinet-extract`, lines numbered as the file counts them.
A shard's results go to

    OUT/<the input file's path under INPUT>/lines-<first line>-<last line>.jsonl

line k answering input line first + k - 1: one input's parts, in name order, are what `sinet-extract`
writes for that file. A shard's output is written under a temporary name and renamed when complete,
so it is there whole or not at all.

Failures. An actor that dies (a killed process, a lost machine) is restarted by Ray and the shard it
held is predicted again; after `max_retries` deaths on one shard its lines get error records (one
line that exhausts a worker's memory does not stop the run). A shard whose output exists is not predicted
again, so a run stopped at any point and started again into the same OUT completes it without
duplicates. OUT/_inputs.json records the size and modification time of each input file its outputs
were made from: when a rerun finds an input file changed, that file's outputs are deleted and
predicted again (a warning says so), never reused. OUT/_extraction.json records what the outputs
depend on (the archive, the input format, the shard size, the precision, the decoding options), and a rerun with other settings is refused.
A run that completes records its summary, its shards and each input file's size and modification
time in OUT/_complete.json: a rerun while those hold (and every shard's output is there) reports
that summary without starting Ray or reading the inputs again.
"""
import io
import json
import logging
import math
import os
import posixpath
import re
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from glob import has_magic
from pathlib import PurePosixPath
from typing import Any, BinaryIO, Dict, Iterator, List, Optional, Tuple, Type, Union

import pyarrow
import ray
import torch
from allennlp.common.util import JsonDict
from pyarrow import fs

from sinet_allen.models.joint_ie_model import PRECISIONS
from sinet_allen.predictors.decoding_options import DecodingOptions
from sinet_allen.predictors.extraction import (
    FORMAT_OF_EXTENSION, Summary, load_predictor, numbered_inputs, predict_in_groups, resolve_input_format)
from sinet_allen.predictors.prediction_format import dump_line, error_record
from sinet_allen.predictors.sinet_predictor import SinetPredictor

logger = logging.getLogger(__name__)

MANIFEST = "_extraction.json"
COMPLETION = "_complete.json"  # a finished run: its summary, shards and inputs
INPUT_RECORD = "_inputs.json"  # the state of each input file the outputs were made from, by its name
TEMPORARY_MARK = ".partial-"  # in the name of a shard's output while it is written
PREDICTION_COLUMN = "prediction"


@dataclass(frozen=True)
class WorkerOptions:
    """The Ray workers: actors holding one model each.

    # Parameters

    num_workers : `int`, optional (default = `1`)
        Actors in the pool, each loading the model once.
    cpus_per_worker : `float`, optional (default = `1`)
        CPUs Ray reserves for each actor; its torch threads (at least one).
    gpus_per_worker : `float`, optional (default = `0`)
        GPUs Ray reserves for each actor (a fraction shares a GPU); above 0 the model runs on the GPU.
    batch_size : `int`, optional (default = `32`)
        Lines (or rows) predicted together, and the most sentences of one forward pass.
    inference_precision : `str`, optional (default = `"float32"`)
        The model's inference_precision (`bfloat16` runs a bfloat16 copy of the encoder).
    max_retries : `int`, optional (default = `3`)
        How often a shard is predicted again after the actor predicting it died (Ray restarts the
        actor); then its lines get error records. (`extract_dataset`'s batches are retried without limit.)
    decoding : `DecodingOptions`, optional (default = the archive's)
        The decoding options every actor's predictor uses (flat entities, the relation threshold,
        `max_length`), as `sinet-extract` takes them.
    bucketing : `bool`, optional (default = `True`)
        False batches sentences in input order rather than by length (the same output, slower).
    """

    num_workers: int = 1
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0
    batch_size: int = 32
    inference_precision: str = "float32"
    max_retries: int = 3
    decoding: DecodingOptions = DecodingOptions()
    bucketing: bool = True

    def __post_init__(self) -> None:
        if self.inference_precision not in PRECISIONS:
            raise ValueError(f"inference_precision must be one of {', '.join(PRECISIONS)}, "
                             f"not {self.inference_precision!r}")
        for name in ("num_workers", "cpus_per_worker", "batch_size"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.gpus_per_worker < 0 or self.max_retries < 0:
            raise ValueError("gpus_per_worker and max_retries must not be negative")

    def map_arguments(self, archive: str) -> Dict[str, Any]:
        """The arguments of `Dataset.map_batches` that make the actor pool."""
        # Ray Data restarts an actor that died and gives its batch to another, without limit.
        return {"concurrency": self.num_workers, "num_cpus": self.cpus_per_worker,
                "num_gpus": self.gpus_per_worker, "fn_constructor_kwargs": {"archive": archive, "options": self}}


@dataclass
class RunSummary(Summary):
    """What `extract_files` wrote: lines, sentences and error records of all shards, and the shards
    (those an earlier run into the same folder had written among them)."""

    shards: int = 0
    reused: int = 0

    def add_shard(self, shard: Dict[str, Any]) -> None:
        self.lines += shard["lines"]
        self.sentences += shard["sentences"]
        self.failures += shard["failures"]
        self.shards += 1
        self.reused += shard["reused"]


# --- paths on any filesystem -------------------------------------------------------------------

def absolute(path: Union[str, os.PathLike]) -> str:
    """A URI as it is, a local path made absolute (actors need not share the driver's folder)."""
    path = os.fspath(path)
    return path if "://" in path else os.path.abspath(path)


def location(path: str) -> Tuple[fs.FileSystem, str]:
    """The filesystem of a local path or URI, and the path within it."""
    return fs.FileSystem.from_uri(absolute(path))


@dataclass(frozen=True)
class InputFile:
    path: str  # a URI or an absolute local path
    name: str  # its path under the folder (or the glob's folder) given, which its outputs keep
    input_format: str


def find_inputs(source: Union[str, os.PathLike], input_format: str = "auto") -> List[InputFile]:
    """The input files `source` names: a file, a folder (its files with a known extension) or a glob."""
    source = absolute(source)
    filesystem, path = location(source)
    kind = filesystem.get_file_info(path).type
    if kind == fs.FileType.File:
        return [InputFile(source, posixpath.basename(path), resolve_input_format(path, input_format))]
    if kind == fs.FileType.Directory:
        found = [info.path for info in _listing(filesystem, path)
                 if posixpath.splitext(info.path)[1].lower() in FORMAT_OF_EXTENSION]
        folder = path
    elif has_magic(path):
        parts = path.split("/")
        folder = "/".join(parts[: next(k for k, part in enumerate(parts) if has_magic(part))]) or "/"
        found = [info.path for info in _listing(filesystem, folder) if PurePosixPath(info.path).match(path)]
    else:
        raise FileNotFoundError(f"{source}: no such file or folder")
    if not found:
        raise FileNotFoundError(f"{source}: no input files there (.jsonl, .json or .txt in a folder, or matching "
                                "the glob)")
    prefix = source[: len(source) - len(path)]  # the URI's scheme and host, if any
    return [InputFile(prefix + found_path, posixpath.relpath(found_path, folder),
                      resolve_input_format(found_path, input_format)) for found_path in sorted(found)]


def _listing(filesystem: fs.FileSystem, folder: str) -> List[fs.FileInfo]:
    """The files under `folder` at any depth, hidden ones (`.name`, `_name`) left out."""
    infos = filesystem.get_file_info(fs.FileSelector(folder, recursive=True))
    return [info for info in infos if info.type == fs.FileType.File
            and not any(part.startswith((".", "_")) for part in posixpath.relpath(info.path, folder).split("/"))]


# --- shards ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Shard:
    """Lines `first_line`.. of an input file (`lines` of them, bytes `start` to `end`) and their output."""

    path: str
    input_format: str
    start: int
    end: int
    first_line: int
    lines: int
    output: str

    @property
    def last_line(self) -> int:
        return self.first_line + self.lines - 1

    def read(self) -> BinaryIO:
        filesystem, path = location(self.path)
        with filesystem.open_input_file(path) as stream:
            stream.seek(self.start)
            return io.BytesIO(stream.read(self.end - self.start))


def plan_shards(row: Dict[str, Any], output_dir: str, shard_lines: int) -> List[Dict[str, Any]]:
    """The shards of one input file (a Ray Data `flat_map` on `InputFile` rows): `shard_lines` lines
    each, their byte ranges found by reading the file once."""
    file = InputFile(**row)
    filesystem, path = location(file.path)
    shards, start, position, lines = [], 0, 0, 0
    with filesystem.open_input_stream(path) as stream:
        for line in io.BufferedReader(stream, buffer_size=2**20):  # lines end at b"\n", as sinet-extract counts
            position += len(line)
            lines += 1
            if lines % shard_lines == 0:
                shards.append(_shard(file, output_dir, start, position, lines - shard_lines + 1, shard_lines))
                start = position
    if lines % shard_lines:
        shards.append(_shard(file, output_dir, start, position, lines - lines % shard_lines + 1, lines % shard_lines))
    return shards


def _shard_output_name(first_line: int, last_line: int) -> str:
    return f"lines-{first_line:09d}-{last_line:09d}.jsonl"


def _is_shard_output(name: str) -> bool:
    """Whether `name` is one that `_shard_output_name` gives: it must come back from its own numbers."""
    numbers = re.findall(r"\d+", name)
    return len(numbers) == 2 and name == _shard_output_name(*map(int, numbers))


def _shard(file: InputFile, output_dir: str, start: int, end: int, first_line: int, lines: int) -> Dict[str, Any]:
    output = posixpath.join(output_dir, file.name, _shard_output_name(first_line, first_line + lines - 1))
    return asdict(Shard(file.path, file.input_format, start, end, first_line, lines, output))


def extract_shard(predictor: SinetPredictor, shard: Shard, batch_size: int, max_retries: int) -> Dict[str, Any]:
    """Predicts one shard into its output, written whole or not at all, unless an earlier run or
    attempt wrote it; says what the output holds. After `max_retries` workers died on the shard,
    its lines get error records instead (a line that exhausts a worker's memory must not stop the run)."""
    filesystem, output = location(shard.output)
    if filesystem.get_file_info(output).type == fs.FileType.File:
        with filesystem.open_input_stream(output) as written:
            return _shard_summary(shard, _count_lines(io.BufferedReader(written)), reused=True)
    died = _deaths(filesystem, output, max_retries)
    if died > max_retries:
        results = _given_up(shard, died)
    else:
        inputs = numbered_inputs(shard.read(), shard.input_format, shard.first_line)
        results = predict_in_groups(predictor, inputs, batch_size)
    filesystem.create_dir(posixpath.dirname(output), recursive=True)
    temporary = f"{output}{TEMPORARY_MARK}{died + 1}"  # left behind only if this worker dies too
    summary = _write(filesystem, temporary, results)
    if summary.lines != shard.lines:
        filesystem.delete_file(temporary)
        raise RuntimeError(f"{shard.path} changed during the run: lines {shard.first_line} on are no longer "
                           f"the {shard.lines} lines they were when the run started")
    filesystem.move(temporary, output)  # a rename on a disk, a whole new object on an object store
    return _shard_summary(shard, summary, reused=False)


def _deaths(filesystem: fs.FileSystem, output: str, max_retries: int) -> int:
    """How many workers died writing the shard's output (each left its numbered temporary file)."""
    died = 0
    while died <= max_retries and \
            filesystem.get_file_info(f"{output}{TEMPORARY_MARK}{died + 1}").type == fs.FileType.File:
        died += 1
    return died


def _given_up(shard: Shard, died: int) -> Iterator[JsonDict]:
    logger.error("%s, lines %d-%d: %d workers died predicting them; written as error records", shard.path,
                 shard.first_line, shard.last_line, died)
    message = (f"not predicted: {died} workers died predicting lines {shard.first_line}-{shard.last_line} of "
               "this file (a line too large for a worker's memory?); predict them alone with sinet-extract")
    return (error_record(message, number) for number in range(shard.first_line, shard.last_line + 1))


def _write(filesystem: fs.FileSystem, path: str, results: Iterator[JsonDict]) -> Summary:
    summary = Summary()
    try:
        with filesystem.open_output_stream(path) as written:
            for result in results:
                written.write(dump_line(result).encode("utf-8"))
                summary.add(result)
    except Exception:  # an error, not a death: no temporary file is left to count it as one
        filesystem.delete_file(path)
        raise
    return summary


def _count_lines(lines: BinaryIO) -> Summary:
    summary = Summary()
    for line in lines:
        summary.add(json.loads(line))
    return summary


def _shard_summary(shard: Shard, summary: Summary, reused: bool) -> Dict[str, Any]:
    return {"output": shard.output, "lines": summary.lines, "sentences": summary.sentences,
            "failures": summary.failures, "reused": reused}


# --- actors ------------------------------------------------------------------------------------

class ModelWorker:
    """A Ray actor's predictor, loaded once when the actor starts."""

    def __init__(self, archive: str, options: WorkerOptions) -> None:
        torch.set_num_threads(max(1, math.floor(options.cpus_per_worker)))
        # Ray shows an actor only the GPUs it reserved (CUDA_VISIBLE_DEVICES): its first one is its own.
        cuda_device = 0 if options.gpus_per_worker > 0 else -1
        self.predictor = load_predictor(archive, cuda_device, options.inference_precision,
                                        decoding=options.decoding, bucketing=options.bucketing)
        self.batch_size = options.batch_size
        self.max_retries = options.max_retries


class ShardExtractor(ModelWorker):
    """Predicts the shards of a batch (rows of `plan_shards`) into their outputs; a row per shard
    says what its output holds."""

    def __call__(self, shards: pyarrow.Table) -> pyarrow.Table:
        return pyarrow.Table.from_pylist([extract_shard(self.predictor, Shard(**shard), self.batch_size,
                                                        self.max_retries) for shard in shards.to_pylist()])


class RowExtractor(ModelWorker):
    """Adds to each row its result (or error record) as a JSON line, in the column `prediction`."""

    def __call__(self, rows: pyarrow.Table) -> pyarrow.Table:
        # A missing key of a row is a null in Arrow's table: not a key of the input.
        inputs = [{key: value for key, value in row.items() if value is not None} for row in rows.to_pylist()]
        results = predict_in_groups(self.predictor, inputs, self.batch_size)
        lines = [dump_line(result).rstrip("\n") for result in results]
        return rows.append_column(PREDICTION_COLUMN, pyarrow.array(lines, pyarrow.string()))


# --- runs --------------------------------------------------------------------------------------

@contextmanager
def ray_session(address: Optional[str], options: WorkerOptions) -> Iterator[None]:
    """Ray for the run: the session already open in this process, else the cluster at `address`
    (or $RAY_ADDRESS), else a local Ray with CPUs for the actors and one more for Ray Data's
    reading tasks, shut down after the run. Offline: usage statistics off, no dashboard."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if ray.is_initialized():
        yield
        return
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, logging_level=logging.WARNING)
    else:
        ray.init(num_cpus=math.ceil(options.num_workers * options.cpus_per_worker) + 1, include_dashboard=False,
                 logging_level=logging.WARNING)
    try:
        yield
    finally:
        ray.shutdown()


def claim_output_dir(output_dir: str, settings: Dict[str, Any]) -> None:
    """Records the settings the outputs depend on, or refuses a folder written with other ones."""
    filesystem, folder = location(output_dir)
    manifest = posixpath.join(folder, MANIFEST)
    recorded = _read_json(filesystem, manifest)
    if recorded is not None:
        differences = [f"{key} {recorded.get(key)!r} there, {settings.get(key)!r} now"
                       for key in sorted(settings.keys() | recorded.keys()) if recorded.get(key) != settings.get(key)]
        if differences:
            raise ValueError(f"{posixpath.join(output_dir, MANIFEST)}: the outputs there were written with other "
                             f"settings ({'; '.join(differences)}); give another --output-dir or the same settings")
        return
    filesystem.create_dir(folder, recursive=True)
    _write_json(filesystem, manifest, settings)


def _read_json(filesystem: fs.FileSystem, path: str) -> Optional[Any]:
    """The JSON file's value, or None where there is no such file."""
    if filesystem.get_file_info(path).type != fs.FileType.File:
        return None
    with filesystem.open_input_stream(path) as stream:
        return json.loads(stream.read())


def _write_json(filesystem: fs.FileSystem, path: str, value: Any) -> None:
    """A JSON file written whole or not at all: under a temporary name, then renamed."""
    temporary = f"{path}{TEMPORARY_MARK}{uuid.uuid4().hex}"
    with filesystem.open_output_stream(temporary) as stream:
        stream.write(json.dumps(value, indent=2).encode("utf-8") + b"\n")
    filesystem.move(temporary, path)


def remove_temporaries(output_dir: str) -> None:
    """Deletes the half-written outputs of workers that died (a new run counts its own deaths)."""
    filesystem, folder = location(output_dir)
    infos = filesystem.get_file_info(fs.FileSelector(folder, recursive=True, allow_not_found=True))
    temporaries = [info.path for info in infos if TEMPORARY_MARK in posixpath.basename(info.path)]
    for path in temporaries:
        filesystem.delete_file(path)
    if temporaries:
        logger.info("%s: removed %d half-written output(s) of workers that died", output_dir, len(temporaries))


def extract_files(archive: Union[str, os.PathLike], source: Union[str, os.PathLike],
                  output_dir: Union[str, os.PathLike], input_format: str = "auto", shard_lines: int = 10_000,
                  options: WorkerOptions = WorkerOptions(), ray_address: Optional[str] = None,
                  extractor_class: Type[ShardExtractor] = ShardExtractor) -> RunSummary:
    """Predicts every line of the input files `source` names into `output_dir` (module docstring);
    says what the outputs hold. `extractor_class`, a subclass of `ShardExtractor`, can change what an
    actor does around each shard."""
    if shard_lines < 1:
        raise ValueError(f"shard_lines must be at least 1, got {shard_lines}")
    archive, output_dir = absolute(archive), absolute(output_dir).rstrip("/")
    if "://" not in archive and not os.path.isfile(archive):  # rather than in every worker, after Ray started
        raise FileNotFoundError(f"{archive}: no such model archive")
    inputs = find_inputs(source, input_format)
    decoding = options.decoding.to_json()  # recorded only when set: folders of the archive's decoding stay valid
    claim_output_dir(output_dir, {"archive": archive, "input_format": input_format, "shard_lines": shard_lines,
                                  "inference_precision": options.inference_precision,
                                  **({"decoding": decoding} if decoding else {})})
    files = input_states(inputs)
    finished = completed_run(output_dir, files)
    if finished is not None:
        return finished
    remove_temporaries(output_dir)
    forget_outputs_of_changed_inputs(output_dir, inputs, files)
    summary, outputs = RunSummary(), []
    with ray_session(ray_address, options):
        shards = ray.data.from_items([asdict(file) for file in inputs]).flat_map(
            plan_shards, fn_kwargs={"output_dir": output_dir, "shard_lines": shard_lines})
        written = shards.map_batches(extractor_class, batch_size=1, batch_format="pyarrow",
                                     **options.map_arguments(archive))
        for shard in written.iter_rows():
            summary.add_shard(shard)
            outputs.append(shard["output"])
    remove_temporaries(output_dir)
    record_completion(output_dir, files, summary, outputs)
    return summary


def input_states(inputs: List[InputFile]) -> List[Dict[str, Any]]:
    """Each input file's path, size and modification time: what a finished run's outputs were made from."""
    states = []
    for file in inputs:
        filesystem, path = location(file.path)
        info = filesystem.get_file_info(path)
        states.append({"path": file.path, "size": info.size, "mtime_ns": info.mtime_ns})
    return states


def _same_content(state: Dict[str, Any], recorded: Dict[str, Any]) -> bool:
    """Whether an input file is as it was: its size and modification time (not its path: a moved folder
    of inputs keeps its outputs)."""
    return (state["size"], state["mtime_ns"]) == (recorded["size"], recorded["mtime_ns"])


def forget_outputs_of_changed_inputs(output_dir: str, inputs: List[InputFile], files: List[Dict[str, Any]]) -> None:
    """Deletes the shard outputs of each input file that changed since they were written (so that they
    are predicted again rather than reused), then records the inputs' states for the next run."""
    filesystem, folder = location(output_dir)
    record_path = posixpath.join(folder, INPUT_RECORD)
    recorded = _read_json(filesystem, record_path) or {}
    for file, state in zip(inputs, files):
        if file.name in recorded and not _same_content(state, recorded[file.name]):
            stale = [info.path for info in filesystem.get_file_info(
                fs.FileSelector(posixpath.join(folder, file.name), allow_not_found=True))
                if info.type == fs.FileType.File and _is_shard_output(posixpath.basename(info.path))]
            for path in stale:
                filesystem.delete_file(path)
            logger.warning("%s changed since its outputs in %s were written: its %d shard output(s) are deleted and "
                           "predicted again", file.path, posixpath.join(output_dir, file.name), len(stale))
        recorded[file.name] = state
    _write_json(filesystem, record_path, recorded)


def completed_run(output_dir: str, files: List[Dict[str, Any]]) -> Optional[RunSummary]:
    """The summary of the run that completed `output_dir` from these very inputs (no modification
    time unknown), when every one of its shards' outputs is still there; else None."""
    filesystem, folder = location(output_dir)
    record = _read_json(filesystem, posixpath.join(folder, COMPLETION))
    if record is None:
        return None
    if record["inputs"] != files or any(file["mtime_ns"] is None for file in files):
        return None
    outputs = [location(output)[1] for output in record["outputs"]]
    if any(info.type != fs.FileType.File for info in filesystem.get_file_info(outputs)):
        return None
    logger.info("%s: completed by an earlier run from the same inputs; nothing to predict", output_dir)
    return RunSummary(**{**record["summary"], "reused": record["summary"]["shards"]})


def record_completion(output_dir: str, files: List[Dict[str, Any]], summary: RunSummary,
                      outputs: List[str]) -> None:
    filesystem, folder = location(output_dir)
    _write_json(filesystem, posixpath.join(folder, COMPLETION),
                {"inputs": files, "summary": asdict(summary), "outputs": sorted(outputs)})


def extract_dataset(dataset: "ray.data.Dataset", archive: Union[str, os.PathLike],
                    options: WorkerOptions = WorkerOptions()) -> "ray.data.Dataset":
    """A Ray `Dataset` of the rows of `dataset`, their columns kept and `prediction` added: the
    result (or error record) of the row read as one input of the predictor (one of the columns
    `sentence`, `document`, `tokens` or `sentences`; the other columns are copied into the
    result, a null is no key), as the JSON line `sinet-extract` would write, without its newline.
    Runs in the Ray session of `dataset`, lazily, as Ray Data does."""
    return dataset.map_batches(RowExtractor, batch_size=options.batch_size, batch_format="pyarrow",
                               **options.map_arguments(absolute(archive)))
