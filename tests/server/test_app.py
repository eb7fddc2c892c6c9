"""The HTTP API of allennlp sinet-serve through Starlette's test client: answers in the prediction
format, every error path with its status and message, the server alive after a model failure,
the Host and Origin checks, and the batching of concurrent requests (answers equal to each
request predicted alone, a bad request failing alone, a full queue refused)."""
import json
import threading
import time

import pytest
from allennlp.models.archival import load_archive
from allennlp.predictors import Predictor
from fastapi.testclient import TestClient

from sinet_allen.server.app import MAX_JSON_DEPTH, create_app
from sinet_allen.server.limits import Batching, Limits, allowed_hosts

LIMITS = Limits(max_request_bytes=2_000, max_text_chars=200, max_tokens=50, max_batch=3)
# A wait long enough for every thread of a test to join the first request's batch.
GATHER_ALL = Batching(batch_size=16, batch_wait_ms=1_000)
LOCAL = "http://127.0.0.1"


@pytest.fixture(scope="module")
def archive(eager_archive):
    return load_archive(str(eager_archive))


@pytest.fixture(scope="module")
def predictor(archive):
    predictor = Predictor.from_archive(archive, "sinet")
    # The eager fixture model calls every span a Method (all with the same score, 1.0); with a
    # threshold of 0 every pair of them is related by every type, so the answers hold entities,
    # relations and scores. All entities enter relation scoring, so no tie is broken by float noise.
    predictor.model.relation_threshold, predictor.model.max_relation_entities = 0.0, 100
    return predictor


def serve(predictor, archive, **options):
    """A test client of the app, its lifespan (the batcher) running; requests name 127.0.0.1."""
    return TestClient(create_app(predictor, archive.dataset_reader.tokenizer, **options), base_url=LOCAL,
                      raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client(predictor, archive):
    with serve(predictor, archive, limits=LIMITS) as client:
        yield client


def alone(predictor, item) -> dict:
    """What the predictor answers for `item` predicted by itself, as JSON would carry it."""
    predictor.attention = False
    return json.loads(json.dumps(predictor.predict_json(item)))


def same_answer(served, expected) -> bool:
    """Whether `served` is `expected` but for the last digit of a score: a forward pass shared with
    other sentences pads them to another length, and the encoder's float32 sums then differ in
    their last bits (about 1e-7), which can move a score's rounding by 0.0001."""
    if isinstance(expected, dict):
        return (isinstance(served, dict) and served.keys() == expected.keys() and
                all(abs(served[key] - value) <= 1e-4 if key == "score" else same_answer(served[key], value)
                    for key, value in expected.items()))
    if isinstance(expected, list):
        return isinstance(served, list) and len(served) == len(expected) and all(map(same_answer, served, expected))
    return served == expected


def post_together(client, bodies):
    """Posts every body from its own thread at once; the responses in the bodies' order."""
    responses = [None] * len(bodies)

    def post(k):
        responses[k] = client.post("/predict", json=bodies[k])

    threads = [threading.Thread(target=post, args=(k,)) for k in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def test_health_and_page(client):
    assert client.get("/health").json() == {"status": "ok", "ctam": True}
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script src" not in page.text and "<link" not in page.text  # nothing fetched from elsewhere


def test_one_input_and_a_batch_answer_as_the_predictor_does(client, predictor):
    item = {"id": "a", "tokens": ["Kernel", "methods", "work", "."]}
    response = client.post("/predict", json=item)
    assert response.status_code == 200
    assert response.json() == alone(predictor, item) and response.json()["entities"]
    batch = client.post("/predict", json=[item, {"sentence": "So do SVMs."}]).json()
    assert [result.get("id") for result in batch] == ["a", None] and batch[1]["tokens"] == ["So", "do", "SVMs", "."]
    assert "attention" not in batch[0]


def test_attention_on_request(client):
    result = client.post("/predict?attention=true", json={"document": "Kernels work. So do SVMs."}).json()
    assert [len(sentence["encoder"]) for sentence in result["attention"]] == [3, 4]
    assert len(result["attention"][0]["re"]["mean"]) == 3
    assert "attention" not in client.post("/predict", json={"sentence": "Kernels work."}).json()


def nested(levels: int) -> bytes:
    return b'{"sentence": "x", "meta": ' + b"[" * levels + b"]" * levels + b"}"


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
], ids=["bad-json", "not-object", "empty-list", "no-key", "wrong-type",
        "batch-item", "long-text", "many-tokens", "big-batch", "big-body"])
def test_bad_requests_are_refused_with_a_message(client, body, status, message):
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert message in response.json()["detail"]


@pytest.mark.parametrize("levels", [5_000, MAX_JSON_DEPTH + 5])
def test_a_deeply_nested_body_is_refused_with_a_message(predictor, archive, levels):
    with serve(predictor, archive) as client:
        response = client.post("/predict", content=nested(levels), headers={"content-type": "application/json"})
        assert client.post("/predict", content=nested(3)).status_code == 200  # the server goes on
    assert response.status_code == 400
    assert response.json()["detail"] == f"the request body is nested more than {MAX_JSON_DEPTH} levels deep"


def test_a_body_without_declared_length_is_counted_as_it_arrives(client):
    chunks = (piece for piece in [b'{"document": "', b"z" * 2500, b'"}'])
    response = client.post("/predict", content=chunks, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "longer than the limit of 2000 bytes" in response.json()["detail"]


def test_a_model_failure_answers_500_without_its_text_and_the_server_goes_on(predictor, archive, monkeypatch):
    original = predictor.predict_batch_json

    def fail(items, pass_size=None):
        raise ZeroDivisionError("secret /home/user/path")

    with serve(predictor, archive, limits=LIMITS) as client:
        monkeypatch.setattr(predictor, "predict_batch_json", fail)
        response = client.post("/predict", json={"sentence": "Kernels work."})
        assert response.status_code == 500 and "the model failed on this request" in response.json()["detail"]
        assert "ZeroDivisionError" not in response.text and "secret" not in response.text
        monkeypatch.setattr(predictor, "predict_batch_json", original)
        assert client.post("/predict", json={"sentence": "Kernels work."}).status_code == 200


@pytest.mark.parametrize("headers, refused", [
    ({"host": "rebound.example:8000"}, "the Host 'rebound.example:8000' is not one this server answers to"),
    ({"origin": "http://attacker.example"}, "requests from the web page of 'http://attacker.example' are refused"),
    ({"origin": "null"}, "requests from the web page of 'null' are refused"),
    ({"origin": LOCAL}, None),  # the server's own page
    ({"host": "localhost:8000", "origin": "http://localhost:8000"}, None),
], ids=["rebinding-host", "other-origin", "null-origin", "own-page", "localhost"])
def test_requests_for_other_hosts_or_from_other_pages_are_refused(client, headers, refused):
    for response in (client.post("/predict", json={"sentence": "Kernels work."}, headers=headers),
                     client.get("/health", headers=headers)):
        assert response.status_code == (200 if refused is None else 403)
        assert refused is None or refused in response.json()["detail"]


def test_the_allowed_hosts_of_each_listening_address():
    assert allowed_hosts("127.0.0.1") == ("127.0.0.1", "localhost", "::1")
    assert allowed_hosts("0.0.0.0") == ("127.0.0.1", "localhost", "::1")  # names no host a client uses
    assert allowed_hosts("10.1.2.3", ("demo.lab",)) == ("127.0.0.1", "localhost", "::1", "10.1.2.3", "demo.lab")


def test_every_host_is_answered_with_a_star(predictor, archive):
    with serve(predictor, archive, allowed_hosts=allowed_hosts("0.0.0.0", ("*",))) as client:
        assert client.get("/health", headers={"host": "anything.example"}).status_code == 200


# --- batching ------------------------------------------------------------------------------------

# Of several lengths, so that a shared forward pass pads most of them.
BODIES = [{"tokens": ["Kernel", "methods", "beat", "SVMs", "."]},
          {"sentence": "We compare Markov models with SVMs."},
          {"id": 7, "document": "CRFs label sequences. They beat HMMs."},
          [{"tokens": ["A", "parser", "."]}, {"sentences": [["Neural", "nets", "."], ["They", "work", "."]]}],
          {"tokens": ["Word", "embeddings", "help", "parsing", "."]},
          {"sentence": "BERT encodes text."}]


def test_concurrent_requests_share_batches_and_get_what_each_alone_gets(predictor, archive):
    with serve(predictor, archive, batching=GATHER_ALL) as client:
        responses = post_together(client, BODIES)
        batcher = client.app.state.batcher
        assert batcher.largest_batch > 1  # they were predicted together
    for body, response in zip(BODIES, responses):
        assert response.status_code == 200
        expected = [alone(predictor, item) for item in body] if isinstance(body, list) else alone(predictor, body)
        assert same_answer(response.json(), expected)


def test_requests_with_and_without_attention_are_answered_each_as_asked(predictor, archive):
    with serve(predictor, archive, batching=GATHER_ALL) as client:
        results = [None] * 4

        def post(k):
            path = "/predict?attention=true" if k % 2 else "/predict"
            results[k] = client.post(path, json={"sentence": "Kernels beat SVMs."}).json()

        threads = [threading.Thread(target=post, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert ["attention" in result for result in results] == [False, True, False, True]


def test_a_bad_request_in_a_batch_fails_alone(predictor, archive, monkeypatch):
    original = predictor.predict_batch_json

    def fails_on_poison(items, pass_size=None):  # the model failing on one input fails the whole forward pass
        if any(item.get("tokens") == ["POISON"] for item in items):
            raise RuntimeError("the model failed")
        return original(items, pass_size)

    monkeypatch.setattr(predictor, "predict_batch_json", fails_on_poison)
    bodies = BODIES[:3] + [{"tokens": ["POISON"]}, {"tokens": "not a list"}] + BODIES[3:]
    with serve(predictor, archive, batching=GATHER_ALL) as client:
        responses = post_together(client, bodies)
        assert client.app.state.batcher.largest_batch == len(bodies)
    monkeypatch.setattr(predictor, "predict_batch_json", original)
    assert [response.status_code for response in responses] == [200, 200, 200, 500, 422, 200, 200, 200]
    assert "'tokens' must be a list of strings" in responses[4].json()["detail"]
    for body, response in zip(bodies, responses):
        if response.status_code == 200:
            assert same_answer(response.json(), [alone(predictor, item) for item in body]
                               if isinstance(body, list) else alone(predictor, body))


def test_concurrent_requests_never_run_on_the_model_together(predictor, archive, monkeypatch):
    running, overlaps, pass_sizes = [0], [], set()
    original = predictor.predict_batch_json

    def counted(items, pass_size=None):
        running[0] += 1
        overlaps.append(running[0])
        pass_sizes.add(pass_size)
        try:
            return original(items, pass_size)
        finally:
            running[0] -= 1

    monkeypatch.setattr(predictor, "predict_batch_json", counted)
    batching = Batching(batch_size=3, batch_wait_ms=20, forward_pass_size=2)
    with serve(predictor, archive, batching=batching) as client:
        answers = post_together(client, [{"tokens": ["word"] * (k + 1)} for k in range(8)])
    assert sorted(len(answer.json()["tokens"]) for answer in answers) == list(range(1, 9))
    assert max(overlaps) == 1 and pass_sizes == {2}


def test_a_full_queue_answers_503_with_a_message(predictor, archive, monkeypatch):
    entered, release = threading.Event(), threading.Event()
    original = predictor.predict_batch_json

    def held(items, pass_size=None):
        entered.set()
        release.wait(60)
        return original(items, pass_size)

    monkeypatch.setattr(predictor, "predict_batch_json", held)
    with serve(predictor, archive, batching=Batching(batch_size=1, batch_wait_ms=0, max_queue=2)) as client:
        batcher = client.app.state.batcher
        answers = []
        first = threading.Thread(target=lambda: answers.append(client.post("/predict", json=BODIES[0])))
        first.start()
        assert entered.wait(60)  # the model holds the first request
        queued = [threading.Thread(target=lambda: answers.append(client.post("/predict", json=BODIES[0])))
                  for _ in range(2)]
        for thread in queued:
            thread.start()
        deadline = time.monotonic() + 60
        while len(batcher.waiting) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        refused = client.post("/predict", json=BODIES[0])
        release.set()
        for thread in [first, *queued]:
            thread.join()
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert ("2 requests are already waiting for the model (the limit, sinet-serve --max-queue)"
            in refused.json()["detail"])
    assert [answer.status_code for answer in answers] == [200, 200, 200]


def test_a_request_chooses_its_decoding_options_and_a_bad_one_is_a_422(client, predictor):
    sentence = "We compare hidden Markov models with support vector machines ."
    nested = client.post("/predict", json={"sentence": sentence}).json()
    flat = client.post("/predict", json={"sentence": sentence, "decoding": {"overlapping_entities": False}}).json()
    spans = [(entity["start"], entity["end"]) for entity in flat["entities"]]
    assert len(flat["entities"]) < len(nested["entities"])  # the eager model calls every span a Method
    assert all(end <= other_start or other_end <= start
               for i, (start, end) in enumerate(spans) for other_start, other_end in spans[i + 1:])
    assert client.post("/predict", json={"sentence": sentence}).json() == nested  # the next request: the archive's
    refused = client.post("/predict", json={"sentence": sentence, "decoding": {"relation_threshold": 2}})
    assert refused.status_code == 422 and "decoding" in refused.json()["detail"]


def test_the_reader_or_model_failing_on_one_item_answers_500_without_its_text(predictor, archive, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("secret /home/user/path")

    monkeypatch.setattr(predictor.model, "forward_on_instances", fail)
    with serve(predictor, archive, limits=LIMITS) as client:
        response = client.post("/predict", json={"sentence": "Kernels work."})
    assert response.status_code == 500 and "secret" not in response.text and "RuntimeError" not in response.text
