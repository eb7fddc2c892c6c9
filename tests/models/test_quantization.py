"""The int8 encoder (`inference_precision: "int8"`, sinet_allen/models/quantization.py): its layers
approximate the float ones, a token's result does not depend on its batch-mates, and an archive
loads, evaluates and predicts with it. Its accuracy on real data is a benchmark figure
(scripts/benchmark_int8.py), not a test."""
import json

import pytest
import torch
from transformers import BertModel
from allennlp.models.archival import load_archive
from allennlp.training.util import evaluate
from allennlp.data.data_loaders import SimpleDataLoader

from sinet_allen.models.joint_ie_model import INT8_COPY
from sinet_allen.models.quantization import DEFAULT_RECIPE, RECIPES, Int8Linear, Int8Recipe, int8_copy
from sinet_allen.predictors.extraction import load_predictor
from conftest import FIXTURE_DATA, FIXTURES, TINY_BERT

RECIPE_SETTINGS = {"symmetric": {}, "asymmetric": {"asymmetric": True},
                   "smoothed": {"asymmetric": True, "input_scale": torch.linspace(0.5, 2.0, 48)}}


def relative_error(approximate: torch.Tensor, exact: torch.Tensor) -> float:
    return ((approximate - exact).norm() / exact.norm()).item()


@pytest.mark.parametrize("setting", sorted(RECIPE_SETTINGS))
def test_int8_linear_approximates_the_float_layer(setting):
    torch.manual_seed(0)
    linear = torch.nn.Linear(48, 24)
    inputs = torch.randn(2, 7, 48)
    inputs[0, 3, 5] = 30.0  # an outlier in one token
    quantised = Int8Linear(linear, **RECIPE_SETTINGS[setting])
    assert quantised.weight.dtype == torch.int8
    output = quantised(inputs)
    exact = linear(inputs).detach()
    assert output.shape == exact.shape and output.dtype == torch.float32
    assert 0 < relative_error(output, exact) < 0.02


def test_asymmetric_inputs_use_the_range_of_one_sided_inputs_better():
    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 32)
    inputs = torch.nn.functional.gelu(torch.randn(50, 64) * 2)  # GELU: never below -0.17
    exact = linear(inputs).detach()
    symmetric = relative_error(Int8Linear(linear)(inputs), exact)
    asymmetric = relative_error(Int8Linear(linear, asymmetric=True)(inputs), exact)
    assert asymmetric < 0.75 * symmetric


@pytest.mark.parametrize("setting", sorted(RECIPE_SETTINGS))
def test_a_tokens_result_does_not_depend_on_the_others(setting):
    # One scale per token: unlike per-batch quantisation, a loud neighbour changes nothing.
    torch.manual_seed(0)
    quantised = Int8Linear(torch.nn.Linear(48, 24), **RECIPE_SETTINGS[setting])
    quiet = torch.randn(3, 48)
    loud = torch.randn(5, 48) * 100
    alone = quantised(quiet)
    assert torch.equal(quantised(torch.cat([loud[:2], quiet, loud[2:]]))[2:5], alone)
    assert all(torch.equal(quantised(quiet[row : row + 1]), alone[row : row + 1]) for row in range(3))  # batch 1
    assert torch.equal(quantised(torch.zeros(2, 48)), quantised.bias.expand(2, -1))  # padding rows


def test_a_recipe_quantises_the_layers_it_picks_and_keeps_the_others_float():
    encoder = torch.nn.ModuleDict({
        "embed": torch.nn.Embedding(10, 8),
        "norm": torch.nn.LayerNorm(8),
        "attention": torch.nn.ModuleDict({"self": torch.nn.ModuleDict({"query": torch.nn.Linear(8, 8)})}),
        "intermediate": torch.nn.ModuleDict({"dense": torch.nn.Linear(8, 16)}),
    })
    copy = int8_copy(encoder, Int8Recipe("test", keep_float=(r"query$",), asymmetric=True, smoothing=0.5))
    assert type(copy["attention"]["self"]["query"]) is torch.nn.Linear
    assert isinstance(copy["intermediate"]["dense"], Int8Linear)
    # Fed by the LayerNorm, so smoothed; the original encoder is left as it was.
    assert copy["intermediate"]["dense"].inverse_input_scale is not None
    assert type(encoder["intermediate"]["dense"]) is torch.nn.Linear
    assert torch.equal(copy["embed"].weight, encoder["embed"].weight)


def test_an_encoder_off_the_cpu_is_refused():
    with pytest.raises(ValueError, match="int8' runs on the CPU only"):
        int8_copy(torch.nn.Linear(4, 4, device="meta"))


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_named_recipe_quantises_what_it_names_in_a_bert_encoder(name):
    recipe = RECIPES[name]
    encoder = BertModel.from_pretrained(str(TINY_BERT), add_pooling_layer=False).eval()
    copy = int8_copy(encoder, recipe)
    for layer_name, module in encoder.named_modules():
        if isinstance(module, torch.nn.Linear):
            expected = Int8Linear if recipe.quantises(layer_name) else torch.nn.Linear
            assert type(copy.get_submodule(layer_name)) is expected, layer_name
    assert DEFAULT_RECIPE in RECIPES.values()
    token_ids = torch.randint(1, 292, (3, 9), generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        exact, approximate = encoder(token_ids).last_hidden_state, copy(token_ids).last_hidden_state
    assert 0 < relative_error(approximate, exact) < 0.05


@pytest.fixture(scope="module")
def int8_predictor(fixture_archive):
    return load_predictor(fixture_archive, inference_precision="int8")


def test_an_int8_archive_quantises_the_encoders_linear_layers_only(int8_predictor):
    model = int8_predictor._model
    int8_predictor.predict_json({"tokens": ["Kernel", "methods", "work", "."]})
    encoder = model.__dict__[INT8_COPY]
    encoder_layers = {name: type(module) for name, module in encoder.named_modules()
                      if isinstance(module, (torch.nn.Linear, Int8Linear))}
    assert encoder_layers and set(encoder_layers.values()) == {Int8Linear}  # the default recipe: all of them
    assert all(parameter.dtype == torch.float32 for parameter in encoder.parameters())  # embeddings, LayerNorms
    # The model's own encoder and SINET's layers stay float, as the archive holds them.
    assert not any(isinstance(module, Int8Linear) for module in model.modules())
    assert all(parameter.dtype == torch.float32 for parameter in model.parameters())


def test_an_int8_archive_predicts_independently_of_batch_mates(fixture_archive, int8_predictor):
    inputs = [json.loads(line) for line in (FIXTURES / "archives" / "input.jsonl").read_text().splitlines()]
    float32 = load_predictor(fixture_archive).predict_batch_json(inputs)
    together = int8_predictor.predict_batch_json(inputs)
    alone = [int8_predictor.predict_json(line) for line in inputs]
    # Spans and types: the float attention over a padded batch differs in the last bits, which can
    # move a score by one quantisation step (benchmarks/int8 counts the sentences that change).
    assert [found(result) for result in together] == [found(result) for result in alone]
    assert [(result.keys(), result["tokens"]) for result in together] == [(result.keys(), result["tokens"])
                                                                          for result in float32]


def found(result):
    return ([(entity["start"], entity["end"], entity["type"]) for entity in result["entities"]],
            [(relation["head"], relation["tail"], relation["type"]) for relation in result["relations"]])


def test_evaluate_runs_in_int8(fixture_archive):
    # What `allennlp evaluate -o '{"model.inference_precision": "int8"}'` does.
    archive = load_archive(str(fixture_archive), overrides={"model.inference_precision": "int8"})
    instances = list(archive.validation_dataset_reader.read(str(FIXTURE_DATA / "spert" / "dev.json")))
    loader = SimpleDataLoader(instances, batch_size=4, vocab=archive.model.vocab)
    metrics = evaluate(archive.model, loader)
    assert archive.model.inference_precision == "int8" and INT8_COPY in archive.model.__dict__
    assert 0.0 <= metrics["ent_f1"] <= 1.0 and "rel_strict_f1" in metrics
