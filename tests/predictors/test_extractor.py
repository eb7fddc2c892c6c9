"""The Python API: `Extractor` gives the `sinet` predictor's results for raw texts."""
import pytest

from sinet_allen.extractor import Extractor
from sinet_allen.models.joint_ie_model import BFLOAT16_COPY
from sinet_allen.predictors.decoding_options import DecodingOptions
from sinet_allen.predictors.sinet_predictor import SinetPredictor

TEXTS = [
    "We compare hidden Markov models with support vector machines. They are used for tagging.",
    "",
    "Kernel methods work  well.\nSo do neural networks!",
]


@pytest.fixture(scope="module")
def extractor(fixture_archive) -> Extractor:
    return Extractor.from_archive(fixture_archive)


def test_extract_gives_the_predictors_result_for_a_document(extractor):
    assert isinstance(extractor.predictor, SinetPredictor)
    result = extractor.extract(TEXTS[0])
    assert result == extractor.predictor.predict_json({"document": TEXTS[0]})
    assert set(result) == {"text", "tokens", "sentences", "entities", "relations"}
    assert result["sentences"] == [[0, 10], [10, 16]]
    for entity in result["entities"]:
        assert TEXTS[0][entity["char_start"] : entity["char_end"]] == entity["text"]


def test_extract_many_is_extract_in_batches(extractor):
    one_by_one = [extractor.extract(text) for text in TEXTS]
    assert extractor.extract_many(TEXTS) == one_by_one
    assert extractor.extract_many(TEXTS, batch_size=1) == one_by_one
    assert one_by_one[1] == {"text": "", "tokens": [], "entities": [], "relations": [], "sentences": []}
    assert extractor.extract_many([]) == []


def test_a_sentence_longer_than_the_encoders_limit_is_predicted(extractor):
    long_text = "Fine. " + " ".join(["word"] * 600)
    results = extractor.extract_many(["Fine.", long_text])
    assert "error" not in results[0] and "error" not in results[1]
    assert results[1]["sentences"] == [[0, 2], [2, 602]]


def test_texts_must_be_strings(extractor):
    with pytest.raises(TypeError, match="got list at position 1"):
        extractor.extract_many(["fine", ["not", "text"]])
    with pytest.raises(TypeError, match="not one string"):
        extractor.extract_many("We use CRFs.")


def test_a_generator_of_texts_is_read_once_and_every_text_predicted(extractor):
    texts = ["We use CRFs.", TEXTS[0], "Kernel methods work."]
    results = extractor.extract_many(text for text in texts)
    assert results == [extractor.extract(text) for text in texts]
    assert len(results) == 3 and results[0]["tokens"] == ["We", "use", "CRFs", "."]


def test_decoding_options_of_the_extractor_and_of_a_call(fixture_archive, extractor):
    none = DecodingOptions(relation_threshold=1.0)
    flat = Extractor.from_archive(fixture_archive, overlapping_entities=False, relation_threshold=1.0)
    assert flat.predictor.decoding.overlapping_entities is False
    assert flat.extract(TEXTS[0]) == extractor.extract(TEXTS[0], decoding=DecodingOptions(False, 1.0))
    assert extractor.extract(TEXTS[0], decoding=none)["relations"] == []


def test_inference_precision_reaches_the_model(fixture_archive, extractor):
    reduced = Extractor.from_archive(fixture_archive, inference_precision="bfloat16")
    assert reduced.predictor._model.inference_precision == "bfloat16"
    assert extractor.predictor._model.inference_precision == "float32"
    result = reduced.extract(TEXTS[0])
    assert set(result) == {"text", "tokens", "sentences", "entities", "relations"}
    assert BFLOAT16_COPY in reduced.predictor._model.__dict__  # the bfloat16 encoder ran
