"""TAP: the identity projection of the Base model and the two bias-free linear maps."""
import pytest
import torch
from allennlp.common import Lazy, Params

from sinet_allen.modules.task_projection import IdentityProjection, LinearTaskProjection, TaskProjection


def test_identity_has_no_parameters_and_returns_the_input():
    projection = IdentityProjection(input_dim=6)
    assert list(projection.parameters()) == []
    assert projection.state_dict() == {}
    states = torch.randn(2, 5, 6, requires_grad=True)
    entity, relation = projection(states)
    assert entity is states and relation is states


def test_linear_is_two_bias_free_square_maps_over_every_position():
    torch.manual_seed(0)
    projection = LinearTaskProjection(input_dim=6)
    assert {name: tuple(p.shape) for name, p in projection.named_parameters()} == {
        "entity.weight": (6, 6), "relation.weight": (6, 6)}
    states = torch.randn(2, 5, 6)
    entity, relation = projection(states)
    # h^e_i = W^e h_i and h^r_i = W^r h_i, [CLS] (position 0) included.
    torch.testing.assert_close(entity, states @ projection.entity.weight.T)
    torch.testing.assert_close(relation, states @ projection.relation.weight.T)
    assert not torch.allclose(entity, relation)
    # Linear without bias: zero in, zero out.
    zero_entity, zero_relation = projection(torch.zeros(1, 3, 6))
    assert (zero_entity == 0).all() and (zero_relation == 0).all()


def test_the_two_views_get_separate_gradients():
    projection = LinearTaskProjection(input_dim=4)
    entity, _ = projection(torch.randn(1, 3, 4))
    entity.sum().backward()
    assert projection.entity.weight.grad is not None and projection.entity.weight.grad.abs().sum() > 0
    assert projection.relation.weight.grad is None


@pytest.mark.parametrize("name, cls", [("identity", IdentityProjection), ("linear", LinearTaskProjection)])
def test_built_from_config_with_the_input_dim(name, cls):
    projection = Lazy(TaskProjection, params=Params({"type": name})).construct(input_dim=4)
    assert type(projection) is cls
    assert TaskProjection.default_implementation == "linear"
