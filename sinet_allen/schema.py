"""The library's domain types: a sentence with its entities and relations, the type inventory, and
the one canonical order of a relation. Every file format is parsed into these types and written from
them (`dataset_readers/formats/`); the reader, the models and the metric read only these."""
from dataclasses import dataclass
from typing import Callable, Collection, FrozenSet, Iterable, Iterator, List, Optional, Tuple, TypeVar

NO_ENTITY = "O"  # the label of a span that is no entity: reserved, no entity type may take it


class FormatError(ValueError):
    """A data or types file that does not follow its format (the message says where and why)."""


@dataclass(frozen=True)
class Entity:
    start: int  # first word, sentence-relative
    end: int  # one past the last word
    type: str


@dataclass(frozen=True)
class Relation:
    head: int  # index into Sentence.entities
    tail: int
    type: str


@dataclass
class Sentence:
    tokens: List[str]
    entities: List[Entity]
    relations: List[Relation]
    source: str  # "test.json, record 12" / "test.jsonl, line 3, sentence 2"
    doc_key: Optional[str] = None  # DyGIE doc_key, or the SpERT record's doc_key, else its orig_id
    sentence_index: int = 0  # position inside its document (DyGIE); 0 for SpERT records


@dataclass(frozen=True)
class TypeInventory:
    entity_types: Tuple[str, ...]
    relation_types: Tuple[str, ...]
    symmetric: FrozenSet[str] = frozenset()

    def canonical_entity(self, label: str) -> Optional[str]:
        return _match(label, self.entity_types)

    def canonical_relation(self, label: str) -> Optional[str]:
        return _match(label, self.relation_types)


def _match(label: str, declared: Tuple[str, ...]) -> Optional[str]:
    # Case-insensitive: SciERC's DyGIE files say "USED-FOR" where its types.json says "Used-for".
    folded = label.casefold()
    return next((name for name in declared if name.casefold() == folded), None)


Mention = Tuple[int, int, str]  # (start, end, type) of an entity
T = TypeVar("T")


def canonical_relation(head: T, tail: T, label: str, symmetric: Collection[str],
                       mention: Callable[[T], Mention] = lambda item: item) -> Tuple[T, T]:
    """The order in which a relation is stored, decoded and scored: a relation of a symmetric type
    has its head before its tail by (start, end, type), the mention `mention` gives for each end;
    any other relation keeps its direction. The reader's gold, the model's decoding and the metric
    all call this, so that they agree on which order of a symmetric pair is the one."""
    if label in symmetric and mention(tail) < mention(head):
        return tail, head
    return head, tail


def group_documents(sentences: Iterable[Sentence]) -> Iterator[Tuple[str, List[Sentence]]]:
    """Group consecutive sentences sharing a doc_key; a sentence without one is its own document."""
    key, group, name = None, [], ""
    for n, sentence in enumerate(sentences):
        if group and (sentence.doc_key is None or sentence.doc_key != key):
            yield name, group
            group = []
        if not group:
            key = sentence.doc_key
            name = key if key is not None else f"sentence-{n}"
        group.append(sentence)
    if group:
        yield name, group
