"""The HTTP API of allennlp sinet-serve through Starlette's test client: answers in the prediction
format, every error path with its status and message, and the server alive after a model failure."""
import json
import threading

import pytest
from allennlp.models.archival import load_archive
from allennlp.predictors import Predictor
from fastapi.testclient import TestClient

from sinet_allen.server.app import create_app
from sinet_allen.server.limits import Limits

LIMITS = Limits(max_request_bytes=2_000, max_text_chars=200, max_tokens=50, max_batch=3)


@pytest.fixture(scope="module")
def predictor(fixture_archive):
    return Predictor.from_archive(load_archive(str(fixture_archive)))


@pytest.fixture(scope="module")
def client(predictor):
    return TestClient(create_app(predictor, LIMITS))


def test_health_and_page(client):
    assert client.get("/health").json() == {"status": "ok", "ctam": True}
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script src" not in page.text and "<link" not in page.text  # nothing fetched from elsewhere


def test_one_input_and_a_batch_answer_as_the_predictor_does(client, predictor):
    item = {"id": "a", "tokens": ["Kernel", "methods", "work", "."]}
    response = client.post("/predict", json=item)
    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(predictor.predict_json(item)))
    batch = client.post("/predict", json=[item, {"sentence": "So do SVMs."}]).json()
    assert [result.get("id") for result in batch] == ["a", None] and batch[1]["tokens"] == ["So", "do", "SVMs", "."]
    assert "attention" not in batch[0]


def test_attention_on_request(client):
    result = client.post("/predict?attention=true", json={"document": "Kernels work. So do SVMs."}).json()
    assert [len(sentence["encoder"]) for sentence in result["attention"]] == [3, 4]
    assert len(result["attention"][0]["re"]["mean"]) == 3
    assert "attention" not in client.post("/predict", json={"sentence": "Kernels work."}).json()


@pytest.mark.parametrize("body, status, message", [
    (b"{not json", 400, "not JSON"),
    (json.dumps("a string"), 422, "expected a JSON object"),
    (json.dumps([]), 422, "empty list"),
    (json.dumps({"text": "no accepted key"}), 422, "expected exactly one of the keys"),
    (json.dumps({"tokens": "not a list"}), 422, "'tokens' must be a list of strings"),
    (json.dumps([{"sentence": "fine"}, {"sentence": 3}]), 422, "item 1: 'sentence' must be a string"),
    (json.dumps({"sentence": "x" * 201}), 413, "'sentence' has 201 characters, more than the limit of 200"),
    (json.dumps({"tokens": ["x"] * 51}), 413, "51 tokens, more than the limit of 50"),
    (json.dumps([{"sentence": "a"}] * 4), 413, "4 inputs in one request, more than the limit of 3"),
    (json.dumps({"document": "y" * 3000}), 413, "more than the limit of 2000"),
], ids=["bad-json", "not-object", "empty-list", "no-key", "wrong-type", "batch-item", "long-text",
        "many-tokens", "big-batch", "big-body"])
def test_bad_requests_are_refused_with_a_message(client, body, status, message):
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_a_body_without_declared_length_is_counted_as_it_arrives(client):
    chunks = (piece for piece in [b'{"document": "', b"z" * 2500, b'"}'])
    response = client.post("/predict", content=chunks, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "longer than the limit of 2000 bytes" in response.json()["detail"]


def test_a_model_failure_answers_500_and_the_server_goes_on(predictor, monkeypatch):
    client = TestClient(create_app(predictor, LIMITS), raise_server_exceptions=False)
    original = predictor.predict_batch_json
    monkeypatch.setattr(predictor, "predict_batch_json", lambda items: 1 / 0)
    response = client.post("/predict", json={"sentence": "Kernels work."})
    assert response.status_code == 500 and "ZeroDivisionError" in response.json()["detail"]
    monkeypatch.setattr(predictor, "predict_batch_json", original)
    assert client.post("/predict", json={"sentence": "Kernels work."}).status_code == 200


def test_concurrent_requests_never_run_on_the_model_together(predictor, monkeypatch):
    client = TestClient(create_app(predictor, LIMITS))
    running, overlaps = [0], []
    original = predictor.predict_batch_json

    def counted(items):
        running[0] += 1
        overlaps.append(running[0])
        try:
            return original(items)
        finally:
            running[0] -= 1

    monkeypatch.setattr(predictor, "predict_batch_json", counted)
    answers = []
    threads = [threading.Thread(target=lambda k=k: answers.append(
        client.post("/predict", json={"tokens": ["word"] * (k + 1)}).json())) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(answer["tokens"]) for answer in answers) == list(range(1, 9))
    assert max(overlaps) == 1
