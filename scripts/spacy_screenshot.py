#!/usr/bin/env python
"""The displaCy page of the spaCy component (sinet_allen/spacy_pipeline/display.py) in a real
browser: predicts an abstract with `nlp.add_pipe("sinet")`, writes the page, opens it in Debian's
headless chromium (as scripts/demo_screenshot.py does), measures where every word and every entity
label is drawn, saves a screenshot and exits 1 when two words, or a word and a label, overlap.
The display test (tests/spacy_pipeline/test_display.py) checks pages through the same functions.

    python scripts/spacy_screenshot.py ARCHIVE --output docs/images/spacy_displacy.png \\
        [--data $SINET_DATA_DIR/scierc_dygie/test.jsonl] [--doc-key KEY] [--html page.html]
"""
import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # a checkout without pip install
sys.path.insert(0, str(REPO / "scripts"))

from demo_screenshot import CHROMEDRIVER, CHROMIUM, chromium  # noqa: E402,F401  (the display test asks for them)

Box = Dict[str, object]  # {"text", "left", "top", "right", "bottom"} in CSS pixels

# Every word of the span view (text nodes outside the labels) and every label, with its box.
MEASURE_JS = """
const root = document.querySelector('.spans');
const LABEL = '.sinet-label';  // a span's label, at its first token
const words = [], labels = [];
const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
const box = (text, r) => ({text: text, left: r.left, top: r.top, right: r.right, bottom: r.bottom});
while (walker.nextNode()) {
  const node = walker.currentNode;
  if (node.parentElement.closest(LABEL) || node.parentElement.closest('[aria-hidden]')) continue;
  for (const match of node.data.matchAll(/\\S+/g)) {
    const range = document.createRange();
    range.setStart(node, match.index);
    range.setEnd(node, match.index + match[0].length);
    words.push(box(match[0], range.getBoundingClientRect()));
  }
}
for (const label of root.querySelectorAll(LABEL)) labels.push(box(label.textContent.trim(), label.getBoundingClientRect()));
return {words: words, labels: labels, height: document.documentElement.scrollHeight};
"""

PTB_BRACKETS = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{", "-RCB-": "}"}


def abstract_text(data: Path, doc_key: Optional[str] = None) -> Tuple[str, str]:
    """(doc_key, raw text) of a DyGIE-format document: its first one, or the one named. The tokens
    are joined with spaces, PTB brackets restored and the space before closing punctuation dropped."""
    with open(data, encoding="utf-8") as lines:
        for line in lines:
            document = json.loads(line)
            if doc_key in (None, document["doc_key"]):
                words = [PTB_BRACKETS.get(word, word) for sentence in document["sentences"] for word in sentence]
                text = re.sub(r" ([.,;:)\]}])", r"\1", " ".join(words))
                return document["doc_key"], re.sub(r"([(\[{]) ", r"\1", text)
    raise ValueError(f"{data}: no document {doc_key!r}")


def overlaps(boxes: List[Box], others: Optional[List[Box]] = None, tolerance: float = 0.5) -> List[Tuple[str, str]]:
    """Pairs of boxes that overlap by more than `tolerance` pixels each way (within `boxes`, or
    between `boxes` and `others`); empty boxes (a word of whitespace) are ignored."""
    def drawn(items):
        return [b for b in items if b["right"] - b["left"] > 0 and b["bottom"] - b["top"] > 0]

    def overlap(a, b):
        return (min(a["right"], b["right"]) - max(a["left"], b["left"]) > tolerance
                and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > tolerance)

    first = drawn(boxes)
    pairs = ([(a, b) for k, a in enumerate(first) for b in first[k + 1:]] if others is None
             else [(a, b) for a in first for b in drawn(others)])
    return [(a["text"], b["text"]) for a, b in pairs if overlap(a, b)]


def measure_page(driver, page: Path) -> Dict[str, object]:
    """Opens the page and measures its words and labels."""
    driver.get(page.resolve().as_uri())
    time.sleep(0.3)
    return driver.execute_script(MEASURE_JS)


def check_layout(measured: Dict[str, object]) -> Dict[str, list]:
    """What overlaps on a measured page: words with words, labels with words, labels with labels."""
    words, labels = measured["words"], measured["labels"]
    return {"words": overlaps(words), "labels_on_words": overlaps(labels, words), "labels": overlaps(labels)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", help="a model.tar.gz")
    parser.add_argument("--output", type=Path, required=True, help="the PNG to write")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("SINET_DATA_DIR", "data"))
                        / "scierc_dygie" / "test.jsonl", help="a DyGIE-format file of abstracts")
    parser.add_argument("--doc-key", help="the abstract to show (default: the file's first)")
    parser.add_argument("--html", type=Path, help="also keep the page here")
    parser.add_argument("--flat", action="store_true", help="flat decoding (overlapping_entities false)")
    args = parser.parse_args()
    import spacy

    import sinet_allen  # noqa: F401  registers the "sinet" factory
    from sinet_allen.spacy_pipeline import render

    doc_key, text = abstract_text(args.data, args.doc_key)
    nlp = spacy.blank("en")
    nlp.add_pipe("sinet", config={"archive": str(args.archive), "overlapping_entities": False if args.flat else None})
    doc = nlp(text)
    with tempfile.TemporaryDirectory() as folder:
        page = args.html or Path(folder) / "page.html"
        page.write_text(render(doc, title=doc_key), encoding="utf-8")
        with chromium() as driver:
            measured = measure_page(driver, page)
            driver.set_window_size(1300, measured["height"] + 160)  # the window's frame takes part of its height
            time.sleep(0.5)
            driver.save_screenshot(str(args.output))
    found = check_layout(measured)
    print(f"{doc_key}: {len(doc.spans['sinet'])} entities, {len(doc._.sinet_relations)} relations, "
          f"{len(measured['words'])} words and {len(measured['labels'])} labels drawn; overlapping: "
          + ", ".join(f"{len(pairs)} {kind.replace('_', ' ')}" for kind, pairs in found.items())
          + f" -> {args.output}")
    sys.exit(1 if any(found.values()) else 0)


if __name__ == "__main__":
    main()
