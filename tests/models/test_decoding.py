"""The decoding functions on hand-made tensors, each against what a brute-force reading says."""
import itertools

import torch

from sinet_allen.models.decoding import (best_relations, decode_entities, decode_relations, decoded_output,
                                         drop_overlaps, ordered_pairs, relation_candidates)

ENTITY_NAMES = {0: "O", 1: "Method", 2: "Task"}
RELATION_NAMES = {0: "Compare", 1: "Used-for"}
SYMMETRIC = frozenset({"Compare"})


def test_flat_decoding_takes_spans_best_score_first_and_drops_what_overlaps_them():
    spans = torch.tensor([[[0, 2], [1, 3], [2, 4], [5, 6]], [[0, 1], [0, 2], [3, 4], [0, 0]]])
    scores = torch.tensor([[0.5, 0.9, 0.6, 0.1], [0.7, 0.7, 0.2, 0.0]])
    keep = torch.tensor([[True, True, True, True], [True, True, True, False]])
    flat = drop_overlaps(keep, scores, spans)
    # Sentence 0: [1, 3) is best and overlaps both neighbours; sentence 1: a tie keeps the earlier span.
    assert flat.tolist() == [[False, True, False, True], [True, False, True, False]]
    assert keep.all(-1).tolist() == [True, False]  # the input is not modified


def test_entities_are_the_kept_spans_in_span_order_per_sentence():
    spans = torch.tensor([[[0, 1], [2, 4], [4, 5]], [[1, 2], [0, 0], [0, 0]]])
    labels = torch.tensor([[1, 0, 2], [2, 0, 0]])
    scores = torch.tensor([[0.75, 0.5, 0.625], [0.875, 0.0, 0.0]])
    keep = labels != 0
    assert decode_entities(keep, spans, labels, scores, ENTITY_NAMES) == [
        [(0, 1, "Method", 0.75), (4, 5, "Task", 0.625)], [(1, 2, "Task", 0.875)]]


def test_relation_candidates_are_the_best_kept_spans_in_span_order():
    scores = torch.tensor([[0.9, 0.2, 0.8, 0.7, 0.95], [0.5, 0.6, 0.1, 0.1, 0.1]])
    keep = torch.tensor([[True, True, True, False, True], [False, True, False, False, False]])
    candidates, mask = relation_candidates(scores, keep, limit=3)
    assert mask.tolist() == [[True, True, True], [True, False, False]]
    assert candidates[mask].tolist() == [0, 2, 4, 1]  # span 1 (0.2) is the 4th best of sentence 0


def test_ordered_pairs_are_every_pair_of_distinct_candidates_in_both_orders():
    mask = torch.tensor([[True, True, True], [True, True, False]])
    pairs, pair_mask = ordered_pairs(mask)
    valid = [{tuple(pair) for pair, ok in zip(pairs[b].tolist(), pair_mask[b].tolist()) if ok} for b in range(2)]
    assert valid[0] == set(itertools.permutations(range(3), 2))
    assert valid[1] == {(0, 1), (1, 0)}


def test_a_symmetric_relation_is_decoded_head_first_once_with_its_best_score():
    keep = torch.tensor([[True, False, True]])  # the sentence's entities 0 and 1 are spans 0 and 2
    entities = [[(0, 1, "Method", 0.875), (3, 5, "Task", 0.75)]]
    pairs = torch.tensor([[[2, 0], [0, 2]]])  # (Task, Method), then (Method, Task)
    scores = torch.zeros(1, 2, len(RELATION_NAMES))
    scores[0, 0, 0], scores[0, 1, 0] = 0.75, 0.625  # Compare both ways
    scores[0, 0, 1] = 0.875  # Used-for, directed: keeps its order
    decoded = decode_relations(keep, pairs, torch.ones(1, 2, dtype=torch.bool), scores, entities, RELATION_NAMES,
                               threshold=0.5, symmetric=SYMMETRIC)
    assert decoded == [[(0, 1, "Compare", 0.75), (1, 0, "Used-for", 0.875)]]


def test_relations_at_or_below_the_threshold_or_masked_are_not_decoded():
    keep = torch.tensor([[True, True]])
    entities = [[(0, 1, "Method", 0.9), (2, 3, "Method", 0.9)]]
    pairs = torch.tensor([[[0, 1], [1, 0]]])
    scores = torch.tensor([[[0.0, 0.5], [0.0, 0.99]]])
    assert decode_relations(keep, pairs, torch.tensor([[True, False]]), scores, entities, RELATION_NAMES,
                            threshold=0.5, symmetric=SYMMETRIC) == [[]]


def test_best_relations_keep_each_relation_once_in_order():
    mentions = {0: (0, 1, "Task"), 1: (2, 3, "Method")}
    found = [(1, 0, "Used-for", 0.6), (1, 0, "Used-for", 0.8), (1, 0, "Compare", 0.7), (0, 1, "Compare", 0.9)]
    assert best_relations(found, SYMMETRIC, mention=mentions.__getitem__) == [
        (0, 1, "Compare", 0.9), (1, 0, "Used-for", 0.8)]


def test_decoded_output_gives_every_consumer_the_same_sentence():
    output = decoded_output([[(0, 1, "Method", 0.5), (2, 4, "Task", 0.75)]], [[(0, 1, "Used-for", 0.875)]])
    assert output["entities"][0][1] == {"start": 2, "end": 4, "type": "Task", "score": 0.75}
    assert output["relations"] == [[{"head": 0, "tail": 1, "type": "Used-for", "score": 0.875}]]
    assert output["entity_triples"] == [[(0, 1, "Method"), (2, 4, "Task")]]
    assert output["relation_triples"] == [[((0, 1, "Method"), (2, 4, "Task"), "Used-for")]]
