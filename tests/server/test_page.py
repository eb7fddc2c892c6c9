"""The demo page in a real browser (Debian's headless chromium through Selenium): type a sentence,
submit, find the entity marks, the relation arcs and the attention shading; a sentence of an
abstract's length wraps into lines with no word over another; a failed request clears the
previous text's results."""
import importlib
import shutil
import sys

import pytest
from allennlp.models.archival import load_archive
from allennlp.predictors import Predictor

from conftest import REPO
from sinet_allen.server.app import app_for_archive
from sinet_allen.server.limits import Limits

sys.path.insert(0, str(REPO / "scripts"))
demo = importlib.import_module("demo_screenshot")
sys.path.remove(str(REPO / "scripts"))

BROWSER_MISSING = [path for path in (demo.CHROMIUM, demo.CHROMEDRIVER) if not shutil.which(path)]


needs_browser = pytest.mark.skipif(bool(BROWSER_MISSING), reason=(
    f"{' and '.join(BROWSER_MISSING)} absent: install Debian's chromium and chromium-driver "
    "(apt-get install -y chromium chromium-driver, as .ci/run does)"))


def eager_app(eager_archive, limits: Limits = Limits()):
    """The eager fixture model calls every span a Method; with a threshold of 0 its two best spans
    are related by every type, so there are arcs to draw. The app and what it predicts with."""
    archive = load_archive(str(eager_archive))
    archive.model.relation_threshold, archive.model.max_relation_entities = 0.0, 2
    return app_for_archive(archive, limits), Predictor.from_archive(archive, "sinet")


@needs_browser
def test_the_page_shows_entities_relations_and_attention(eager_archive, tmp_path):
    app, predictor = eager_app(eager_archive)
    with demo.serving(app) as url, demo.chromium() as driver:
        shown = demo.extract_in_page(driver, url, "Kernel methods beat SVMs.")
        driver.save_screenshot(str(tmp_path / "page.png"))
    expected = predictor.predict_json({"document": "Kernel methods beat SVMs."})
    assert shown["words"] == ["Kernel", "methods", "beat", "SVMs", "."]
    assert shown["status"] == f"{len(expected['entities'])} entities, {len(expected['relations'])} relations"
    # A mark per word of each entity, nested spans on rows of their own.
    assert shown["entity_marks"] == sum(e["end"] - e["start"] for e in expected["entities"])
    assert shown["arcs"] == len(expected["relations"]) > 0
    assert sorted(shown["arc_labels"]) == sorted(f"{r['type']} {r['score']}" for r in expected["relations"])
    assert shown["shaded_words"] == 5  # the RE-aware CTAM weights, one shade per word
    assert (tmp_path / "page.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def overlapping(first, second) -> bool:
    """Whether two [left, top, right, bottom] rectangles share more than a hair."""
    return min(first[2], second[2]) - max(first[0], second[0]) > 0.5 and \
        min(first[3], second[3]) - max(first[1], second[1]) > 0.5


@needs_browser
def test_a_long_sentence_wraps_legibly_and_a_failed_request_clears_the_results(eager_archive):
    sentence = demo.DEFAULT_TEXT
    app, predictor = eager_app(eager_archive, Limits(max_text_chars=len(sentence) + 10))
    expected = predictor.predict_json({"document": sentence})
    assert len(expected["tokens"]) >= 45
    with demo.serving(app) as url, demo.chromium() as driver:
        shown = demo.extract_in_page(driver, url, sentence)
        failed = demo.extract_in_page(driver, url, sentence + " " + "more words " * 5)
    assert shown["words"] == expected["tokens"]
    texts = [word["text"] for word in shown["word_boxes"]]
    assert not [(a, b) for a in range(len(texts)) for b in range(a + 1, len(texts)) if overlapping(texts[a], texts[b])]
    for word in shown["word_boxes"]:  # every word's text inside its own box, and on the page
        assert word["box"][0] - 0.5 <= word["text"][0] and word["text"][2] <= word["box"][1] + 0.5
        assert word["text"][2] <= shown["page_width"]
    assert len({round(word["text"][1]) for word in shown["word_boxes"]}) > 1  # wrapped into lines
    assert shown["arcs"] == len(expected["relations"]) > 0 and shown["legend"] > 0
    assert failed["status"].startswith("Error 413: 'document' has")
    assert failed["words"] == [] and failed["entity_marks"] == failed["arcs"] == failed["legend"] == 0
