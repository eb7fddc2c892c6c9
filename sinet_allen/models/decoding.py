"""Decoding: from a model's scores to the entities and relations of each sentence, as Python lists.

Pure functions over tensors, shared by the library's models (`sinet`, `cman`) and tested on their
own. They turn whole tensors into lists at once: element-wise tensor access would dominate inference
time on sentences with many entities or relations.

The decoded form of a sentence is a list of entities `(start, end, type, score)` (word offsets, end
exclusive) and a list of relations `(head, tail, type, score)` whose head and tail index the
sentence's entities; `decoded_output` gives the output keys every consumer reads.
"""
from typing import Any, Callable, Collection, Dict, Iterable, List, Mapping, Tuple

import torch

from sinet_allen.schema import Mention, canonical_relation

DecodedEntity = Tuple[int, int, str, float]  # start, end (exclusive), type, score
DecodedRelation = Tuple[int, int, str, float]  # head, tail (indices into the sentence's entities), type, score


def decoded_output(entities: List[List[DecodedEntity]], relations: List[List[DecodedRelation]]) -> Dict[str, Any]:
    """The output keys of decoded sentences: `entities`, `relations` (dicts), `entity_triples` and
    `relation_triples` (for the metric)."""
    return {
        "entities": [[{"start": s, "end": e, "type": t, "score": p} for s, e, t, p in sentence]
                     for sentence in entities],
        "relations": [[{"head": h, "tail": t, "type": r, "score": p} for h, t, r, p in sentence]
                      for sentence in relations],
        "entity_triples": [[entity[:3] for entity in sentence] for sentence in entities],
        "relation_triples": [[(ents[h][:3], ents[t][:3], r) for h, t, r, _ in sentence]
                             for ents, sentence in zip(entities, relations)],
    }


def best_relations(found: Iterable[DecodedRelation], symmetric: Collection[str],
                   mention: Callable[[int], Mention]) -> List[DecodedRelation]:
    """The relations `found` in a sentence, symmetric types head-before-tail (`mention` gives an
    entity index's (start, end, type)), each once with its best score, in order."""
    best: Dict[Tuple[int, int, str], float] = {}
    for head, tail, label, score in found:
        head, tail = canonical_relation(head, tail, label, symmetric, mention=mention)
        best[(head, tail, label)] = max(best.get((head, tail, label), 0.0), score)
    return [(*key, score) for key, score in sorted(best.items())]


def drop_overlaps(keep: torch.BoolTensor, scores: torch.Tensor, spans: torch.LongTensor) -> torch.BoolTensor:
    """Flat decoding: `keep [batch, n]` without the spans that overlap a better-scored kept span of
    their sentence (spans taken best score first; ties keep the earlier span)."""
    sentences, indices = keep.nonzero(as_tuple=True)
    bounds, sentence_of = spans[sentences, indices].tolist(), sentences.tolist()
    taken: Dict[int, List[Tuple[int, int]]] = {}
    dropped = []
    for i in scores[sentences, indices].argsort(descending=True, stable=True).tolist():
        (start, end), sentence = bounds[i], sentence_of[i]
        if any(start < other_end and other_start < end for other_start, other_end in taken.get(sentence, [])):
            dropped.append(i)
        else:
            taken.setdefault(sentence, []).append((start, end))
    keep = keep.clone()
    keep[sentences[dropped], indices[dropped]] = False
    return keep


def decode_entities(keep: torch.BoolTensor, spans: torch.LongTensor, labels: torch.LongTensor,
                    scores: torch.Tensor, names: Mapping[int, str]) -> List[List[DecodedEntity]]:
    """Per sentence its kept spans, in span order, as (start, end, type, score); `names` maps a
    label index to its type."""
    entities: List[List[DecodedEntity]] = [[] for _ in range(keep.size(0))]
    sentences = keep.nonzero()[:, 0].tolist()
    for sentence, (start, end), label, score in zip(
        sentences, spans[keep].tolist(), labels[keep].tolist(), scores[keep].tolist()
    ):
        entities[sentence].append((start, end, names[label], score))
    return entities


def relation_candidates(scores: torch.Tensor, keep: torch.BoolTensor,
                        limit: int) -> Tuple[torch.LongTensor, torch.BoolTensor]:
    """Per sentence the indices of its `limit` best kept spans (by `scores [batch, n]`), in span
    order and padded, with their mask `[batch, k]`."""
    count = min(int(keep.sum(1).max()) if keep.numel() else 0, limit)
    best_scores, best = scores.masked_fill(~keep, -1.0).topk(count, dim=1)
    # Back to span order (padding last), so the pairs do not depend on ties in the ranking.
    padding = scores.size(1)
    best = best.masked_fill(best_scores < 0, padding).sort(dim=1).values
    valid = best < padding
    return best.masked_fill(~valid, 0), valid


def ordered_pairs(mask: torch.BoolTensor) -> Tuple[torch.LongTensor, torch.BoolTensor]:
    """All ordered pairs of distinct candidates of `mask [batch, k]`: `[batch, k*k, 2]` indices
    into the k candidates, and their mask `[batch, k*k]`."""
    batch, k = mask.shape
    index = torch.arange(k, device=mask.device)
    pairs = torch.stack(torch.meshgrid(index, index, indexing="ij"), -1).view(1, k * k, 2).expand(batch, -1, -1)
    distinct = ~torch.eye(k, dtype=torch.bool, device=mask.device)
    pair_mask = (mask.unsqueeze(2) & mask.unsqueeze(1) & distinct).view(batch, k * k)
    return pairs, pair_mask


def decode_relations(keep: torch.BoolTensor, pairs: torch.LongTensor, pair_mask: torch.BoolTensor,
                     relation_scores: torch.Tensor, entities: List[List[DecodedEntity]], names: Mapping[int, str],
                     threshold: float, symmetric: Collection[str]) -> List[List[DecodedRelation]]:
    """Per sentence the relations whose score `relation_scores [batch, pairs, labels]` exceeds
    `threshold`, as (head, tail, type, score): `pairs [batch, pairs, 2]` index the spans of `keep`,
    head and tail index the sentence's decoded `entities`; symmetric types are stored
    head-before-tail, each relation once with its best score."""
    position = keep.long().cumsum(1) - 1  # a kept span's index in its sentence's entity list
    hits = (relation_scores > threshold) & pair_mask.unsqueeze(-1)
    sentence, pair, label = hits.nonzero(as_tuple=True)
    heads = position[sentence, pairs[sentence, pair, 0]]
    tails = position[sentence, pairs[sentence, pair, 1]]
    found: List[List[DecodedRelation]] = [[] for _ in range(keep.size(0))]
    for b, head, tail, label_index, score in zip(
        sentence.tolist(), heads.tolist(), tails.tolist(), label.tolist(),
        relation_scores[sentence, pair, label].tolist(),
    ):
        found[b].append((head, tail, names[label_index], score))
    return [best_relations(relations, symmetric, mention=lambda entity, b=b: entities[b][entity][:3])
            for b, relations in enumerate(found)]
