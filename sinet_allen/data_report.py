"""A report on a training-format data file before training: what it holds and what a model trained
on it cannot learn or would learn twice, every problem named by its file and record."""
import contextlib
import itertools
import json
import tarfile
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

from sinet_allen.dataset_readers.formats import read_sentences
from sinet_allen.schema import FormatError, Sentence, TypeInventory
from sinet_allen.dataset_readers.joint_ie import JointIEReader
from sinet_allen.modules.portable_transformer import ENCODER_FOLDER

DEFAULT_MAX_SPAN_SIZE = 8  # the template's, training_config/sinet.libsonnet


@dataclass
class Encoder:
    """What a model accepts: its reader's tokenizer and limits."""

    name: str
    reader: JointIEReader
    max_span_size: int


def encoder_of(model: str) -> Encoder:
    """The encoder of a model archive or serialization folder (from its training config), or of a
    transformer name or path."""
    config = _training_config(Path(model)) or {}
    settings = config.get("validation_dataset_reader") or config.get("dataset_reader") or {}
    transformer = settings.get("transformer_model", model)
    with _archived_encoder(Path(model)) as serialization_dir:  # where the encoder's folder is gone
        reader = JointIEReader(transformer, max_wordpieces=settings.get("max_wordpieces", 512),
                               serialization_dir=serialization_dir)
    return Encoder(transformer, reader, settings.get("max_span_size", DEFAULT_MAX_SPAN_SIZE))


@contextlib.contextmanager
def _archived_encoder(path: Path) -> Iterator[Optional[str]]:
    """A folder holding the model's copy of its encoder files (`encoder/`), if it has one: the
    serialization folder itself, or the copy unpacked from the archive."""
    if path.is_dir():
        yield str(path)
    elif path.is_file() and tarfile.is_tarfile(path):
        with tempfile.TemporaryDirectory() as folder, tarfile.open(path) as archive:
            members = [member for member in archive.getmembers() if member.name.startswith(f"{ENCODER_FOLDER}/")]
            archive.extractall(folder, members, filter="data")
            yield folder
    else:
        yield None


def _training_config(path: Path) -> Optional[Dict[str, Any]]:
    if path.is_file() and tarfile.is_tarfile(path):
        with tarfile.open(path) as archive:
            return json.load(archive.extractfile("config.json"))
    if (path / "config.json").is_file():  # a transformer's folder has one too, without a reader
        return json.loads((path / "config.json").read_text(encoding="utf-8"))
    return None


@dataclass
class DataReport:
    file: str
    max_span_size: int
    encoder: Optional[str] = None
    sentences: int = 0
    documents: int = 0
    words: int = 0
    longest_sentence: int = 0
    entities: Counter = field(default_factory=Counter)
    relations: Counter = field(default_factory=Counter)
    triples: Counter = field(default_factory=Counter)  # "head type / relation / tail type"
    findings: Counter = field(default_factory=Counter)  # nested, overlapping, duplicates, ...
    problems: List[str] = field(default_factory=list)

    def as_json(self) -> Dict[str, Any]:
        return {key: dict(value.most_common()) if isinstance(value, Counter) else value
                for key, value in self.__dict__.items()}


# What a finding means for training; the ones with a message are problems, named per record.
FINDINGS = {
    "nested entities (pairs)": None,
    "overlapping entities (pairs)": None,
    "entities longer than the maximum span size": "entity {} is {} words long: no span of at most {} words "
                                                  "covers it, so the model cannot find it",
    "one span with several entity types": "span {} has the types {}; the model learns the first only",
    "duplicate entities": "entity {} is annotated {} times",
    "duplicate relations": "relation {} is annotated {} times",
    "symmetric relations stored in both orders": "symmetric relation {} is stored in both orders",
    "sentences beyond the encoder's limit": "{}",
    "duplicate sentences": "the same words as {}",
}


def check_data(path: Path, types: Optional[TypeInventory] = None, encoder: Optional[Encoder] = None,
               max_span_size: Optional[int] = None) -> DataReport:
    """The report; the maximum span size is `max_span_size`, else the encoder's model's, else 8."""
    max_span_size = max_span_size or (encoder.max_span_size if encoder else DEFAULT_MAX_SPAN_SIZE)
    report = DataReport(str(path), max_span_size, encoder.name if encoder else None)
    for finding in FINDINGS:
        report.findings[finding] = 0
    seen: Dict[tuple, str] = {}
    documents = set()
    symmetric = types.symmetric if types else frozenset()
    for n, sentence in enumerate(read_sentences(path, types=types, strict=False, on_skip=report.problems.append)):
        report.sentences += 1
        documents.add(sentence.doc_key if sentence.doc_key is not None else n)
        report.words += len(sentence.tokens)
        report.longest_sentence = max(report.longest_sentence, len(sentence.tokens))
        _count(sentence, report, symmetric)
        key = tuple(sentence.tokens)
        if key in seen:
            _problem(report, "duplicate sentences", sentence, seen[key])
        seen.setdefault(key, sentence.source)
        if encoder:
            try:
                encoder.reader.encode(sentence)
            except FormatError as error:
                report.findings["sentences beyond the encoder's limit"] += 1
                report.problems.append(str(error))
    report.documents = len(documents)
    return report


def _problem(report: DataReport, finding: str, sentence: Sentence, *details: Any) -> None:
    report.findings[finding] += 1
    report.problems.append(f"{sentence.source}: {FINDINGS[finding].format(*details)}")


def _count(sentence: Sentence, report: DataReport, symmetric) -> None:
    entities = sentence.entities
    spans = Counter((e.start, e.end, e.type) for e in entities)
    for e in entities:
        report.entities[e.type] += 1
        if e.end - e.start > report.max_span_size:
            _problem(report, "entities longer than the maximum span size", sentence, _name(sentence, e),
                     e.end - e.start, report.max_span_size)
    for (start, end, label), number in spans.items():
        if number > 1:
            _problem(report, "duplicate entities", sentence, f"[{start}, {end}) {label}", number)
    types_per_span: Dict[tuple, List[str]] = {}
    for start, end, label in spans:
        types_per_span.setdefault((start, end), []).append(label)
    for span, labels in types_per_span.items():
        if len(labels) > 1:
            _problem(report, "one span with several entity types", sentence, f"[{span[0]}, {span[1]})", labels)
    for a, b in itertools.combinations(sorted(types_per_span), 2):
        if a[0] < b[1] and b[0] < a[1]:  # they share a word
            inside = (a[0] <= b[0] and b[1] <= a[1]) or (b[0] <= a[0] and a[1] <= b[1])
            report.findings["nested entities (pairs)" if inside else "overlapping entities (pairs)"] += 1
    triples = Counter()
    for r in sentence.relations:
        head, tail = entities[r.head], entities[r.tail]
        report.relations[r.type] += 1
        report.triples[f"{head.type} / {r.type} / {tail.type}"] += 1
        triples[(head.start, head.end), (tail.start, tail.end), r.type] += 1
    for (head, tail, label), number in triples.items():
        name = f"{label} [{head[0]}, {head[1]}) -> [{tail[0]}, {tail[1]})"
        if number > 1:
            _problem(report, "duplicate relations", sentence, name, number)
        if label in symmetric and head < tail and (tail, head, label) in triples:
            _problem(report, "symmetric relations stored in both orders", sentence, name)


def _name(sentence: Sentence, entity) -> str:
    return f"[{entity.start}, {entity.end}) {entity.type} {' '.join(sentence.tokens[entity.start:entity.end])!r}"


def format_report(report: DataReport, problems_shown: int = 20) -> str:
    lines = [f"{report.file}: {report.sentences} sentences in {report.documents} documents, {report.words} words "
             f"(longest sentence {report.longest_sentence})",
             f"maximum span size {report.max_span_size}; encoder "
             + (report.encoder or "not given (--model checks the sentences' wordpieces against its limit)")]
    for title, counts in (("entities", report.entities), ("relations", report.relations),
                          ("head type / relation / tail type", report.triples)):
        lines.append(f"{title} ({sum(counts.values())}):")
        lines += [f"  {count:6d}  {name}" for name, count in counts.most_common()]
    lines.append("findings:")
    lines += [f"  {count:6d}  {name}" for name, count in report.findings.items()]
    lines.append(f"problems ({len(report.problems)}):")
    lines += [f"  {problem}" for problem in report.problems[:problems_shown]]
    if len(report.problems) > problems_shown:
        lines.append(f"  ... and {len(report.problems) - problems_shown} more (all of them in --json)")
    return "\n".join(lines)
