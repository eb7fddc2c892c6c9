"""What the models do for a GPU that a CPU can check: the bfloat16 encoder copy follows the
weights to another device, bfloat16 training refuses float16 autocast (the trainer's `use_amp`),
SINET's output carries no tensor of all spans for the predictor to copy to the host, and CMAN's
decoding copies tensors to the host a fixed number of times per batch, however many sentences,
entities and relations it decodes, with scores as the model defines them."""
import pytest
import torch
from allennlp.common.checks import ConfigurationError
from allennlp.common.testing import ModelTestCase
from allennlp.data import Batch

from conftest import CMAN_CONFIG, FIXTURE_CONFIG, FIXTURE_DATA
from sinet_allen.models.joint_ie_model import BFLOAT16_COPY

TRAIN = FIXTURE_DATA / "spert" / "train.json"


pytestmark = pytest.mark.usefixtures("one_thread")


class DeviceWorkCase(ModelTestCase):
    config = FIXTURE_CONFIG

    def setup_method(self):
        super().setup_method()
        self.set_up_model(self.config, TRAIN)

    def tensors(self, count: int):
        batch = Batch(self.instances[:count])
        batch.index_instances(self.model.vocab)
        return batch.as_tensor_dict()


class TestSinetOnDevices(DeviceWorkCase):
    def test_the_bfloat16_encoder_copy_follows_a_move_of_the_model(self):
        model = self.model.eval()
        model.inference_precision = "bfloat16"
        model.encode(self.tensors(2)["tokens"])
        assert next(model.__dict__[BFLOAT16_COPY].parameters()).device.type == "cpu"
        model.to("meta")  # a device every machine has: the copy must not stay on the CPU
        copy = model._embedder_in_use()
        assert {(p.device.type, p.dtype) for p in copy.parameters()} == {("meta", torch.bfloat16)}
        assert {p.device.type for p in model.parameters()} == {"meta"}

    def test_bfloat16_training_refuses_float16_autocast(self):
        tensors = self.tensors(2)
        self.model.train()
        self.model.training_precision = "bfloat16"
        with torch.autocast("cpu", dtype=torch.float16):
            with pytest.raises(ConfigurationError, match="training_precision 'bfloat16' cannot be combined .* use_amp"):
                self.model(**tensors)
        # Alone, either precision trains.
        assert self.model(**tensors)["loss"].isfinite()
        self.model.training_precision = "float32"
        with torch.autocast("cpu", dtype=torch.float16):
            assert self.model(**tensors)["loss"].isfinite()

    def test_the_output_holds_no_tensor_but_the_loss(self):
        # Every tensor in the output is copied to the host by AllenNLP's predictors.
        output = self.model.eval()(**self.tensors(4))
        assert [key for key, value in output.items() if isinstance(value, torch.Tensor)] == ["loss"]
        assert output["entities"] and len(output["entities"]) == 4


class TestCmanOnDevices(DeviceWorkCase):
    config = CMAN_CONFIG

    def eager_model(self):
        """The model in evaluation mode, tagging many words as entities and relating most pairs."""
        model = self.model.eval()
        with torch.no_grad():
            for index, name in model.tag_names.items():
                model.tagger.bias[index] += 0.0 if name == "O" else 3.0
        model.relation_threshold = 0.008
        return model

    def test_decoding_copies_to_the_host_a_fixed_number_of_times(self):
        model = self.eager_model()
        copies = []

        def counted(patch, owner, name):
            real = getattr(owner, name)
            patch.setattr(owner, name, lambda *args, **kwargs: (copies.append(name), real(*args, **kwargs))[1])

        def decode(count):
            tensors = self.tensors(count)
            with torch.no_grad():
                emissions, states = self.emissions_and_relation_states(model, tensors)
                mask = tensors["word_starts"] >= 0
                tags = model.best_tags(emissions, mask)
                copies.clear()
                with pytest.MonkeyPatch.context() as patch:  # what waits for a GPU: reads of values and sizes, uploads
                    for name in ("item", "tolist", "nonzero", "__bool__", "__int__", "__float__"):
                        counted(patch, torch.Tensor, name)
                    counted(patch, torch, "tensor")
                    output = model._decode(emissions, tags, states, mask)
            return len(copies), sum(map(len, output["entities"])), sum(map(len, output["relations"]))

        few = decode(2)
        many = decode(8)
        assert many[1] > few[1] > 0 and many[2] > few[2] > 0
        assert many[0] == few[0]

    def test_scores_are_the_mean_tag_marginal_and_the_selection_sigmoid(self):
        model = self.eager_model()
        tensors = self.tensors(6)
        with torch.no_grad():
            output = model(**tensors)
            mask = tensors["word_starts"] >= 0
            emissions, states = self.emissions_and_relation_states(model, tensors)
            tags = model.best_tags(emissions, mask)
            marginals = model.tag_marginals(emissions, mask)
        relations_seen = 0
        for sentence, (entities, relations) in enumerate(zip(output["entities"], output["relations"])):
            for entity in entities:
                words = torch.arange(entity["start"], entity["end"])
                expected = marginals[sentence, words, tags[sentence, words]].mean().item()
                assert entity["score"] == pytest.approx(expected, rel=1e-6)
            last = torch.tensor([entity["end"] - 1 for entity in entities], dtype=torch.long)
            with torch.no_grad():
                probabilities = model.selection_logits(states[sentence, last], states[sentence, last]).sigmoid()
            labels = model.vocab.get_token_to_index_vocabulary("relation_labels")
            for relation in relations:
                head, tail, label = relation["head"], relation["tail"], labels[relation["type"]]
                best = max(probabilities[head, tail, label], probabilities[tail, head, label]).item()
                assert relation["score"] in (pytest.approx(probabilities[head, tail, label].item(), rel=1e-6),
                                             pytest.approx(best, rel=1e-6))
                relations_seen += 1
        assert relations_seen > 0

    @staticmethod
    def emissions_and_relation_states(model, tensors):
        captured = {}
        hooks = [model.tagger.register_forward_hook(lambda m, i, o: captured.setdefault("emissions", o)),
                 model.attention.register_forward_hook(lambda m, i, o: captured.__setitem__("states", o))]
        try:
            model(**tensors)
        finally:
            for hook in hooks:
                hook.remove()
        return captured["emissions"], captured["states"]
