"""The `sinet` predictor on the archived fixture model: every input kind, the output schema and its
offsets, error records with their line numbers, `allennlp predict` end to end, batch consistency.
The fixture model is barely trained, so the tests check structure and consistency, not accuracy."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from allennlp.models.archival import load_archive
from allennlp.predictors import Predictor

from conftest import FIXTURE_DATA, REPO
from sinet_allen.predictors.sinet_predictor import SinetPredictor

TOKENS = ["We", "compare", "hidden", "Markov", "models", "with", "support", "vector", "machines", "."]
TEXT = "We compare  hidden Markov models\nwith support-vector machines.  They are used for tagging!"
INPUTS = [
    {"sentence": "We compare hidden Markov models with support vector machines."},
    {"document": TEXT},
    {"tokens": TOKENS},
    {"sentences": [TOKENS, [], ["They", "are", "used", "for", "tagging", "."]]},
]
ENTITY_KEYS = {"type", "start", "end", "text", "score"}
TOO_LONG = " ".join(["word"] * 600)  # more wordpieces than the encoder's 512
DEEP_LINE = '{"sentence": "x", "meta": ' + "[" * 5000 + "]" * 5000 + "}"  # 10 KB, beyond Python's recursion limit


@pytest.fixture(scope="module")
def predictor(fixture_archive) -> SinetPredictor:
    return Predictor.from_archive(load_archive(str(fixture_archive)))  # the model's default predictor


@pytest.fixture(scope="module")
def eager_predictor(fixture_archive) -> SinetPredictor:
    """A predictor whose model calls every span an entity and relates the best three entities of
    each sentence pairwise, so that offsets and indices are checked on many entities and relations."""
    eager = Predictor.from_archive(load_archive(str(fixture_archive)))
    model = eager._model
    with torch.no_grad():
        model.entity_classifier.bias[model.vocab.get_token_index("Method", "entity_labels")] = 100.0
        model.relation_classifier.bias[model.vocab.get_token_index("Used-for", "relation_labels")] = 100.0
    model.max_relation_entities = 3
    return eager


def check_result(result, tokens_given=False):
    """The output schema: document-level offsets, entity texts, relation indices, rounded scores."""
    assert set(result) <= {"tokens", "entities", "relations", "sentences"} | (set() if tokens_given else {"text"})
    tokens, entities = result["tokens"], result["entities"]
    for entity in entities:
        assert set(entity) == ENTITY_KEYS if tokens_given else ENTITY_KEYS | {"char_start", "char_end"}
        if not tokens_given:  # raw text comes back, and the offsets slice it
            assert result["text"][entity["char_start"] : entity["char_end"]] == entity["text"]
        assert 0 <= entity["start"] < entity["end"] <= len(tokens)
        assert entity["text"].startswith(tokens[entity["start"]])
        assert entity["text"].endswith(tokens[entity["end"] - 1])
        assert 0 <= entity["score"] <= 1 and round(entity["score"], 4) == entity["score"]
    for relation in result["relations"]:
        assert set(relation) == {"head", "tail", "type", "score"}
        assert 0 <= relation["head"] < len(entities) and 0 <= relation["tail"] < len(entities)
    for start, end in result.get("sentences", []):
        inside = [e for e in entities if start <= e["start"] < end]
        assert all(e["end"] <= end for e in inside)  # no entity crosses a sentence boundary
    json.dumps(result)  # JSON-serialisable


def test_the_predictor_is_the_models_default(predictor):
    assert isinstance(predictor, SinetPredictor)


def test_every_input_kind(eager_predictor):
    sentence, document, tokens, sentences = eager_predictor.predict_batch_json(INPUTS)
    for result in (sentence, document):
        check_result(result)
    for result in (tokens, sentences):
        check_result(result, tokens_given=True)
    assert "sentences" not in sentence and "sentences" not in tokens
    assert document["tokens"][:4] == ["We", "compare", "hidden", "Markov"]
    assert document["sentences"] == [[0, 11], [11, 17]]  # spaCy splits after "machines."
    assert tokens["tokens"] == TOKENS
    assert sentences["sentences"] == [[0, 10], [10, 10], [10, 16]]
    assert sentences["tokens"] == TOKENS + ["They", "are", "used", "for", "tagging", "."]
    # Entities and relations of the later sentences are shifted to document offsets and indices.
    second = [i for i, e in enumerate(sentences["entities"]) if e["start"] >= 10]
    assert second and sentences["entities"][second[0]]["text"] == "They"
    assert any(r["head"] in second and r["tail"] in second for r in sentences["relations"])
    assert all((r["head"] in second) == (r["tail"] in second) for r in sentences["relations"])


def test_other_input_keys_are_copied_and_gold_annotations_do_not_change_predictions(predictor):
    spert = {"tokens": TOKENS, "entities": [{"type": "Method", "start": 2, "end": 5}],
             "relations": [], "orig_id": "doc"}
    dygie = {"doc_key": "doc", "dataset": "scierc", "sentences": [TOKENS], "ner": [[[2, 4, "Method"]]],
             "relations": [[]], "clusters": []}
    plain_tokens = predictor.predict_json({"tokens": TOKENS})
    plain_sentences = predictor.predict_json({"sentences": [TOKENS]})
    # The predicted entities and relations replace a record's gold ones; the other keys come first.
    assert predictor.predict_json(spert) == {"orig_id": "doc", **plain_tokens}
    assert list(predictor.predict_json(spert)) == ["orig_id", "tokens", "entities", "relations"]
    assert predictor.predict_json(dygie) == {
        "doc_key": "doc", "dataset": "scierc", "ner": [[[2, 4, "Method"]]], "clusters": [], **plain_sentences}
    raw = predictor.predict_json({"id": 7, "sentence": "Markov models work."})
    assert raw["id"] == 7 and raw["tokens"] == ["Markov", "models", "work", "."]


@pytest.mark.parametrize("key", ["sentence", "document"])
def test_character_offsets_slice_back_to_the_entity_text(eager_predictor, key):
    text = "  Café  owners\tlove\n\n Markov-models (HMMs) — really.  Ünïcode ✓ works too.\n"
    result = eager_predictor.predict_json({key: text})
    assert result["entities"]
    for entity in result["entities"]:
        assert text[entity["char_start"] : entity["char_end"]] == entity["text"]
    assert "\n" in " ".join(e["text"] for e in result["entities"])  # the exact input, not a join


@pytest.fixture(scope="module")
def every_span_predictor(fixture_archive) -> SinetPredictor:
    """A predictor whose model never says "no entity", like an untrained model: every span is kept
    with its own best type and score, so batching has many entities and relations to disagree on."""
    predictor = Predictor.from_archive(load_archive(str(fixture_archive)))
    model = predictor._model
    with torch.no_grad():
        model.entity_classifier.bias[model.no_entity] = -100.0
    return predictor


def test_batches_predict_as_single_inputs(every_span_predictor):
    predictor = every_span_predictor
    batched = predictor.predict_batch_json(INPUTS)
    assert_same_results(batched, [predictor.predict_json(item) for item in INPUTS])
    assert_same_results(batched, predictor.predict_batch_json(INPUTS, batch_size=1))  # one sentence per pass
    assert any(result["entities"] for result in batched)


def assert_same_results(first, second):
    """Equal except for the scores, which padding changes in the last bits: the 4-decimal
    rounding may then differ by one step."""
    def without_scores(results):
        return [{key: [{k: v for k, v in item.items() if k != "score"} for item in value]
                 if key in ("entities", "relations") else value for key, value in result.items()}
                for result in results]

    def scores(results):
        return [item["score"] for result in results for key in ("entities", "relations") for item in result[key]]

    assert without_scores(first) == without_scores(second)
    assert scores(first) == pytest.approx(scores(second), abs=2e-4)


@pytest.mark.parametrize("item", [{"sentence": ""}, {"sentence": " \n\t "}, {"tokens": []}])
def test_empty_input_gives_an_empty_result_without_the_model(predictor, monkeypatch, item):
    monkeypatch.setattr(predictor._model, "forward_on_instances", pytest.fail)
    raw_text = {"text": item["sentence"]} if "sentence" in item else {}
    assert predictor.predict_json(item) == {**raw_text, "tokens": [], "entities": [], "relations": []}


@pytest.mark.parametrize("item", [{"document": "  "}, {"sentences": []}, {"sentences": [[], []]}])
def test_empty_documents_keep_their_sentences(predictor, monkeypatch, item):
    monkeypatch.setattr(predictor._model, "forward_on_instances", pytest.fail)
    result = predictor.predict_json(item)
    raw_text = {"text": item["document"]} if "document" in item else {}
    assert result == {**raw_text, "tokens": [], "entities": [], "relations": [],
                      "sentences": [[0, 0]] * len(item.get("sentences", []))}


@pytest.mark.parametrize("item, message", [
    ({"text": "no accepted key"}, "found 'text'"),
    ({"sentence": "a", "tokens": ["a"]}, "found 'sentence', 'tokens'"),
    ({"sentence": ["a"]}, "'sentence' must be a string, got list"),
    ({"document": None}, "'document' must be a string, got NoneType"),
    ({"tokens": "a b"}, "'tokens' must be a list of strings"),
    ({"tokens": ["a", 1]}, "'tokens' must be a list of strings"),
    ({"sentences": ["a"]}, "sentences[0] must be a list of strings"),
    ({"sentences": {"a": 1}}, "'sentences' must be a list of token lists"),
    ({"sentence": "a", "decoding": {"relation_threshold": 2}}, "'decoding': relation_threshold must be a number"),
    ({"sentence": "a", "decoding": {"max_length": 4096}}, "'decoding': max_length must be at most the encoder's"),
    ({"sentence": "a", "decoding": {"threshold": 0.5}}, "'decoding': unknown decoding option 'threshold'"),
    ({"sentence": "a", "decoding": [1]}, "'decoding': decoding options must be a JSON object"),
    ({"sentence": "a", "meta": {1, 2}}, "cannot be written back as JSON"),
    ({"sentence": "a \ud800 b"}, "'sentence' holds a lone surrogate '\\ud800' at character 2, which is not text"),
    ({"document": "\udfff"}, "'document' holds a lone surrogate"),
])
def test_bad_inputs_become_error_records_beside_good_ones(predictor, item, message):
    bad, good = predictor.predict_batch_json([item, INPUTS[0]])
    assert set(bad) == {"error"} and message in bad["error"]
    assert good == predictor.predict_json(INPUTS[0])


def predictor_with(archive, overrides) -> SinetPredictor:
    """The archived model with config `overrides`, keeping every span (no "no entity")."""
    predictor = Predictor.from_archive(load_archive(str(archive), overrides=overrides))
    model = predictor._model
    with torch.no_grad():
        model.entity_classifier.bias[model.no_entity] = -100.0
    model.max_relation_entities = 3
    return predictor


def test_a_1500_word_sentence_is_predicted_in_segments_with_offsets_that_slice_back(fixture_archive):
    # The tiny encoder takes 512 positions; with max_length 128 it reads the sentence 128 at a time.
    predictor = predictor_with(fixture_archive, {"validation_dataset_reader.max_length": 128,
                                                 "model.embedder.token_embedders.tokens.max_length": 128})
    words = (TOKENS * 150)[:1500]
    result = predictor.predict_json({"tokens": words})
    assert "error" not in result and result["tokens"] == words
    ends = [entity["end"] for entity in result["entities"]]
    assert len(ends) == 1500 * 8 - 28 and max(ends) == 1500  # every span of at most 8 words, to the last
    for entity in result["entities"]:
        assert entity["text"] == " ".join(words[entity["start"] : entity["end"]])


@pytest.mark.parametrize("key", ["sentences", "document"])
def test_a_documents_sentences_are_read_with_their_context_when_the_reader_has_a_window(fixture_archive, key):
    second = ["They", "are", "used", "for", "tagging", "."]
    document = {"sentences": [TOKENS, second]} if key == "sentences" else {"document": " ".join(TOKENS + second)}

    def first_sentence_scores(window, item):
        predictor = predictor_with(fixture_archive, {"validation_dataset_reader.context_window": window})
        result = predictor.predict_json(item)
        return [entity["score"] for entity in result["entities"] if entity["end"] <= len(TOKENS)]

    for window in (0, 16):
        alone = first_sentence_scores(window, {"tokens": TOKENS})  # a sentence input has no context
        in_document = first_sentence_scores(window, document)
        assert len(alone) == len(in_document) > 0
        assert (alone == in_document) == (window == 0)


def test_given_tokens_with_a_lone_surrogate_are_predicted_as_in_training(predictor):
    assert predictor.predict_json({"tokens": ["a", "b\udc00"]})["tokens"] == ["a", "b\udc00"]


def test_a_document_beyond_spacys_length_limit_is_predicted(predictor):
    document = "Models work." + " " * 1_000_000 + "They parse."  # spaCy's default limit: 1,000,000 characters
    assert predictor.predict_json({"document": document})["tokens"] == ["Models", "work", ".", "They", "parse", "."]


def test_error_records_name_their_line(fixture_archive):
    predictor = Predictor.from_archive(load_archive(str(fixture_archive)))  # fresh line count
    lines = ['{"sentence": "We compare models."}', "not json", "[1, 2]", '{"tokens": "a"}',
             DEEP_LINE, json.dumps(INPUTS[3])]
    results = predictor.predict_batch_json([predictor.load_line(line + "\n") for line in lines])
    assert [result.get("line") for result in results] == [None, 2, 3, 4, 5, None]
    assert "too deeply" in results[4]["error"]
    assert "not valid JSON" in results[1]["error"] and "got list" in results[2]["error"]
    assert results[0]["tokens"] == ["We", "compare", "models", "."]
    assert results[5] == predictor.predict_json(INPUTS[3])


def allennlp_predict(archive: Path, lines, tmp_path: Path, prelude: str = "", options=()) -> subprocess.CompletedProcess:
    """`allennlp predict` in a subprocess from the repository root (where `.allennlp_plugins`
    loads the plugin), two lines per batch, with further `options`, after the Python code
    `prelude`; returns the process with its output lines."""
    input_file, output_file = tmp_path / "input.jsonl", tmp_path / "output.jsonl"
    input_file.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    allennlp = f"{prelude}\nimport sys\nfrom allennlp.commands import main\nsys.argv[0] = 'allennlp'\nmain()"
    process = subprocess.run(
        [sys.executable, "-c", allennlp, "predict", str(archive), str(input_file),
         "--output-file", str(output_file), "--silent", "--batch-size", "2", *options],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    process.outputs = [json.loads(line) for line in output_file.read_text(encoding="utf-8").splitlines()]
    return process


def test_allennlp_predict_writes_every_line_and_logs_the_failures(fixture_archive, tmp_path):
    """As AllenNLP runs it: blank lines skipped, an error record numbered by the lines the predictor
    saw, each failure logged with the count so far, exit status 0 (`sinet-extract` exits 1)."""
    lines = ["", json.dumps(INPUTS[0]), "   ", "{broken", json.dumps(INPUTS[1]), "",
             json.dumps({"words": ["a"]}), json.dumps(INPUTS[2]), DEEP_LINE, json.dumps({"sentence": TOO_LONG})]
    process = allennlp_predict(fixture_archive, lines, tmp_path)
    assert process.returncode == 0, process.stderr
    assert "input line 2 could not be predicted (1 failure(s) so far): the line is not valid JSON" in process.stderr
    assert "input line 4 could not be predicted (2 failure(s) so far): expected exactly one" in process.stderr
    assert "input line 6 could not be predicted (3 failure(s) so far): the line nests JSON" in process.stderr
    outputs = process.outputs
    assert len(outputs) == 7  # one per non-blank input line
    assert [output.get("line") for output in outputs] == [None, 2, None, 4, None, 6, None]  # non-blank lines seen
    assert outputs[1]["error"].startswith("the line is not valid JSON")
    assert len(outputs[6]["tokens"]) == 600  # over the encoder's limit, predicted without an override
    for output in (outputs[0], outputs[2], outputs[4], outputs[6]):
        check_result(output, tokens_given=output is outputs[4])


def test_allennlp_predict_on_a_data_file_through_its_reader(fixture_archive, predictor, tmp_path):
    """`--use-dataset-reader`: per sentence its source, the prediction its tokens get, and its gold."""
    records = json.loads((FIXTURE_DATA / "spert" / "test.json").read_text(encoding="utf-8"))
    process = allennlp_predict(fixture_archive, [json.dumps(records)], tmp_path, options=["--use-dataset-reader"])
    assert process.returncode == 0, process.stderr
    assert len(process.outputs) == len(records)
    for number, (output, record) in enumerate(zip(process.outputs, records)):
        assert output["source"] == f"input.jsonl, record {number}"
        prediction = predictor.predict_json({"tokens": record["tokens"]})
        assert {key: output[key] for key in prediction} == prediction
        gold = sorted((e["start"], e["end"], e["type"]) for e in record["entities"])
        assert [(e["start"], e["end"], e["type"]) for e in output["gold_entities"]] == gold
        assert all(e["text"] == " ".join(record["tokens"][e["start"] : e["end"]]) for e in output["gold_entities"])
        # Gold relations index the gold entities; the fixture's (symmetric Compare too) are head first.
        assert {relation_triple(output["gold_entities"], relation) for relation in output["gold_relations"]} == {
            relation_triple(record["entities"], relation) for relation in record["relations"]}


def relation_triple(entities, relation):
    head, tail = entities[relation["head"]], entities[relation["tail"]]
    return (head["start"], head["end"]), (tail["start"], tail["end"]), relation["type"]


CRASH_ON_THE_SECOND_BATCH = """
from sinet_allen.predictors.sinet_predictor import SinetPredictor
predict, batches = SinetPredictor._predict_instances, []
def crash_on_the_second_batch(self, *args):
    batches.append(args)
    if len(batches) == 2:
        raise KeyboardInterrupt
    return predict(self, *args)
SinetPredictor._predict_instances = crash_on_the_second_batch
"""


def test_allennlp_predict_keeps_its_output_when_stopped_after_a_bad_line(fixture_archive, tmp_path):
    lines = ["{broken", json.dumps(INPUTS[0]), json.dumps(INPUTS[1]), json.dumps(INPUTS[2])]
    process = allennlp_predict(fixture_archive, lines, tmp_path, prelude=CRASH_ON_THE_SECOND_BATCH)
    assert process.returncode != 0 and "KeyboardInterrupt" in process.stderr
    # The first batch's two lines were written before the stop: buffered output is not lost.
    assert [output.get("line") for output in process.outputs] == [1, None]
    check_result(process.outputs[1])


def test_allennlp_predict_succeeds_when_every_line_does(predictor, fixture_archive, tmp_path):
    process = allennlp_predict(fixture_archive, [json.dumps(item) for item in INPUTS], tmp_path)
    assert process.returncode == 0, process.stderr
    assert process.outputs == predictor.predict_batch_json(INPUTS)


def test_prediction_needs_no_training_data(fixture_archive):
    """A model used where its training data is absent (the types file is only needed for gold)."""
    archive = load_archive(str(fixture_archive),
                           overrides={"validation_dataset_reader.types_file": "absent/types.json"})
    assert "error" not in Predictor.from_archive(archive).predict_json(INPUTS[0])
