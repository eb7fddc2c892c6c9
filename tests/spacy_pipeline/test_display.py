"""displaCy on the component's Docs: every entity drawn (plain `displacy.render` and our page),
the relations table, and the page in a real browser (Debian's headless chromium) without
overlapping words or labels."""
import importlib
import shutil
import sys
from html.parser import HTMLParser
from typing import List, Tuple

import pytest
import spacy
from spacy import displacy

from conftest import REPO
from sinet_allen.spacy_pipeline import relations_table, render

sys.path.insert(0, str(REPO / "scripts"))
screenshot = importlib.import_module("spacy_screenshot")
sys.path.remove(str(REPO / "scripts"))

# 45 words.
SENTENCE = ("We compare hidden Markov models with support vector machines and conditional random fields for "
            "part-of-speech tagging , named entity recognition and semantic role labeling on three corpora of "
            "English news text , and we find kernel methods faster while neural taggers are more accurate .")
BROWSER_MISSING = [path for path in (screenshot.CHROMIUM, screenshot.CHROMEDRIVER) if not shutil.which(path)]

RenderedToken = Tuple[str, int, List[str]]  # text, bars under it, labels starting on it


class SpanView(HTMLParser):
    """The tokens of displaCy's span view (`<div class="spans">`), as drawn: a token with entities
    is a span holding its text (bare, or in a `sinet-text` span), a bar per entity over it and one
    more bar per entity starting on it, with the entity's label inside; a token without entities is
    bare text. Hidden spacers (`aria-hidden`) are skipped."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: List[RenderedToken] = []
        self.inside = False
        self.roles: List[str] = []  # of the open spans: token, text, bar, label, hidden

    def handle_starttag(self, tag, attrs):
        if tag == "div" and ("class", "spans") in attrs:
            self.inside = True
        elif self.inside and tag == "span":
            role = self._role(dict(attrs))
            self.roles.append(role)
            if role == "token":
                self.tokens.append(("", 0, []))
            elif role == "bar":
                text, bars, labels = self.tokens[-1]
                self.tokens[-1] = (text, bars + 1, labels)

    def _role(self, attrs) -> str:
        if not self.roles:
            return "token"
        if "aria-hidden" in attrs or self.roles[-1] == "hidden":
            return "hidden"
        if self.roles[-1] == "bar":
            return "label"
        return "text" if attrs.get("class") == "sinet-text" else "bar"

    def handle_endtag(self, tag):
        if self.inside and tag == "span":
            self.roles.pop()
        elif tag == "div":
            self.inside = False

    def handle_data(self, data):
        if not self.inside or not data.strip():
            return
        where = self.roles[-1] if self.roles else None
        if where is None:
            self.tokens.extend((word, 0, []) for word in data.split())
        elif where in ("token", "text"):
            text, bars, labels = self.tokens[-1]
            self.tokens[-1] = (text + data.strip(), bars, labels)
        elif where == "label":
            self.tokens[-1][2].append(data.strip())


def rendered_tokens(html: str) -> List[RenderedToken]:
    view = SpanView()
    view.feed(html)
    return [(text, bars, sorted(labels)) for text, bars, labels in view.tokens]


def expected_tokens(doc, key: str = "sinet") -> List[RenderedToken]:
    spans = doc.spans[key]
    rows = []
    for token in doc:
        if token.is_space:
            continue
        covering = sum(span.start <= token.i < span.end for span in spans)
        starting = sorted(span.label_ for span in spans if span.start == token.i)
        rows.append((token.text, covering + len(starting), starting))
    return rows


@pytest.fixture(scope="module")
def nlp(graded_archive):
    nlp = spacy.blank("en")
    nlp.add_pipe("sinet", config={"archive": str(graded_archive), "relation_threshold": 0.0})
    nlp.get_pipe("sinet").extractor.predictor.model.max_relation_entities = 3
    return nlp


def test_the_45_word_sentence_has_nested_entities(nlp):
    doc = nlp(SENTENCE)
    assert len(SENTENCE.split()) == 45
    spans = doc.spans["sinet"]
    assert len(spans) > 45 and any(a.start < b.start < a.end for a in spans for b in spans)  # nested, overlapping


def test_plain_displacy_draws_every_entity_of_a_45_word_sentence(nlp):
    doc = nlp(SENTENCE)
    html = displacy.render(doc, style="span", options={"spans_key": "sinet"}, jupyter=False)
    assert rendered_tokens(html) == expected_tokens(doc)


def test_the_page_draws_every_entity_and_lists_every_relation(nlp):
    doc = nlp(SENTENCE)
    html = render(doc, title="a <test>")
    assert html.startswith("<!DOCTYPE html>") and "<title>a &lt;test&gt;</title>" in html
    assert rendered_tokens(html) == expected_tokens(doc)
    relations = doc._.sinet_relations
    assert 0 < len(relations) == html.count("<tr>") - 1  # a row per relation under the header
    first = relations[0]
    assert (f"<td>{first.head.text}<span" in html and f"<td>{first.label}</td>" in html
            and f"<td>{first.tail.text}<span" in html and f"<td>{first.score:.2f}</td>" in html)


def test_a_doc_without_relations_says_so(graded_archive):
    nlp = spacy.blank("en")
    nlp.add_pipe("sinet", config={"archive": str(graded_archive)})  # the archive's threshold: none here
    doc = nlp("Kernel methods work.")
    assert doc._.sinet_relations == [] and len(doc.spans["sinet"]) > 0
    assert relations_table(doc) == '<p class="sinet-relations">No relations.</p>'
    assert relations_table(spacy.blank("en")("No component ran.")) == '<p class="sinet-relations">No relations.</p>'


@pytest.mark.skipif(bool(BROWSER_MISSING), reason=(
    f"{' and '.join(BROWSER_MISSING)} absent: install Debian's chromium and chromium-driver "
    "(apt-get install -y chromium chromium-driver, as .ci/run does)"))
@pytest.mark.parametrize("flat", [False, True], ids=["nested", "flat"])
def test_in_a_browser_no_word_or_label_overlaps_another(nlp, graded_archive, tmp_path, flat):
    if flat:
        nlp = spacy.blank("en")
        nlp.add_pipe("sinet", config={"archive": str(graded_archive), "overlapping_entities": False})
    doc = nlp(" ".join([SENTENCE] * 2))
    page = tmp_path / "page.html"
    page.write_text(render(doc), encoding="utf-8")
    with screenshot.chromium() as driver:
        measured = screenshot.measure_page(driver, page)
    assert [word["text"] for word in measured["words"]] == [token.text for token in doc if not token.is_space]
    assert len(measured["labels"]) == len(doc.spans["sinet"])
    lines = {round(word["top"]) for word in measured["words"]}
    assert len(lines) > 3  # the text wraps: the layout across lines is checked too
    assert screenshot.check_layout(measured) == {"words": [], "labels_on_words": [], "labels": []}
