"""The example of docs/spacy.md runs: raw text to a Doc, its spans and relations, displaCy HTML."""
import contextlib
import io
import re

from conftest import REPO


def test_the_docs_example_runs_on_the_fixture_model(eager_archive, tmp_path):
    page = (REPO / "docs" / "spacy.md").read_text(encoding="utf-8")
    example = re.search(r"## Example.*?```python\n(.*?)```", page, re.S).group(1)
    assert 'archive = "runs/scierc/model.tar.gz"' in example and 'Path("doc.html")' in example
    example = (example.replace('archive = "runs/scierc/model.tar.gz"', f"archive = {str(eager_archive)!r}")
               .replace('Path("doc.html")', f"Path({str(tmp_path / 'doc.html')!r})"))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(example, "docs/spacy.md", "exec"), {})
    lines = printed.getvalue().splitlines()
    # The eager fixture model calls every span a Method: a line per entity, no relation above 0.5.
    assert lines and all(re.fullmatch(r"\d+-\d+ Method: .+ \(\d(\.\d+)?\)", line) for line in lines)
    assert "0-2 Method: We (1.0)" in lines
    html = (tmp_path / "doc.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "No relations." in html and "Method" in html
