"""Prediction on cuda:0 (requires_gpu) with a SINET model trained there: `allennlp evaluate`,
`allennlp predict`, `allennlp sinet-extract` and the server give what the CPU gives; bfloat16
inference after the model was moved to the GPU stays within half an F1 point of float32 on the CPU;
and a dense 300-word sentence whose every span is an entity candidate fits in 2 GB of GPU memory."""
import json

import pytest
import torch
from allennlp.data.data_loaders import MultiProcessDataLoader
from allennlp.models.archival import load_archive
from allennlp.predictors import Predictor
from allennlp.training.util import evaluate as evaluate_model
from fastapi.testclient import TestClient

from gpu_runs import FIT_DATA, GPU, MARKS, SCORES, allennlp, evaluate, gpu_run  # noqa: F401  (gpu_run: a fixture)
from sinet_allen.models.joint_ie_model import BFLOAT16_COPY
from sinet_allen.predictors.extraction import load_predictor
from sinet_allen.server.app import create_app

pytestmark = MARKS

PEAK_LIMIT_BYTES = 2 * 1024**3


@pytest.fixture(scope="module")
def archive(gpu_run):
    return gpu_run("sinet", "float32") / "model.tar.gz"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """The fitted sentences as `tokens` inputs, one JSON line each (raw text would also test
    spaCy's tokenizer, which runs on the CPU either way)."""
    path = tmp_path_factory.mktemp("inputs") / "inputs.jsonl"
    sentences = json.loads(FIT_DATA.read_text())
    path.write_text("".join(json.dumps({"id": i, "tokens": s["tokens"]}) + "\n" for i, s in enumerate(sentences)))
    return path


@pytest.fixture(scope="module")
def cpu_predictions(archive, inputs):
    predictor = load_predictor(archive, cuda_device=-1)
    return [predictor.predict_json(json.loads(line)) for line in inputs.read_text().splitlines()]


def same_extractions(results, expected):
    """Entities and relations equal, scores to float32 noise."""
    assert len(results) == len(expected)
    for result, reference in zip(results, expected):
        assert result["tokens"] == reference["tokens"]
        for key in ("entities", "relations"):
            without_scores = [[{**item, "score": None} for item in items] for items in (result[key], reference[key])]
            assert without_scores[0] == without_scores[1]
            assert [item["score"] for item in result[key]] == pytest.approx(
                [item["score"] for item in reference[key]], abs=1e-4)
    assert any(result["entities"] for result in results)  # something was compared


def test_allennlp_evaluate_on_the_gpu(archive, tmp_path):
    allennlp("evaluate", archive, FIT_DATA, "--cuda-device", GPU, "--output-file", tmp_path / "metrics.json")
    on_gpu = json.loads((tmp_path / "metrics.json").read_text())
    on_cpu = evaluate(archive, cuda_device=-1)
    assert on_gpu["ent_f1"] > 0.5
    for name in SCORES:
        assert on_gpu[name] == pytest.approx(on_cpu[name], abs=1e-9), name


def test_allennlp_predict_on_the_gpu(archive, inputs, cpu_predictions, tmp_path):
    output = tmp_path / "predictions.jsonl"
    allennlp("predict", archive, inputs, "--predictor", "sinet", "--cuda-device", GPU,
             "--output-file", output, "--silent")
    same_extractions([json.loads(line) for line in output.read_text().splitlines()], cpu_predictions)


def test_sinet_extract_on_the_gpu(archive, inputs, cpu_predictions, tmp_path):
    output = tmp_path / "extracted.jsonl"
    allennlp("sinet-extract", archive, inputs, "--output-file", output, "--cuda-device", GPU)
    same_extractions([json.loads(line) for line in output.read_text().splitlines()], cpu_predictions)


def test_the_server_on_the_gpu(archive, inputs, cpu_predictions):
    loaded = load_archive(str(archive), cuda_device=GPU)
    assert next(loaded.model.parameters()).device == torch.device("cuda", GPU)
    client = TestClient(create_app(Predictor.from_archive(loaded, "sinet")))
    items = [json.loads(line) for line in inputs.read_text().splitlines()]
    response = client.post("/predict", json=items)
    assert response.status_code == 200
    same_extractions(response.json(), cpu_predictions)


def test_bfloat16_inference_after_a_move_to_the_gpu(archive):
    loaded = load_archive(str(archive), cuda_device=-1)
    model = loaded.model.eval()
    model.inference_precision = "bfloat16"
    model._embedder_in_use()  # the bfloat16 copy, made on the CPU
    assert next(model.__dict__[BFLOAT16_COPY].parameters()).device.type == "cpu"
    model.cuda(GPU)
    loader = MultiProcessDataLoader(loaded.validation_dataset_reader, str(FIT_DATA), batch_size=4)
    loader.index_with(model.vocab)
    in_bfloat16 = evaluate_model(model, loader, cuda_device=GPU)
    copy = model.__dict__[BFLOAT16_COPY]
    assert {(p.device.type, p.dtype) for p in copy.parameters()} == {("cuda", torch.bfloat16)}
    in_float32 = evaluate(archive, cuda_device=-1)
    for name in SCORES:  # within half an F1 point
        assert in_bfloat16[name] == pytest.approx(in_float32[name], abs=0.005), name


def test_peak_memory_of_a_dense_300_word_sentence(archive, record_property, capsys):
    loaded = load_archive(str(archive), cuda_device=GPU)
    model, predictor = loaded.model, Predictor.from_archive(loaded, "sinet")
    with torch.no_grad():  # every span an entity candidate: the no-entity class can never win
        model.entity_classifier.bias[model.no_entity] -= 1e4
    words = [token for sentence in json.loads(FIT_DATA.read_text()) for token in sentence["tokens"]]
    sentence = (words * (300 // len(words) + 1))[:300]
    torch.cuda.synchronize(GPU)
    torch.cuda.reset_peak_memory_stats(GPU)
    before = torch.cuda.memory_allocated(GPU)
    result = predictor.predict_json({"tokens": sentence})
    torch.cuda.synchronize(GPU)
    peak = torch.cuda.max_memory_allocated(GPU) - before
    record_property("dense_300_word_peak_gpu_bytes", peak)
    with capsys.disabled():
        print(f"\ndense 300-word sentence: {len(result['entities'])} entities, "
              f"{len(result['relations'])} relations, peak GPU memory {peak / 2**20:.1f} MiB above the model")
    assert len(result["entities"]) > 1000  # every span of up to the reader's width was kept
    assert peak < PEAK_LIMIT_BYTES
