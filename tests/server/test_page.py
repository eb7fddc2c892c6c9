"""The demo page in a real browser (Debian's headless chromium through Selenium): type a sentence,
submit, find the entity marks, the relation arcs and the attention shading."""
import importlib
import shutil
import sys

import pytest
from allennlp.models.archival import load_archive
from allennlp.predictors import Predictor

from conftest import REPO
from sinet_allen.server.app import create_app

sys.path.insert(0, str(REPO / "scripts"))
demo = importlib.import_module("demo_screenshot")
sys.path.remove(str(REPO / "scripts"))

BROWSER_MISSING = [path for path in (demo.CHROMIUM, demo.CHROMEDRIVER) if not shutil.which(path)]


@pytest.mark.skipif(bool(BROWSER_MISSING), reason=(
    f"{' and '.join(BROWSER_MISSING)} absent: install Debian's chromium and chromium-driver "
    "(apt-get install -y chromium chromium-driver, as .ci/run does)"))
def test_the_page_shows_entities_relations_and_attention(eager_archive, tmp_path):
    predictor = Predictor.from_archive(load_archive(str(eager_archive)))
    # The eager fixture model calls every span a Method; with a threshold of 0 its two best spans
    # are related by every type, so there are arcs to draw.
    predictor.model.relation_threshold, predictor.model.max_relation_entities = 0.0, 2
    with demo.serving(create_app(predictor)) as url, demo.chromium() as driver:
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
