#!/usr/bin/env python
"""The demo page of `allennlp sinet-serve` in a real browser: serves a model on a free local port,
opens the page in Debian's headless chromium (through Selenium and chromium-driver), types a text,
submits it, waits for the result and saves a screenshot. The page test (tests/server/test_page.py)
drives the page through the same functions.

    python scripts/demo_screenshot.py ARCHIVE --output docs/images/demo_page.png [--text "..."]
"""
import argparse
import contextlib
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, Iterator

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # a checkout without pip install

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
# Headless, and nothing that reaches the network or keeps state between runs.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1300,700")
# One sentence of an abstract's usual length (55 words): the page must wrap it legibly.
DEFAULT_TEXT = ("We present a joint model for entity and relation extraction from scientific abstracts that "
                "encodes each sentence with a pretrained transformer, scores every candidate span with a "
                "cross-task attention module, and links the retained entities through a pairwise classifier, "
                "which improves relation F1 on SciERC over strong pipeline baselines of comparable size and "
                "training cost.")
# Each word's text as drawn: [left, top, right, bottom] of the text itself (a Range), which a
# shrunk box would not show, and [left, right] of its box.
WORD_BOXES = """return Array.from(document.querySelectorAll('.word')).map(word => {
  const range = document.createRange(); range.selectNodeContents(word);
  const text = range.getBoundingClientRect(), box = word.getBoundingClientRect();
  return {text: [text.left, text.top, text.right, text.bottom], box: [box.left, box.right]};
});"""


@contextlib.contextmanager
def serving(app) -> Iterator[str]:
    """`app` under uvicorn on 127.0.0.1 in a thread; yields its URL."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # log_config=None: uvicorn's own logging setup (dictConfig) would close every handler of the
    # process, e.g. AllenNLP's file handler of an earlier run, and later log calls would fail on it.
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"the server did not start on port {port}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


@contextlib.contextmanager
def chromium() -> Iterator["webdriver.Chrome"]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="sinet-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def extract_in_page(driver, url: str, text: str, timeout: float = 120) -> Dict[str, object]:
    """Types `text` into the page, submits it, waits for the answer; what the page then shows."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    box = driver.find_element(By.ID, "text")
    box.clear()
    box.send_keys(text)
    driver.find_element(By.ID, "submit").click()
    status = driver.find_element(By.ID, "status")
    WebDriverWait(driver, timeout).until(lambda _: "entities" in status.text or "Error" in status.text)
    time.sleep(0.3)  # the arcs are drawn on the next animation frame, once the words are laid out
    count = lambda selector: len(driver.find_elements(By.CSS_SELECTOR, selector))  # noqa: E731
    return {"status": status.text, "words": [w.text for w in driver.find_elements(By.CSS_SELECTOR, ".word")],
            "entity_marks": count(".entity-mark"), "arcs": count("svg.arcs path.arc"),
            "arc_labels": [t.text for t in driver.find_elements(By.CSS_SELECTOR, "svg.arcs text.arc-label")],
            "shaded_words": count(".word.shaded"), "word_boxes": driver.execute_script(WORD_BOXES),
            "legend": len(driver.find_elements(By.CSS_SELECTOR, "#legend span")),
            "page_width": driver.execute_script("return document.documentElement.clientWidth")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", help="a model.tar.gz")
    parser.add_argument("--output", type=Path, required=True, help="the PNG to write")
    parser.add_argument("--text", default=DEFAULT_TEXT)
    args = parser.parse_args()
    from allennlp.models.archival import load_archive

    from sinet_allen.server.app import app_for_archive

    with serving(app_for_archive(load_archive(args.archive))) as url, chromium() as driver:
        shown = extract_in_page(driver, url, args.text)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1300, height + 160)  # the window's frame takes part of its height
        time.sleep(0.5)
        driver.save_screenshot(str(args.output))
    print(f"{shown['status']}; {shown['entity_marks']} entity marks, {shown['arcs']} arcs, "
          f"{shown['shaded_words']} shaded words -> {args.output}")


if __name__ == "__main__":
    main()
