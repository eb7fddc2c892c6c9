"""CTAM: the cross-task attention module, against a per-head reference written from the paper."""
import math

import pytest
import torch
from allennlp.common import Lazy, Params
from allennlp.common.checks import ConfigurationError

from sinet_allen.modules.cross_task_attention import CrossTaskAttention, CrossTaskAttentionLayer
from sinet_allen.modules.task_interaction import TaskInteraction, TaskViews

DIM = 8


def make_views(batch=3, length=7, dim=DIM, seed=0) -> TaskViews:
    generator = torch.Generator().manual_seed(seed)
    return TaskViews(*(torch.randn(*shape, generator=generator, dtype=torch.float64)
                       for shape in ((batch, length, dim), (batch, length, dim), (batch, dim), (batch, dim))))


def make_mask(lengths, length=7) -> torch.BoolTensor:
    return torch.arange(length).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)


def ctam(**kwargs) -> CrossTaskAttention:
    module = CrossTaskAttention(input_dim=DIM, **kwargs).double()
    module.eval()  # attention dropout off
    return module


def reference_layer(layer: CrossTaskAttentionLayer, agent, other_states, other_mask):
    """`LN(softmax(q k^T / sqrt(d/h)) v + agent)` one sentence and one head at a time, keys and
    values over the sentence's valid positions of the other task plus the agent itself; with the
    output projection `LN(W_o (...) + b_o + agent)` (no dropout in evaluation)."""
    heads, dim = layer.num_heads, agent.size(-1)
    size = dim // heads
    outputs = []
    for b in range(agent.size(0)):
        memory = torch.cat([other_states[b][other_mask[b]], agent[b : b + 1]])
        query, keys, values = layer.query(agent[b]), layer.key(memory), layer.value(memory)
        attended = []
        for h in range(heads):
            part = slice(h * size, (h + 1) * size)
            weights = torch.softmax(keys[:, part] @ query[part] / math.sqrt(size), dim=0)
            attended.append(weights @ values[:, part])
        attended = torch.cat(attended)
        if layer.projection is not None:
            attended = attended @ layer.projection.weight.T + layer.projection.bias
        outputs.append(layer.norm(attended + agent[b]))
    return torch.stack(outputs)


def reference(module: CrossTaskAttention, views: TaskViews, mask) -> TaskViews:
    entity, relation = views.entity_agent, views.relation_agent
    for layer in module.layers:
        entity, relation = (reference_layer(layer, entity, views.relation_states, mask),
                            reference_layer(layer, relation, views.entity_states, mask))
    return views._replace(entity_agent=entity if module.update_entity else views.entity_agent,
                          relation_agent=relation if module.update_relation else views.relation_agent)


def assert_views_close(actual: TaskViews, expected: TaskViews):
    for name in TaskViews._fields:
        torch.testing.assert_close(getattr(actual, name), getattr(expected, name), msg=name)


@pytest.mark.parametrize("num_heads", [1, 2, 4, 8])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("layer_norm", [True, False])
@pytest.mark.parametrize("output_projection", [False, True])
def test_matches_the_reference(num_heads, num_layers, layer_norm, output_projection):
    torch.manual_seed(num_heads * 10 + num_layers)
    module = ctam(num_heads=num_heads, num_layers=num_layers, layer_norm=layer_norm,
                  output_projection=output_projection)
    if output_projection:  # a bias that is not zero, so that the reference would see it missing
        torch.nn.init.normal_(module.layers[0].projection.bias)
    views, mask = make_views(), make_mask([7, 4, 1])
    assert_views_close(module(views, mask), reference(module, views, mask))


def test_padding_is_masked_out_of_the_keys():
    module = ctam(num_heads=2, num_layers=2)
    views, mask = make_views(), make_mask([7, 3, 0])
    output = module(views, mask)
    # Change every padding position arbitrarily (huge values included): the agents do not move.
    noise = torch.randn_like(views.entity_states) * 1e4
    padded = ~mask.unsqueeze(-1)
    changed = views._replace(entity_states=torch.where(padded, noise, views.entity_states),
                             relation_states=torch.where(padded, -noise, views.relation_states))
    assert_views_close(module(changed, mask)._replace(entity_states=views.entity_states,
                                                      relation_states=views.relation_states), output)
    # ...and they get no gradient.
    states = views.entity_states.clone().requires_grad_(True)
    agent = module(views._replace(relation_states=states, entity_states=states), mask).entity_agent
    # Weighted: the plain sum of a LayerNorm's output is its bias's sum, whatever the input.
    (agent * torch.linspace(-1, 1, DIM, dtype=agent.dtype)).sum().backward()
    assert (states.grad[~mask] == 0).all() and (states.grad[mask] != 0).any()


def test_empty_sentence_attends_to_the_agent_only():
    module = ctam(num_heads=2, layer_norm=False)
    views, mask = make_views(batch=1), make_mask([0])
    output = module(views, mask)
    layer = module.layers[0]
    # One key: the softmax is 1 on it, the result its value plus the residual.
    for agent, attended in ((views.entity_agent, output.entity_agent),
                            (views.relation_agent, output.relation_agent)):
        torch.testing.assert_close(attended, layer.value(agent) + agent)
    assert torch.isfinite(output.entity_agent).all()


@pytest.mark.parametrize("targets, entity_updated, relation_updated",
                         [("none", False, False), ("ner", True, False), ("re", False, True),
                          ("both", True, True)])
def test_targets_pick_which_agent_is_replaced(targets, entity_updated, relation_updated):
    torch.manual_seed(0)
    module = ctam(targets=targets)
    views, mask = make_views(), make_mask([7, 5, 2])
    output = module(views, mask)
    assert output.entity_states is views.entity_states
    assert output.relation_states is views.relation_states
    assert (output.entity_agent is views.entity_agent) != entity_updated
    assert (output.relation_agent is views.relation_agent) != relation_updated
    # The attended agents are the same whichever task receives them.
    torch.manual_seed(0)
    both = ctam(targets="both")(views, mask)
    if entity_updated:
        torch.testing.assert_close(output.entity_agent, both.entity_agent)
    if relation_updated:
        torch.testing.assert_close(output.relation_agent, both.relation_agent)


def test_unknown_targets_and_indivisible_heads_are_configuration_errors():
    with pytest.raises(ConfigurationError, match="targets"):
        CrossTaskAttention(input_dim=DIM, targets="entities")
    with pytest.raises(ConfigurationError, match="divisible"):
        CrossTaskAttention(input_dim=DIM, num_heads=3)


def test_parameters_are_shared_by_both_directions():
    module = CrossTaskAttention(input_dim=DIM, num_layers=2, layer_norm=True)
    names = {name: tuple(p.shape) for name, p in module.named_parameters()}
    assert names == {
        **{f"layers.{i}.{w}.weight": (DIM, DIM) for i in range(2) for w in ("query", "key", "value")},
        **{f"layers.{i}.norm.{w}": (DIM,) for i in range(2) for w in ("weight", "bias")},
    }
    without_norm = CrossTaskAttention(input_dim=DIM, layer_norm=False)
    assert {name for name, _ in without_norm.named_parameters()} == {
        "layers.0.query.weight", "layers.0.key.weight", "layers.0.value.weight"}
    projected = CrossTaskAttention(input_dim=DIM, layer_norm=False, output_projection=True)
    assert {name: tuple(p.shape) for name, p in projected.named_parameters()
            if "projection" in name} == {"layers.0.projection.weight": (DIM, DIM), "layers.0.projection.bias": (DIM,)}


def test_layer_norm_normalises_the_agents():
    module = ctam(layer_norm=True)
    output = module(make_views(), make_mask([7, 5, 2]))
    for agent in (output.entity_agent, output.relation_agent):
        torch.testing.assert_close(agent.mean(-1), torch.zeros(3, dtype=torch.float64))
        torch.testing.assert_close(agent.var(-1, unbiased=False), torch.ones(3, dtype=torch.float64),
                                   rtol=1e-3, atol=1e-3)


def test_attention_dropout_acts_in_training_only():
    module = CrossTaskAttention(input_dim=DIM, attention_dropout=0.5).double()
    views, mask = make_views(), make_mask([7, 7, 7])
    module.eval()
    first, second = module(views, mask), module(views, mask)
    torch.testing.assert_close(first.entity_agent, second.entity_agent)
    module.train()
    torch.manual_seed(1)
    assert not torch.allclose(module(views, mask).entity_agent, first.entity_agent)


def test_projection_dropout_acts_in_training_only():
    module = CrossTaskAttention(input_dim=DIM, attention_dropout=0.0, output_projection=True,
                                projection_dropout=0.5).double()
    views, mask = make_views(), make_mask([7, 7, 7])
    module.eval()
    evaluated = module(views, mask).entity_agent
    module.train()
    torch.manual_seed(1)
    assert not torch.allclose(module(views, mask).entity_agent, evaluated)
    module.layers[0].projection_dropout.p = 0.0  # the only source of randomness left
    torch.testing.assert_close(module(views, mask).entity_agent, evaluated)


def test_built_from_config_with_the_input_dim():
    params = Params({"type": "cross_task_attention", "num_heads": 2, "num_layers": 3,
                     "layer_norm": False, "targets": "re", "attention_dropout": 0.0})
    module = Lazy(TaskInteraction, params=params).construct(input_dim=DIM)
    assert isinstance(module, CrossTaskAttention)
    assert len(module.layers) == 3 and module.layers[0].num_heads == 2
    assert (module.update_entity, module.update_relation) == (False, True)
    assert isinstance(module.layers[0].norm, torch.nn.Identity)
    assert module.layers[0].projection is None
    projected = Lazy(TaskInteraction, params=Params({"type": "cross_task_attention", "output_projection": True,
                                                      "projection_dropout": 0.1})).construct(input_dim=DIM)
    assert projected.layers[0].projection.in_features == DIM
    assert projected.layers[0].projection_dropout.p == 0.1
