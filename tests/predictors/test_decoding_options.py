"""Real text without traps: sentences over the encoder's limit are predicted by default (folded in
passes of their own, ordinary sentences untouched), and the decoding options can be chosen per call
(predictor argument, call, input line), the archive's values staying the defaults."""
import pytest
import torch
from allennlp.common.checks import ConfigurationError
from allennlp.models.archival import load_archive
from allennlp.predictors import Predictor

from sinet_allen.predictors.decoding_options import DecodingOptions, OptionError
from sinet_allen.predictors.sinet_predictor import SinetPredictor

ORDINARY = [
    {"sentence": "We compare hidden Markov models with support vector machines."},
    {"document": "Kernel methods work well. So do neural networks for tagging!"},
    {"tokens": ["Parsing", "uses", "phrase-based", "models", "."]},
]
# 653 words, about 700 wordpieces: more than the encoder's 512.
LONG_WORDS = (["The", "statistical", "models", "use", "hidden", "Markov", "models", "for", "tagging", ","] * 66)[:652]
LONG_SENTENCE = " ".join(LONG_WORDS) + " ."


def eager(predictor: SinetPredictor) -> SinetPredictor:
    """Keeps every span (no "no entity") and relates the best three entities of each sentence, so
    that decoding options change many results."""
    model = predictor._model
    with torch.no_grad():
        model.entity_classifier.bias[model.no_entity] = -100.0
    model.max_relation_entities = 3
    return predictor


def predictor_of(archive, overrides=None, **predictor_args) -> SinetPredictor:
    return eager(Predictor.from_archive(load_archive(str(archive), overrides=overrides or {}),
                                        extra_args=predictor_args))


@pytest.fixture(scope="module")
def predictor(fixture_archive) -> SinetPredictor:
    return predictor_of(fixture_archive)


def test_a_653_word_sentence_is_predicted_without_any_override(predictor):
    result = predictor.predict_json({"sentence": LONG_SENTENCE})
    assert "error" not in result
    assert result["tokens"] == LONG_WORDS + ["."] and len(result["tokens"]) == 653
    assert max(entity["end"] for entity in result["entities"]) == 653  # read to the last word
    for entity in result["entities"]:
        assert LONG_SENTENCE[entity["char_start"] : entity["char_end"]] == entity["text"]


def test_the_long_sentence_is_read_as_allennlps_max_length_folding_reads_it(fixture_archive, predictor):
    configured = predictor_of(fixture_archive, {"validation_dataset_reader.max_length": 512,
                                                "model.embedder.token_embedders.tokens.max_length": 512})
    assert predictor.predict_json({"sentence": LONG_SENTENCE}) == configured.predict_json({"sentence": LONG_SENTENCE})


def test_ordinary_sentences_beside_a_long_one_are_predicted_as_without_it(predictor, monkeypatch):
    alone = predictor.predict_batch_json(ORDINARY)
    passes = []
    forward = predictor._model.forward_on_instances
    monkeypatch.setattr(predictor._model, "forward_on_instances",
                        lambda instances: passes.append([len(i["tokens"]) for i in instances]) or forward(instances))
    mixed = predictor.predict_batch_json([ORDINARY[0], {"sentence": LONG_SENTENCE}, *ORDINARY[1:]])
    assert [mixed[0], *mixed[2:]] == alone
    assert "error" not in mixed[1]
    # The long sentence has a forward pass of its own; the ordinary ones stay short.
    assert [max(lengths) > 512 for lengths in passes] == [False, True] and len(passes[1]) == 1


def test_max_length_per_call_folds_as_the_archive_setting_would(fixture_archive, predictor):
    words = (LONG_WORDS * 3)[:1500]
    configured = predictor_of(fixture_archive, {"validation_dataset_reader.max_length": 128,
                                                "model.embedder.token_embedders.tokens.max_length": 128})
    expected = configured.predict_json({"tokens": words})
    assert predictor.predict_batch_json([{"tokens": words}], decoding=DecodingOptions(max_length=128)) == [expected]
    assert predictor.predict_json({"tokens": words, "decoding": {"max_length": 128}}) == expected
    assert predictor.predict_json({"tokens": words}) != expected  # folded at 512 by default


def overlaps(result):
    spans = [(entity["start"], entity["end"]) for entity in result["entities"]]
    return any(a < d and c < b for i, (a, b) in enumerate(spans) for c, d in spans[i + 1:])


def test_flat_decoding_per_call_per_input_and_per_predictor(fixture_archive, predictor):
    item = ORDINARY[2]
    nested = predictor.predict_json(item)
    assert overlaps(nested)
    flat = predictor.predict_batch_json([item], decoding=DecodingOptions(overlapping_entities=False))[0]
    assert not overlaps(flat) and flat["entities"]
    assert predictor.predict_json({**item, "decoding": {"overlapping_entities": False}}) == flat
    assert predictor_of(fixture_archive, overlapping_entities=False).predict_json(item) == flat
    assert predictor.predict_json(item) == nested  # the model's own setting is back after the call
    assert predictor._model.overlapping_entities is True


def test_one_input_with_its_own_options_leaves_its_batch_mates_alone(predictor):
    every_relation = DecodingOptions(relation_threshold=0.0)
    plain = predictor.predict_batch_json(ORDINARY, decoding=every_relation)
    mixed = predictor.predict_batch_json([ORDINARY[0], {**ORDINARY[1], "decoding": {"relation_threshold": 1.0}},
                                          ORDINARY[2]], decoding=every_relation)
    assert [mixed[0], mixed[2]] == [plain[0], plain[2]]
    assert plain[1]["relations"] and mixed[1]["relations"] == []
    assert "decoding" not in mixed[1]


def test_relation_threshold_per_call(predictor):
    default = predictor.predict_batch_json(ORDINARY)
    low = predictor.predict_batch_json(ORDINARY, decoding=DecodingOptions(relation_threshold=0.0))
    threshold = predictor._model.relation_threshold
    for everything, kept in zip(low, default):
        assert everything["entities"] == kept["entities"]
        assert [r for r in everything["relations"] if r["score"] > threshold] == kept["relations"]
    assert sum(map(len, (r["relations"] for r in low))) > sum(map(len, (r["relations"] for r in default)))
    none = predictor.predict_batch_json(ORDINARY, decoding=DecodingOptions(relation_threshold=1.0))
    assert all(result["relations"] == [] for result in none)


@pytest.mark.parametrize("options, message", [
    ({"overlapping_entities": "no"}, "overlapping_entities must be true or false"),
    ({"relation_threshold": -0.1}, "relation_threshold must be a number from 0 to 1"),
    ({"max_length": 4}, "max_length must be a whole number of wordpieces, at least 8"),
    ({"max_length": True}, "max_length must be a whole number"),
])
def test_bad_options_are_named(options, message):
    with pytest.raises(OptionError, match=message):
        DecodingOptions.from_json(options)


def test_bad_options_of_a_call_or_the_predictor_are_errors(fixture_archive, predictor):
    with pytest.raises(OptionError, match="at most the encoder's limit of 512"):
        predictor.predict_batch_json(ORDINARY, decoding=DecodingOptions(max_length=1024))
    with pytest.raises(ConfigurationError, match="relation_threshold must be a number"):
        predictor_of(fixture_archive, relation_threshold=3)
