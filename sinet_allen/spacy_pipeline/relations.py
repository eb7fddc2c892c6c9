"""Relations on a spaCy `Doc`: the `doc._.sinet_relations` extension.

The `sinet` component stores a Doc's relations as plain data in `doc.user_data`, under
`RELATIONS_DATA` ("sinet_relations"): per spans key, a list of `[head, tail, label, score]`, where
`head` and `tail` index the entities in `doc.spans[key]` as the component wrote them. Integers,
strings and floats travel wherever `user_data` travels: `Doc.to_bytes`/`from_bytes`, `Doc.to_disk`,
`DocBin(store_user_data=True)`, and `nlp.pipe(..., n_process>1)` (whose workers send the Docs back
as bytes). The extension's getter turns the rows into `Relation`s holding the head and tail `Span`s.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence, Union

from spacy.tokens import Doc, Span

RELATIONS_DATA = "sinet_relations"  # the key in doc.user_data
EXTENSION = "sinet_relations"  # doc._.sinet_relations

RelationRow = List[Union[int, str, float]]  # [head, tail, label, score]


@dataclass(frozen=True)
class Relation:
    """A relation between two entities of a Doc's span group; `score` is the model's probability."""

    head: Span
    tail: Span
    label: str
    score: float


def store_relations(doc: Doc, spans_key: str, rows: Sequence[RelationRow]) -> None:
    """Keeps `rows` ([head, tail, label, score], indices into `doc.spans[spans_key]`) on the Doc,
    replacing those stored for that key before."""
    doc.user_data.setdefault(RELATIONS_DATA, {})[spans_key] = [list(row) for row in rows]


def relations_of(doc: Doc, spans_key: Optional[str] = None) -> List[Relation]:
    """The Doc's relations under `spans_key`, or under every key the component wrote (in the
    order they were written) when it is None; the getter of `doc._.sinet_relations`."""
    stored = doc.user_data.get(RELATIONS_DATA, {})
    keys = list(stored) if spans_key is None else [spans_key]
    relations = []
    for key in keys:
        entities = doc.spans[key]
        for head, tail, label, score in stored.get(key, []):
            relations.append(Relation(entities[head], entities[tail], label, score))
    return relations


if not Doc.has_extension(EXTENSION):
    Doc.set_extension(EXTENSION, getter=relations_of)
