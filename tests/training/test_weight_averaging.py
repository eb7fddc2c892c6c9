"""The "uniform" moving average (stochastic weight averaging): the mean of the weights from
`start_update` on, the weights AllenNLP's trainer validates and saves, and the final model rebuilt
from a run's last checkpoint."""
import pytest
import torch
from allennlp.commands.train import train_model_from_file
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError
from allennlp.models.archival import load_archive
from allennlp.training import Checkpointer
from allennlp.training.callbacks import TrainerCallback

from conftest import FIXTURE_CONFIG
from sinet_allen.training.weight_averaging import UniformWeightAverage, assign_final_average


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


def test_the_last_epochs_start_after_as_many_updates_as_came_before_the_first_validation():
    weight = torch.nn.Parameter(torch.zeros(1))
    average = UniformWeightAverage([("w", weight)], last_epochs=1, num_epochs=3)
    validated = []
    for update in range(1, 10):  # three epochs of three updates, each followed by a validation
        weight.data.fill_(float(update))
        average.apply(update)
        if update % 3 == 0:
            average.assign_average_value()
            validated.append(weight.item())
            average.restore()
    assert average.start_update == 7
    assert validated == [3.0, 6.0, 8.0]  # the current weights, then the mean of updates 7-9


@pytest.mark.parametrize("options", [{"start_update": 3, "last_epochs": 1, "num_epochs": 3},
                                     {"last_epochs": 2}, {"last_epochs": 4, "num_epochs": 3},
                                     {"last_epochs": 0, "num_epochs": 3}])
def test_a_start_given_twice_or_last_epochs_outside_the_run_is_refused(options):
    with pytest.raises(ConfigurationError, match="uniform weight average"):
        UniformWeightAverage([("w", torch.nn.Parameter(torch.zeros(1)))], **options)


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
    seen, validated = [], {}

    def on_batch(self, trainer, batch_inputs, batch_outputs, batch_metrics, epoch, batch_number, is_training,
                 is_primary=True, batch_grad_norm=None, **kwargs):
        bias = trainer.model.entity_classifier.bias.detach().clone()
        if is_training:
            RecordBias.seen.append(bias)
        else:  # what each epoch's validation reads with
            RecordBias.validated.setdefault(epoch, bias)


def test_the_trainer_validates_the_mean_of_the_last_epoch(tmp_path):
    RecordBias.seen, RecordBias.validated = [], {}
    overrides = {"trainer.num_epochs": 2, "trainer.callbacks": [{"type": "record_bias_for_test"}],
                 "trainer.moving_average": {"type": "uniform", "last_epochs": 1, "num_epochs": 2}}
    train_model_from_file(str(FIXTURE_CONFIG), str(tmp_path), overrides=overrides)
    per_epoch = len(RecordBias.seen) // 2
    first, last = RecordBias.validated.values()
    assert torch.equal(first, RecordBias.seen[per_epoch - 1])
    assert torch.allclose(last, torch.stack(RecordBias.seen[per_epoch:]).mean(0), atol=1e-6)


def test_the_trainer_validates_and_saves_the_averaged_weights(tmp_path):
    RecordBias.seen, RecordBias.validated = [], {}
    overrides = {"trainer.num_epochs": 1, "trainer.callbacks": [{"type": "record_bias_for_test"}],
                 "trainer.moving_average": {"type": "uniform", "start_update": 2}}
    model = train_model_from_file(str(FIXTURE_CONFIG), str(tmp_path), overrides=overrides)
    assert len(RecordBias.seen) >= 3
    saved = torch.load(tmp_path / "best.th")["entity_classifier.bias"]
    expected = torch.stack(RecordBias.seen[1:]).mean(0)
    assert torch.allclose(saved, expected, atol=1e-6)
    assert not torch.allclose(saved, RecordBias.seen[-1])  # not the last weights
    assert torch.allclose(model.entity_classifier.bias, expected, atol=1e-6)


def test_a_state_saved_before_last_epochs_existed_keeps_the_configured_start():
    weight = torch.nn.Parameter(torch.ones(1))
    average = UniformWeightAverage([("w", weight)], start_update=2)
    average.apply(1)
    average.apply(2)
    earlier_state = {key: value for key, value in average.state_dict().items()
                     if key not in ("start_update", "updates")}
    copy = UniformWeightAverage([("w", torch.nn.Parameter(torch.zeros(1)))], start_update=2)
    copy.load_state_dict(earlier_state)
    assert (copy.start_update, copy.count) == (2, 1)


def test_the_final_model_is_the_average_the_run_ended_with(tmp_path):
    RecordBias.seen, RecordBias.validated = [], {}
    overrides = {"trainer.num_epochs": 2, "trainer.callbacks": [{"type": "record_bias_for_test"}],
                 "trainer.moving_average": {"type": "uniform", "last_epochs": 1, "num_epochs": 2}}
    train_model_from_file(str(FIXTURE_CONFIG), str(tmp_path), overrides=overrides)
    last_checkpoint = Checkpointer(str(tmp_path)).find_latest_checkpoint()[0]
    archive = load_archive(tmp_path / "model.tar.gz", weights_file=last_checkpoint)
    assert torch.equal(archive.model.entity_classifier.bias, RecordBias.seen[-1])  # the checkpoint: raw weights
    assign_final_average(archive.model, archive.config, tmp_path)
    per_epoch = len(RecordBias.seen) // 2
    expected = torch.stack(RecordBias.seen[per_epoch:]).mean(0)
    assert torch.allclose(archive.model.entity_classifier.bias, expected, atol=1e-6)


def test_a_run_without_an_average_keeps_its_weights_and_an_exponential_one_is_refused(tmp_path):
    model = torch.nn.Linear(1, 1)
    before = model.weight.detach().clone()
    assign_final_average(model, Params({"trainer": {"moving_average": None}}), tmp_path)
    assert torch.equal(model.weight, before)
    with pytest.raises(ValueError, match="ExponentialMovingAverage.*evaluate the best model"):
        assign_final_average(model, Params({"trainer": {"moving_average": {"type": "exponential"}}}), tmp_path)
