"""brat standoff: a folder of `NAME.txt` texts with `NAME.ann` annotations beside them.

Read: text-bound annotations (`T`) become entities, binary relations (`R`, first argument the head)
relations, and equivalences (`*`) relations between each pair of their members, their type counted
as symmetric. A discontinuous entity (`T1 Type 0 4;9 15`) becomes its full extent (0..15), named
in the report. Events (`E`; their triggers are `T` lines, kept as entities), attributes (`A`, `M`),
normalisations (`N`) and notes (`#`) have no place in the training formats: they are counted.

Write: one `.txt` and `.ann` per document (e.g. model predictions for annotators to correct), and
an `annotation.conf` declaring the types when the folder has none. The text is the document's own
raw text where the input holds it (predictions of raw text: `texts`), else its original `.txt` from
`text_dir` when there is one, else its tokens joined by spaces, a sentence a line.
"""
import re
from pathlib import Path, PurePosixPath
from typing import Dict, Iterable, List, Optional, Set, Tuple

from sinet_allen.conversion.annotated_text import AnnotatedText, CharEntity, CharRelation
from sinet_allen.conversion.report import ConversionReport
from sinet_allen.conversion.source_files import read_utf8
from sinet_allen.schema import FormatError, Sentence, group_documents
from sinet_allen.files import atomic_output

NOT_CONVERTED = {"E": "brat events (their trigger entities are kept)", "A": "brat attributes",
                 "M": "brat attributes", "N": "brat normalisations", "#": "brat notes"}
_FRAGMENT = re.compile(r"^(\d+) (\d+)$")
_LINE = re.compile(r"[^\r\n]+")


# ----------------------------------------------------------------------------- reading


def read_brat(folder: Path, report: ConversionReport) -> Tuple[List[AnnotatedText], Set[str]]:
    """The folder's documents (every `.txt`, with or without an `.ann`) and the equivalence types."""
    if not folder.is_dir():
        raise FormatError(f"{folder}: a brat input must be a folder of .txt and .ann files")
    texts = sorted(folder.rglob("*.txt"))
    for ann in sorted(folder.rglob("*.ann")):
        if not ann.with_suffix(".txt").is_file():
            raise FormatError(f"{ann}: there is no {ann.with_suffix('.txt').name} beside it")
    if not texts:
        raise FormatError(f"{folder}: holds no .txt file")
    documents, symmetric = [], set()
    for path in texts:
        key = path.relative_to(folder).with_suffix("").as_posix()
        document = AnnotatedText(key, read_utf8(path))
        ann = path.with_suffix(".ann")
        if ann.is_file():
            symmetric |= _read_ann(ann, document, report)
        documents.append(document)
    return documents, symmetric


def _read_ann(path: Path, document: AnnotatedText, report: ConversionReport) -> Set[str]:
    symmetric, events = set(), set()
    for number, line in enumerate(read_utf8(path).split("\n"), 1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            kind = line[0]
            if kind == "T":
                document.entities.append(_entity(line, document.text, where, report))
            elif kind == "R":
                document.relations.append(_relation(line, where))
            elif kind == "*":
                document.relations.extend(_equivalence(line, where))
                symmetric.add(document.relations[-1].type)
            elif kind in NOT_CONVERTED:
                report.count(NOT_CONVERTED[kind])
                if kind == "E":
                    events.add(line.split("\t", 1)[0])
            else:
                raise ValueError(f"a line must start with T, R, *, E, A, M, N or #, got {line[:20]!r}")
        except ValueError as error:
            report.bad(f"{where}: {error}")
    _check_arguments(document, events, path, report)
    return symmetric


def _fields(line: str, count: int, form: str) -> List[str]:
    fields = line.rstrip("\r").split("\t", count - 1)  # the last field (an entity's text) may hold tabs
    if len(fields) < count:
        raise ValueError(f"expected {form} (tab-separated), got {line!r}")
    return fields


def _entity(line: str, text: str, where: str, report: ConversionReport) -> CharEntity:
    identifier, annotation, surface = _fields(line, 3, "'ID<tab>TYPE START END<tab>TEXT'")[:3]
    label, _, offsets = annotation.partition(" ")
    fragments = []
    for fragment in offsets.split(";"):
        match = _FRAGMENT.match(fragment.strip())
        if not label or not match:
            raise ValueError(f"expected 'TYPE START END[;START END...]', got {annotation!r}")
        start, end = int(match[1]), int(match[2])
        if not start < end <= len(text):
            raise ValueError(f"offsets {start} {end} lie outside the text ({len(text)} characters) "
                             "or are empty")
        fragments.append((start, end))
    stored = " ".join(text[start:end] for start, end in fragments)
    if surface != stored:  # wrong offsets, e.g. counted after converting "\r\n" to "\n"
        raise ValueError(f"the annotation's text {surface!r} differs from the characters at its "
                         f"offsets, {stored!r}")
    entity = CharEntity(identifier, fragments[0][0], max(end for _, end in fragments), label, where)
    if len(fragments) > 1:
        report.change("discontinuous entities taken as their full extent",
                      f"{where}: {label} {surface!r} -> {text[entity.start:entity.end]!r}")
    return entity


def _relation(line: str, where: str) -> CharRelation:
    arguments = _fields(line, 2, "'ID<tab>TYPE Arg1:ID Arg2:ID'")[1].split()
    if len(arguments) != 3 or not all(":" in argument for argument in arguments[1:]):
        raise ValueError(f"expected 'TYPE Arg1:ID Arg2:ID', got {' '.join(arguments)!r}")
    head, tail = (argument.split(":", 1)[1] for argument in arguments[1:])
    return CharRelation(head, tail, arguments[0], where)


def _equivalence(line: str, where: str) -> List[CharRelation]:
    label, *members = _fields(line, 2, "'*<tab>TYPE ID ID...'")[1].split()
    if len(members) < 2:
        raise ValueError(f"an equivalence needs a type and at least two members, got {line!r}")
    return [CharRelation(a, b, label, where) for i, a in enumerate(members) for b in members[i + 1:]]


def _check_arguments(document: AnnotatedText, events: Set[str], path: Path, report: ConversionReport) -> None:
    """Relations of events are counted as left out; relations to nothing are bad records."""
    entities = {entity.id for entity in document.entities}
    kept = []
    for relation in document.relations:
        missing = [arg for arg in (relation.head, relation.tail) if arg not in entities]
        if any(arg in events for arg in missing):
            report.drop("relations with an event argument", f"{relation.where}: {relation.type}")
        elif missing:
            report.bad(f"{relation.where}: the relation refers to {missing[0]}, which is no text-bound "
                       f"annotation (T) of {path.name}")
        else:
            kept.append(relation)
    document.relations = kept


# ----------------------------------------------------------------------------- writing


def write_brat(sentences: Iterable[Sentence], folder: Path, text_dir: Path = None,
               symmetric: Iterable[str] = (), texts: Optional[Dict[str, str]] = None) -> int:
    """Writes the documents' `.txt` and `.ann` files; returns how many documents it wrote. All
    files are built before the first is written, so bad input leaves none behind."""
    symmetric = set(symmetric)
    files: Dict[Path, str] = {}
    entity_types, relation_types = {}, {}
    for key, group in group_documents(sentences):
        relative = _relative_path(key)
        text = _document_text(key, group, (texts or {}).get(key),
                              text_dir / relative.with_suffix(".txt") if text_dir else None)
        files[folder / relative.with_suffix(".txt")] = text
        files[folder / relative.with_suffix(".ann")] = _ann(group, text, key, symmetric)
        for sentence in group:
            entity_types.update(dict.fromkeys(entity.type for entity in sentence.entities))
            relation_types.update(dict.fromkeys(relation.type for relation in sentence.relations))
    if not (folder / "annotation.conf").exists():
        files[folder / "annotation.conf"] = _annotation_conf(entity_types, relation_types, symmetric)
    for path, content in files.items():
        with atomic_output(path) as file:
            file.write(content)
    return len([path for path in files if path.suffix == ".ann"])


def _document_text(key: str, group: List[Sentence], own: Optional[str], original: Optional[Path]) -> str:
    """The document's own text, else its original file, else its tokens joined by spaces."""
    if own is not None:
        return own
    if original is not None and original.is_file():
        return read_utf8(original)
    return "\n".join(" ".join(sentence.tokens) for sentence in group) + "\n"


def _relative_path(key: str) -> PurePosixPath:
    relative = PurePosixPath(key + ".txt")  # a suffix of its own: a key may hold dots
    if relative.is_absolute() or ".." in relative.parts:
        raise FormatError(f"document key {key!r} would be written outside the output folder")
    return relative.with_suffix("")


def _ann(group: List[Sentence], text: str, key: str, symmetric: Set[str]) -> str:
    """T lines for the entities, R lines for the relations (`*` for a symmetric type)."""
    lines, entities, relations = [], 0, 0
    words = _word_spans(group, text, key)
    for sentence, spans in zip(group, words):
        first = entities + 1  # the T number of the sentence's first entity
        for entity in sentence.entities:
            entities += 1
            fragments = _line_fragments(text, spans[entity.start][0], spans[entity.end - 1][1])
            offsets = ";".join(f"{start} {end}" for start, end in fragments)
            surface = " ".join(text[start:end] for start, end in fragments)
            lines.append(f"T{entities}\t{entity.type} {offsets}\t{surface}")
        for relation in sentence.relations:
            head, tail = first + relation.head, first + relation.tail
            if relation.type in symmetric:
                lines.append(f"*\t{relation.type} T{head} T{tail}")
            else:
                relations += 1
                lines.append(f"R{relations}\t{relation.type} Arg1:T{head} Arg2:T{tail}")
    return "".join(line + "\n" for line in lines)


def _line_fragments(text: str, start: int, end: int) -> List[Tuple[int, int]]:
    """The characters [start, end) as brat fragments, one per line they touch: an entity of an
    original text may cross a line break, which a line of an `.ann` file cannot hold."""
    return [(start + match.start(), start + match.end()) for match in _LINE.finditer(text[start:end])]


def _word_spans(group: List[Sentence], text: str, key: str) -> List[List[Tuple[int, int]]]:
    """Per sentence, the characters of each word: the words are found in order in the text, with
    only whitespace between them."""
    position, result = 0, []
    for sentence in group:
        spans = []
        for word in sentence.tokens:
            start = text.find(word, position)
            if start < 0 or text[position:start].strip():
                raise FormatError(f"document {key}, {sentence.source}: the word {word!r} does not follow "
                                  f"character {position} of the text; is it the text that was tokenised?")
            position = start + len(word)
            spans.append((start, position))
        result.append(spans)
    return result


def _annotation_conf(entity_types: Dict[str, None], relation_types: Dict[str, None], symmetric: Set[str]) -> str:
    relations = [f"{name}\tArg1:<ENTITY>, Arg2:<ENTITY>"
                 + (", <REL-TYPE>:symmetric-transitive" if name in symmetric else "")
                 for name in relation_types]
    return "\n".join(["[entities]", *entity_types, "", "[relations]", *relations, "", "[events]", "",
                      "[attributes]", ""])
