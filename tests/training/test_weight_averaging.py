"""The "uniform" moving average (stochastic weight averaging): the mean of the weights from
`start_update` on, and the weights AllenNLP's trainer validates and saves."""
import torch
from allennlp.commands.train import train_model_from_file
from allennlp.training.callbacks import TrainerCallback

from conftest import FIXTURE_CONFIG
from sinet_allen.training.weight_averaging import UniformWeightAverage


def test_the_average_is_the_current_weights_before_the_start_and_their_mean_after():
    weight = torch.nn.Parameter(torch.zeros(2))
    average = UniformWeightAverage([("w", weight)], start_update=3)
    for update, value in enumerate([1.0, 2.0, 3.0, 4.0, 8.0], start=1):
        weight.data.fill_(value)
        average.apply(update)
        average.assign_average_value()
        expected = value if update < 3 else sum([3.0, 4.0, 8.0][: update - 2]) / (update - 2)
        assert weight.data.tolist() == [expected, expected]
        average.restore()
        assert weight.data.tolist() == [value, value]


def test_its_state_round_trips():
    weight = torch.nn.Parameter(torch.ones(1))
    average = UniformWeightAverage([("w", weight)], start_update=1)
    average.apply(1)
    weight.data.fill_(3.0)
    average.apply(2)
    copy = UniformWeightAverage([("w", torch.nn.Parameter(torch.zeros(1)))], start_update=1)
    copy.load_state_dict(average.state_dict())
    weight.data.fill_(5.0)
    average.apply(3)
    copy.parameters[0][1].data.fill_(5.0)
    copy.apply(3)
    assert copy.averages["w"].tolist() == average.averages["w"].tolist() == [3.0]


@TrainerCallback.register("record_bias_for_test")
class RecordBias(TrainerCallback):
    """Keeps the entity classifier's bias after every training update (before any averaging)."""
    seen = []

    def on_batch(self, trainer, batch_inputs, batch_outputs, batch_metrics, epoch, batch_number, is_training,
                 is_primary=True, batch_grad_norm=None, **kwargs):
        if is_training:
            RecordBias.seen.append(trainer.model.entity_classifier.bias.detach().clone())


def test_the_trainer_validates_and_saves_the_averaged_weights(tmp_path):
    RecordBias.seen = []
    overrides = {"trainer.num_epochs": 1, "trainer.callbacks": [{"type": "record_bias_for_test"}],
                 "trainer.moving_average": {"type": "uniform", "start_update": 2}}
    model = train_model_from_file(str(FIXTURE_CONFIG), str(tmp_path), overrides=overrides)
    assert len(RecordBias.seen) >= 3
    saved = torch.load(tmp_path / "best.th")["entity_classifier.bias"]
    expected = torch.stack(RecordBias.seen[1:]).mean(0)
    assert torch.allclose(saved, expected, atol=1e-6)
    assert not torch.allclose(saved, RecordBias.seen[-1])  # not the last weights
    assert torch.allclose(model.entity_classifier.bias, expected, atol=1e-6)
