"""The BIO view of a sentence's entities, for taggers (the `cman` model).

A word is tagged `B-<type>` where an entity begins, `I-<type>` inside it, and `O` elsewhere, so BIO
holds only entities that neither overlap nor nest. `flat_entities` chooses which gold entities the
tags keep, by one rule: in order of start, the longer entity first (so the outer entity of a nested
pair), an entity that overlaps one already kept is left out (and so is a second type of a span).
What it leaves out stays gold for the metric, which reads the reader's complete metadata.
"""
from typing import List, Sequence, Tuple

from sinet_allen.schema import NO_ENTITY, Entity

BEGIN, INSIDE = "B-", "I-"
TaggedSpan = Tuple[int, int, str]  # start, end (exclusive), type


def flat_entities(entities: Sequence[Entity]) -> List[Entity]:
    """The entities BIO tags keep, in order of start (see the module docstring for the rule)."""
    kept: List[Entity] = []
    for entity in sorted(entities, key=lambda e: (e.start, e.start - e.end)):
        if not kept or kept[-1].end <= entity.start:
            kept.append(entity)
    return kept


def bio_tags(entities: Sequence[Entity], length: int) -> List[str]:
    """The tags of a sentence of `length` words whose `entities` neither overlap nor nest."""
    tags = [NO_ENTITY] * length
    for entity in entities:
        if any(tag != NO_ENTITY for tag in tags[entity.start : entity.end]):
            raise ValueError(f"{entity} overlaps another entity: BIO cannot hold both")
        width = entity.end - entity.start
        tags[entity.start : entity.end] = [BEGIN + entity.type] + [INSIDE + entity.type] * (width - 1)
    return tags


def bio_spans(tags: Sequence[str]) -> List[TaggedSpan]:
    """The entities a tag sequence holds. A legal sequence (no `I-X` after anything but `B-X` or
    `I-X`, as the CRF's BIO constraints ensure) gives back what `bio_tags` was given; an `I-X`
    that continues nothing is read as the start of an entity."""
    spans: List[TaggedSpan] = []
    for position, tag in enumerate(tags):
        if tag == NO_ENTITY:
            continue
        kind, label = tag[:2], tag[2:]
        continues = spans and spans[-1][1] == position and spans[-1][2] == label
        if kind == INSIDE and continues:
            spans[-1] = (spans[-1][0], position + 1, label)
        else:
            spans.append((position, position + 1, label))
    return spans
