"""Boundary smoothing's targets (sum to one, stay within the distance, the gold keeps 1 - epsilon)
and the loss built on them."""
import json

import pytest
import torch
from allennlp.commands.train import train_model_from_file
from allennlp.common.checks import ConfigurationError

from conftest import FIXTURE_CONFIG
from sinet_allen.models.boundary_smoothing import smoothed_entity_targets

NO_ENTITY, METHOD, TASK = 0, 1, 2


def targets(epsilon=0.2, distance=1):
    # Sentence 0: a Method at [2, 4) with candidates around it, a Task at [6, 7), padding last.
    spans = torch.tensor([[[2, 4], [1, 4], [2, 5], [2, 3], [0, 1], [6, 7], [6, 8], [0, 0]]])
    labels = torch.tensor([[METHOD, 0, 0, 0, 0, TASK, 0, -1]])
    mask = torch.tensor([[True] * 7 + [False]])
    return spans, labels, mask, smoothed_entity_targets(spans, labels, mask, NO_ENTITY, 3, epsilon, distance)


def test_each_candidates_target_sums_to_one_and_padding_gets_nothing():
    _, _, mask, smoothed = targets()
    assert smoothed[mask].sum(-1).tolist() == pytest.approx([1.0] * 7)
    assert smoothed[~mask].abs().sum().item() == 0


def test_a_gold_span_keeps_one_minus_epsilon_and_its_neighbours_share_epsilon_as_its_type():
    _, _, _, smoothed = targets(epsilon=0.2, distance=1)
    assert smoothed[0, 0, METHOD].item() == pytest.approx(0.8)
    for neighbour in (1, 2, 3):  # [1, 4), [2, 5), [2, 3): one word away from [2, 4)
        assert smoothed[0, neighbour, METHOD].item() == pytest.approx(0.2 / 3)
        assert smoothed[0, neighbour, NO_ENTITY].item() == pytest.approx(1 - 0.2 / 3)
    assert smoothed[0, 5, TASK].item() == pytest.approx(0.8)  # its one neighbour [6, 8) takes 0.2
    assert smoothed[0, 6, TASK].item() == pytest.approx(0.2)


def test_probability_never_reaches_beyond_the_distance():
    spans, labels, mask, smoothed = targets(epsilon=0.3, distance=1)
    gold = [(tuple(spans[0, i].tolist()), labels[0, i].item()) for i in range(7) if labels[0, i] > 0]
    for j in range(7):
        for label in (METHOD, TASK):
            near = any(abs(spans[0, j, 0] - s) + abs(spans[0, j, 1] - e) <= 1 and label == t for (s, e), t in gold)
            if not near:
                assert smoothed[0, j, label].item() == 0.0
    assert smoothed[0, 4, NO_ENTITY].item() == 1.0  # [0, 1) is far from every gold span


def test_without_neighbours_or_epsilon_the_targets_are_the_labels():
    spans, labels, mask, _ = targets()
    one_hot = torch.nn.functional.one_hot(labels.clamp(min=0), 3).float() * mask.unsqueeze(-1)
    assert torch.equal(smoothed_entity_targets(spans, labels, mask, NO_ENTITY, 3, 0.0, 1), one_hot)
    lonely = torch.tensor([[[0, 1]]]), torch.tensor([[METHOD]]), torch.tensor([[True]])
    assert smoothed_entity_targets(*lonely, NO_ENTITY, 3, 0.2, 2).tolist() == [[[0.0, 1.0, 0.0]]]


def training_loss(tmp_path, name, **overrides):
    train_model_from_file(str(FIXTURE_CONFIG), str(tmp_path / name), overrides={"trainer.num_epochs": 1, **overrides})
    return json.loads((tmp_path / name / "metrics.json").read_text())["training_loss"]


def test_the_model_trains_with_smoothed_targets_and_its_loss_is_another(tmp_path):
    plain = training_loss(tmp_path, "plain", **{"dataset_reader.boundary_neighbours": 1})
    smoothed = training_loss(tmp_path, "smoothed", **{"dataset_reader.boundary_neighbours": 1,
                                                      "model.boundary_smoothing": 0.2})
    assert torch.isfinite(torch.tensor(smoothed)) and smoothed != pytest.approx(plain)


def test_a_smoothing_share_outside_zero_to_one_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="boundary_smoothing must be a share"):
        training_loss(tmp_path, "bad", **{"model.boundary_smoothing": 1.0})
