"""Annotations over raw text (brat, doccano, Label Studio) to word-level `Sentence`s.

The rules, the same for every raw-text format:
* the text is tokenised and split into sentences by `sinet_allen.text`, the predictor's pipeline;
* whitespace at an entity's edges is trimmed (annotators often select a trailing space);
* a token that an entity starts or ends inside is split there, so that no entity is shifted;
* sentences that an entity crosses are merged into one, so that no entity is cut;
* an entity annotated twice with the same span and type is kept once;
* a relation whose two entities lie in different sentences is dropped (the training formats hold
  relations within a sentence), as is a duplicate and one between two mentions of the same span.
Every change and drop is named in the `ConversionReport`.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set, Tuple

from sinet_allen.conversion.report import ConversionReport
from sinet_allen.schema import Entity, Relation, Sentence
from sinet_allen.text import CharSpan, sentence_token_spans


@dataclass(frozen=True)
class CharEntity:
    id: str
    start: int  # characters, end exclusive
    end: int
    type: str
    where: str  # "doc.ann, line 3"


@dataclass(frozen=True)
class CharRelation:
    head: str  # CharEntity.id
    tail: str
    type: str
    where: str


@dataclass
class AnnotatedText:
    key: str  # the document's name: a brat file's path without .txt, a doccano or Label Studio id
    text: str
    entities: List[CharEntity] = field(default_factory=list)
    relations: List[CharRelation] = field(default_factory=list)


def describe(entity: CharEntity, text: str) -> str:
    return f"{entity.where}: {entity.type} {text[entity.start:entity.end]!r}"


def to_sentences(document: AnnotatedText, report: ConversionReport) -> List[Sentence]:
    entities = [trimmed for entity in document.entities
                if (trimmed := _trim(entity, document.text, report)) is not None]
    edges = {offset for entity in entities for offset in (entity.start, entity.end)}
    sentences = _merge_crossed(_split_at(sentence_token_spans(document.text), edges, document, report),
                               entities, document, report)
    words = [[document.text[start:end] for start, end in spans] for spans in sentences]
    located, built = _place_entities(entities, sentences, document.text, report)
    relations = _place_relations(document, located, built, report)
    return [Sentence(words[k], built[k], relations[k], source=f"{document.key}, sentence {k}",
                     doc_key=document.key, sentence_index=k) for k in range(len(sentences))]


def _trim(entity: CharEntity, text: str, report: ConversionReport) -> Optional[CharEntity]:
    start, end = entity.start, entity.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end:
        report.drop("entities that cover only whitespace", describe(entity, text))
        return None
    if (start, end) != (entity.start, entity.end):
        report.change("entities with whitespace at an edge, trimmed", describe(entity, text))
    return CharEntity(entity.id, start, end, entity.type, entity.where)


def _split_at(sentences: List[List[CharSpan]], edges: Set[int], document: AnnotatedText,
              report: ConversionReport) -> List[List[CharSpan]]:
    """Each token cut at the entity edges that fall inside it."""
    result = []
    for spans in sentences:
        pieces = []
        for start, end in spans:
            cuts = sorted(offset for offset in edges if start < offset < end)
            if cuts:
                report.change("tokens split at an entity edge inside them",
                              f"{document.key}: {document.text[start:end]!r} at character {start}")
            bounds = [start, *cuts, end]
            pieces.extend(zip(bounds, bounds[1:]))
        result.append(pieces)
    return result


def _merge_crossed(sentences: List[List[CharSpan]], entities: Sequence[CharEntity], document: AnnotatedText,
                   report: ConversionReport) -> List[List[CharSpan]]:
    """Sentences joined into one where an entity crosses the boundary between them."""
    ends = [spans[-1][1] for spans in sentences]  # character end of each sentence
    joined = set()  # k: sentence k is merged with sentence k + 1
    for entity in entities:
        first = next(k for k, end in enumerate(ends) if entity.start < end)
        last = next(k for k, end in enumerate(ends) if entity.end <= end)
        if last > first:
            report.change("sentences merged because an entity crosses the sentence splitter's boundary",
                          describe(entity, document.text))
            joined.update(range(first, last))
    merged = []
    for k, spans in enumerate(sentences):
        if k - 1 in joined:
            merged[-1] = merged[-1] + spans
        else:
            merged.append(spans)
    return merged


def _place_entities(entities: Sequence[CharEntity], sentences: List[List[CharSpan]], text: str,
                    report: ConversionReport) -> Tuple[Dict[str, Tuple[int, int]], List[List[Entity]]]:
    """The sentence's word-level entities and, per entity id, its (sentence, index)."""
    starts, ends = {}, {}
    for k, spans in enumerate(sentences):
        for j, (start, end) in enumerate(spans):
            starts[start], ends[end] = (k, j), (k, j + 1)
    built: List[List[Entity]] = [[] for _ in sentences]
    located: Dict[str, Tuple[int, int]] = {}
    for entity in entities:
        (k, first), (_, last) = starts[entity.start], ends[entity.end]  # edges are token edges now
        word_entity = Entity(first, last, entity.type)
        if word_entity in built[k]:
            report.drop("entities annotated twice with the same span and type (kept once)",
                        describe(entity, text))
        else:
            built[k].append(word_entity)
        located[entity.id] = (k, built[k].index(word_entity))
    return located, built


def _place_relations(document: AnnotatedText, located: Dict[str, Tuple[int, int]], built: List[List[Entity]],
                     report: ConversionReport) -> List[List[Relation]]:
    relations: List[List[Relation]] = [[] for _ in built]
    for relation in document.relations:
        name = f"{relation.where}: {relation.type} {relation.head} -> {relation.tail}"
        if relation.head not in located or relation.tail not in located:
            report.drop("relations of a dropped entity", name)
            continue
        (k, head), (k_tail, tail) = located[relation.head], located[relation.tail]
        if k != k_tail:
            report.drop("relations across sentences", f"{name} (sentences {k} and {k_tail})")
        elif _span(built[k][head]) == _span(built[k][tail]):
            report.drop("relations between two mentions of the same span", name)
        elif Relation(head, tail, relation.type) in relations[k]:
            report.drop("relations annotated twice", name)
        else:
            relations[k].append(Relation(head, tail, relation.type))
    return relations


def _span(entity: Entity) -> Tuple[int, int]:
    return entity.start, entity.end
