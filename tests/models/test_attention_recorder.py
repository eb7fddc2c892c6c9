"""Attention maps on request: the encoder's [CLS] row against the Hugging Face model's own
attention probabilities (SINET and CMAN), CTAM's against its layer's weights, the word rule,
models without CTAM, and the predictor's `attention` argument."""
import json

import pytest
import torch
from allennlp.common import Params
from allennlp.data import Batch, DatasetReader, Vocabulary
from allennlp.models import Model
from allennlp.predictors import Predictor

from conftest import CMAN_CONFIG, FIXTURE_CONFIG, FIXTURE_DATA
from sinet_allen.modules.cross_task_attention import CrossTaskAttentionLayer

TRAIN, TEST = FIXTURE_DATA / "spert" / "train.json", FIXTURE_DATA / "spert" / "test.json"


def build(overrides=None, config=FIXTURE_CONFIG):
    params = Params.from_file(str(config), params_overrides=json.dumps(overrides or {}))
    vocab = Vocabulary.from_instances(DatasetReader.from_params(params.pop("dataset_reader")).read(str(TRAIN)))
    reader = DatasetReader.from_params(params.pop("validation_dataset_reader"))
    instances = list(reader.read(str(TEST)))[:3]
    model = Model.from_params(vocab=vocab, params=params.pop("model")).eval()
    return model, reader, instances


def forward(model, instances):
    batch = Batch(instances)
    batch.index_instances(model.vocab)
    with torch.no_grad():
        return model(**batch.as_tensor_dict()), batch.as_tensor_dict()


def words_of(pieces, offsets):
    """The reference word rule: the wordpiece weights of each word, summed."""
    return [sum(pieces[start:end]) for start, end in offsets]


def test_no_attention_unless_asked():
    model, _, instances = build()
    output, _ = forward(model, instances)
    assert "attention" not in output


@pytest.mark.parametrize("config", [FIXTURE_CONFIG, CMAN_CONFIG], ids=["sinet", "cman"])
def test_encoder_map_is_the_last_layers_cls_attention_summed_per_word(config):
    model, reader, instances = build({"model.return_attention": True}, config)
    output, tensors = forward(model, instances)
    transformer = model.embedder.token_embedder_tokens.transformer_model
    tokens = tensors["tokens"]["tokens"]
    with torch.no_grad():
        reference = transformer(input_ids=tokens["token_ids"], attention_mask=tokens["mask"].long(),
                                token_type_ids=tokens["type_ids"], output_attentions=True).attentions[-1]
    cls_row = reference[:, :, 0].mean(1)  # [batch, wordpieces], averaged over heads
    for b, instance in enumerate(instances):
        offsets = reader.encode(_sentence(instance)).word_offsets
        expected = words_of(cls_row[b].tolist(), offsets)
        assert output["attention"][b]["encoder"] == pytest.approx(expected, abs=2e-4)
        assert len(output["attention"][b]["encoder"]) == len(instance["metadata"]["tokens"])


def test_ctam_maps_are_each_agents_weights_over_the_other_tasks_words_and_itself():
    model, reader, instances = build({"model.return_attention": True})
    layer = next(m for m in model.modules() if isinstance(m, CrossTaskAttentionLayer))
    seen = {}
    handle = layer.register_forward_pre_hook(lambda module, inputs: seen.update(inputs=inputs))
    output, _ = forward(model, instances)
    handle.remove()
    agents, memory_states, memory_mask = seen["inputs"]
    heads, batch = layer.num_heads, len(instances)
    memory = torch.cat([memory_states, agents.unsqueeze(1)], 1)
    query = layer.query(agents).view(2 * batch, heads, -1)
    keys = layer.key(memory).view(2 * batch, memory.size(1), heads, -1)
    scores = torch.einsum("bhd,bkhd->bhk", query, keys) / query.size(-1) ** 0.5
    valid = torch.cat([memory_mask, memory_mask.new_ones(2 * batch, 1)], 1)
    weights = scores.masked_fill(~valid.unsqueeze(1), float("-inf")).softmax(-1).detach()
    for b, instance in enumerate(instances):
        offsets = reader.encode(_sentence(instance)).word_offsets
        for task, row in (("ner", b), ("re", batch + b)):  # entity agents first, then relation agents
            found = output["attention"][b][task]
            for head in range(heads):
                assert found["heads"][head] == pytest.approx(words_of(weights[row, head, :-1].tolist(), offsets), abs=2e-4)
                assert found["self_heads"][head] == pytest.approx(float(weights[row, head, -1]), abs=2e-4)
                # [CLS] and [SEP] are no keys of CTAM: the words and the agent hold all the weight.
                assert sum(found["heads"][head]) + found["self_heads"][head] == pytest.approx(1, abs=2e-3)
            assert found["mean"] == pytest.approx(torch.tensor(found["heads"]).mean(0).tolist(), abs=2e-4)


@pytest.mark.parametrize("config, overrides", [(FIXTURE_CONFIG, {"model.interaction": None}), (CMAN_CONFIG, {})],
                         ids=["sinet without interaction", "cman"])
def test_models_without_ctam_say_so(config, overrides):
    model, _, instances = build({"model.return_attention": True, **overrides}, config)
    output, _ = forward(model, instances)
    for sentence, instance in zip(output["attention"], instances):
        assert "ner" not in sentence and "re" not in sentence
        assert "no cross-task attention (CTAM)" in sentence["note"]
        # The encoder's map is there all the same.
        assert len(sentence["encoder"]) == len(instance["metadata"]["tokens"])


def test_the_predictor_adds_attention_per_sentence_on_request(fixture_archive):
    from allennlp.models.archival import load_archive

    plain = Predictor.from_archive(load_archive(str(fixture_archive)))
    assert "attention" not in plain.predict_json({"sentence": "Kernel methods work ."})
    predictor = Predictor.from_archive(load_archive(str(fixture_archive)), extra_args={"attention": True})
    result = predictor.predict_json({"sentences": [["Kernel", "methods", "work", "."], [], ["So", "do", "SVMs"]]})
    first, empty, last = result["attention"]
    assert len(first["encoder"]) == 4 and empty is None and len(last["encoder"]) == 3
    assert len(first["ner"]["heads"]) == 2  # the fixture's CTAM heads
    assert 0 < sum(first["encoder"]) <= 1


def _sentence(instance):
    from sinet_allen.schema import Sentence

    return Sentence(tokens=instance["metadata"]["tokens"], entities=[], relations=[], source="test")
