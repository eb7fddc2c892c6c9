"""allennlp sinet-report: errors classified as they are, scores as the metric counts them, and one
valid, self-contained HTML file that marks them; two files side by side."""
import argparse
import json
from html.parser import HTMLParser

import pytest

from sinet_allen.commands.report import SinetReport
from sinet_allen.visualization.error_analysis import entity_confusion, scores, sentence_errors

TOKENS = ["Kernel", "methods", "beat", "hidden", "Markov", "models", "on", "parsing", "."]


def record(entities, relations, gold_entities, gold_relations, source):
    return {"source": source, "tokens": TOKENS,
            "entities": [{"type": t, "start": s, "end": e, "text": " ".join(TOKENS[s:e]), "score": 0.9}
                         for t, s, e in entities],
            "relations": [{"head": h, "tail": tl, "type": t, "score": 0.8} for h, tl, t in relations],
            "gold_entities": [{"type": t, "start": s, "end": e, "text": " ".join(TOKENS[s:e])} for t, s, e in gold_entities],
            "gold_relations": [{"head": h, "tail": tl, "type": t} for h, tl, t in gold_relations]}


GOLD_ENTITIES = [("Method", 0, 2), ("Method", 3, 6), ("Task", 7, 8)]
GOLD_RELATIONS = [(0, 1, "Compare"), (0, 2, "Used-for")]
# System A: "hidden Markov models" typed Task, "on" a false positive, Compare found as Conjunction,
# Used-for missed with its tail "parsing".
SYSTEM_A = [
    record([("Method", 0, 2), ("Task", 3, 6), ("Generic", 6, 7)], [(0, 1, "Conjunction")],
           GOLD_ENTITIES, GOLD_RELATIONS, "dev.json, record 1"),
    record(GOLD_ENTITIES, GOLD_RELATIONS, GOLD_ENTITIES, GOLD_RELATIONS, "dev.json, record 2"),
]
SYSTEM_B = [record(GOLD_ENTITIES, GOLD_RELATIONS, GOLD_ENTITIES, GOLD_RELATIONS, r["source"]) for r in SYSTEM_A]


def test_errors_are_classified_by_kind():
    found = {(error.kind, error.description) for error in sentence_errors(SYSTEM_A[0])}
    assert found == {
        ("missed entity", "“parsing” Task"),
        ("wrong entity type", "“hidden Markov models” Task, gold Method"),
        ("spurious entity", "“on” Generic"),
        ("missed relation", "“Kernel methods” → “parsing” Used-for"),
        # Typed differently, the tail of Compare differs as well: Rel+ counts a missed and a spurious relation.
        ("missed relation", "“Kernel methods” → “hidden Markov models” Compare"),
        ("spurious relation", "“Kernel methods” → “hidden Markov models” Conjunction"),
    }
    assert sentence_errors(SYSTEM_A[1]) == []


def test_scores_and_confusion_count_what_the_metric_counts():
    figures = scores(SYSTEM_A)
    assert figures["ent_precision"] == pytest.approx(4 / 6) and figures["ent_recall"] == pytest.approx(4 / 6)
    assert figures["rel_strict_recall"] == pytest.approx(2 / 4)
    assert figures["ent_f1_Task"] == pytest.approx(2 * (1 / 2) * (1 / 2) / 1)  # 1 of 2 predicted, 1 of 2 gold
    confusion = entity_confusion(SYSTEM_A)
    assert confusion[("Method", "Task")] == 1 and confusion[("(none)", "Generic")] == 1
    assert confusion[("Task", "(none)")] == 1 and confusion[("Method", "Method")] == 3


class Page(HTMLParser):
    """Fails on malformed nesting; collects the text, external references and the sentences' words
    marked as spurious."""

    VOID = {"meta", "input", "br", "rect", "img", "link"}

    def __init__(self):
        super().__init__()
        self.open, self.text, self.external, self.marks = [], [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.external += [value for key, value in attrs.items() if key in ("src", "href")]
        in_sentence = any("words" in classes.split() for _, classes in self.open)
        if in_sentence and "err-spurious-entity" in (attrs.get("class") or ""):
            self.marks.append(len(self.text))
        if tag not in self.VOID:
            self.open.append((tag, attrs.get("class") or ""))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.open and self.open[-1][0] == tag, f"</{tag}> closes <{self.open[-1][0] if self.open else None}>"
        self.open.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(path):
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    assert page.open == []
    return page


def run_report(*argv):
    parser = argparse.ArgumentParser()
    SinetReport().add_subparser(parser.add_subparsers())
    args = parser.parse_args(["sinet-report", *map(str, argv)])
    args.func(args)


def write_lines(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_the_report_is_one_offline_page_with_the_errors_marked(tmp_path):
    predictions = write_lines(tmp_path / "a.jsonl", SYSTEM_A)
    run_report(predictions, "--output", tmp_path / "report.html")
    page = parse(tmp_path / "report.html")
    assert page.external == []  # nothing fetched: opens offline
    text = "".join(page.text)
    for word in TOKENS:
        assert word in text
    assert "“on” Generic" in text and "spurious entity" in text
    assert [page.text[i] for i in page.marks] == ["on"]  # the false positive's word is marked as such
    assert "66.67" in text  # Ent precision of system A
    assert not (tmp_path / "report.html.partial").exists()


def test_two_systems_side_by_side(tmp_path):
    a, b = write_lines(tmp_path / "a.jsonl", SYSTEM_A), write_lines(tmp_path / "b.jsonl", SYSTEM_B[::-1])
    run_report(a, b, "--output", tmp_path / "report.html")
    text = "".join(parse(tmp_path / "report.html").text)
    assert "B = " + str(b) in text and "100.00" in text  # B is perfect
    assert text.count("no error") == 3  # B in both sentences, A in the second


def test_different_sentences_are_refused_and_nothing_is_written(tmp_path):
    a = write_lines(tmp_path / "a.jsonl", SYSTEM_A)
    b = write_lines(tmp_path / "b.jsonl", SYSTEM_A[:1])
    with pytest.raises(SystemExit, match="not on the same test set"):
        run_report(a, b, "--output", tmp_path / "report.html")
    assert sorted(tmp_path.iterdir()) == [a, b]
