"""The Python API: `Extractor` gives the `sinet` predictor's results for raw texts."""
import pytest

from sinet_allen.extractor import Extractor
from sinet_allen.models.joint_ie_model import BFLOAT16_COPY
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
    assert set(result) == {"tokens", "sentences", "entities", "relations"}
    assert result["sentences"] == [[0, 10], [10, 16]]
    for entity in result["entities"]:
        assert TEXTS[0][entity["char_start"] : entity["char_end"]] == entity["text"]


def test_extract_many_is_extract_in_batches(extractor):
    one_by_one = [extractor.extract(text) for text in TEXTS]
    assert extractor.extract_many(TEXTS) == one_by_one
    assert extractor.extract_many(TEXTS, batch_size=1) == one_by_one
    assert one_by_one[1] == {"tokens": [], "entities": [], "relations": [], "sentences": []}
    assert extractor.extract_many([]) == []


def test_a_sentence_too_long_for_the_encoder_gives_an_error_record(extractor):
    results = extractor.extract_many(["Fine.", "Fine. " + " ".join(["word"] * 600)])
    assert "error" not in results[0]
    assert results[1]["error"].startswith("sentence 2: ")


def test_texts_must_be_strings(extractor):
    with pytest.raises(TypeError, match="got list at position 1"):
        extractor.extract_many(["fine", ["not", "text"]])


def test_inference_precision_reaches_the_model(fixture_archive, extractor):
    reduced = Extractor.from_archive(fixture_archive, inference_precision="bfloat16")
    assert reduced.predictor._model.inference_precision == "bfloat16"
    assert extractor.predictor._model.inference_precision == "float32"
    result = reduced.extract(TEXTS[0])
    assert set(result) == {"tokens", "sentences", "entities", "relations"}
    assert BFLOAT16_COPY in reduced.predictor._model.__dict__  # the bfloat16 encoder ran
