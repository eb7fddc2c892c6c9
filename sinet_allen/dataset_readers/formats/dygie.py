"""DyGIE-style data: JSON lines, one document per line, inclusive ends, document-level offsets."""
import json
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional, TextIO, Tuple

from sinet_allen.dataset_readers.formats.records import (ENCODING, SAME_SPAN, InvalidRecord, Skips, check_tokens,
                                                         checked_label, is_int, kind_of, not_utf8)
from sinet_allen.files import atomic_output
from sinet_allen.schema import Entity, Relation, Sentence, group_documents


def read_dygie(path, types, skips: Skips) -> Iterator[Sentence]:
    name, kept = Path(path).name, 0
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                doc_key, sentences, ner, relations = _dygie_document(json.loads(line.decode(ENCODING)))
            except UnicodeDecodeError as e:
                skips.bad(f"{path}, line {lineno}: {not_utf8(e)}")
                continue
            except json.JSONDecodeError as e:
                skips.bad(f"{path}, line {lineno}: malformed JSON at column {e.colno}: {e.msg}")
                continue
            except InvalidRecord as e:
                skips.bad(f"{path}, line {lineno}: {e}")
                continue
            doc_length = sum(len(tokens) for tokens in sentences)
            offset = 0
            for k, tokens in enumerate(sentences):
                where = f"line {lineno}, sentence {k}"
                try:
                    sentence = _dygie_sentence(tokens, ner[k], relations[k], k, offset, doc_length,
                                               types)
                except InvalidRecord as e:
                    skips.bad(f"{path}, {where}: {e}")
                else:
                    sentence.source, sentence.doc_key = f"{name}, {where}", doc_key
                    kept += 1
                    yield sentence
                offset += len(tokens)
    skips.finish(kept)


def _dygie_document(doc: Any) -> Tuple[Optional[str], list, list, list]:
    """Document-level structure; problems here make the whole line unusable."""
    if not isinstance(doc, dict):
        raise InvalidRecord(f"expected a document object, got {kind_of(doc)}")
    if "sentences" not in doc:
        raise InvalidRecord("missing 'sentences'")
    sentences = doc["sentences"]
    if not isinstance(sentences, list):
        raise InvalidRecord(f"'sentences' must be a list of token lists, got {kind_of(sentences)}")
    for k, tokens in enumerate(sentences):
        # A sentence of unknown length would shift the offsets of every later sentence.
        if not isinstance(tokens, list):
            raise InvalidRecord(f"sentences[{k}] must be a list of tokens, got {kind_of(tokens)}")
    per_sentence = []
    for key in ("ner", "relations"):
        value = doc.get(key)
        if value is None:
            value = [[] for _ in sentences]
        elif not isinstance(value, list) or len(value) != len(sentences):
            raise InvalidRecord(f"'{key}' must be a list with one list per sentence "
                           f"({len(sentences)}), got {kind_of(value)}"
                           + (f" of {len(value)}" if isinstance(value, list) else ""))
        per_sentence.append(value)
    doc_key = doc.get("doc_key")
    return (None if doc_key is None else str(doc_key)), sentences, per_sentence[0], per_sentence[1]


def _dygie_sentence(tokens: Any, ner: Any, relations: Any, k: int, offset: int, doc_length: int,
                    types) -> Sentence:
    tokens = check_tokens(tokens)
    last = offset + len(tokens) - 1  # inclusive document offset of the sentence's last token

    def span(start: Any, end: Any, where: str) -> Tuple[int, int]:
        if not (is_int(start) and is_int(end)):
            raise InvalidRecord(f"{where}: span offsets must be integers, got [{start!r}, {end!r}]")
        if start > end:
            raise InvalidRecord(f"{where}: start {start} > end {end} (the end is inclusive)")
        if start < offset or end > last:
            if start < 0 or end >= doc_length:
                raise InvalidRecord(f"{where}: span [{start}, {end}] lies outside the document "
                               f"({doc_length} tokens)")
            if start <= last and end >= offset:
                raise InvalidRecord(f"{where}: span [{start}, {end}] crosses a sentence boundary "
                               f"(sentence {k} covers document tokens {offset}..{last})")
            covers = f"covers document tokens {offset}..{last}" if tokens else "is empty"
            raise InvalidRecord(f"{where}: span [{start}, {end}] lies outside sentence {k}, "
                           f"which {covers}")
        return start, end

    if not isinstance(ner, list):
        raise InvalidRecord(f"ner[{k}] must be a list, got {kind_of(ner)}")
    if not isinstance(relations, list):
        raise InvalidRecord(f"relations[{k}] must be a list, got {kind_of(relations)}")
    entities, by_span = [], {}
    for j, item in enumerate(ner):
        where = f"ner[{k}][{j}]"
        if not isinstance(item, list) or len(item) != 3:
            raise InvalidRecord(f"{where}: expected [start, end, label], got {item!r}")
        start, end = span(item[0], item[1], where)
        by_span.setdefault((start, end), len(entities))  # relations refer to the first match
        entities.append(Entity(start - offset, end - offset + 1, checked_label(item[2], types, "entity",
                                                                        where)))
    rels = []
    for j, item in enumerate(relations):
        where = f"relations[{k}][{j}]"
        if not isinstance(item, list) or len(item) != 5:
            raise InvalidRecord(f"{where}: expected [start1, end1, start2, end2, label], got {item!r}")
        ends = []
        for role, (start, end) in (("head", item[0:2]), ("tail", item[2:4])):
            start, end = span(start, end, f"{where} {role}")
            if (start, end) not in by_span:
                raise InvalidRecord(f"{where}: {role} span [{start}, {end}] is no entity "
                               f"of sentence {k}")
            ends.append(by_span[start, end])
        if ends[0] == ends[1]:
            raise InvalidRecord(f"{where}: {SAME_SPAN} [{item[0]}, {item[1]}]")
        rels.append(Relation(ends[0], ends[1], checked_label(item[4], types, "relation", where)))
    return Sentence(tokens, entities, rels, source="", sentence_index=k)


def write_dygie(sentences: Iterable[Sentence], path) -> None:
    """Write DyGIE-style JSON lines: inclusive ends, document-level offsets."""

    def write(f: TextIO) -> None:
        for doc_key, group in group_documents(sentences):
            ner, relations, offset = [], [], 0
            for s in group:
                spans = [(e.start + offset, e.end + offset - 1) for e in s.entities]
                ner.append([[a, b, e.type] for (a, b), e in zip(spans, s.entities)])
                relations.append([[*spans[r.head], *spans[r.tail], r.type] for r in s.relations])
                offset += len(s.tokens)
            doc = {"doc_key": doc_key, "sentences": [s.tokens for s in group], "ner": ner,
                   "relations": relations}
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")

    with atomic_output(path) as file:
        write(file)
