"""allennlp sinet-check-data: counts and every problem of a small file written to hold each kind."""
import json

import pytest

from tests.commands.test_convert import TYPES, run
from tests.conftest import TINY_BERT


def record(tokens, entities, relations=()):
    return {"tokens": tokens, "entities": [{"type": t, "start": s, "end": e} for t, s, e in entities],
            "relations": [{"type": t, "head": h, "tail": tl} for t, h, tl in relations]}


def test_report_counts_and_names_every_problem(tmp_path, capsys):
    words = [f"w{i}" for i in range(12)]
    data = tmp_path / "data.json"
    data.write_text(json.dumps([
        record(words, [("Task", 0, 10), ("Method", 0, 2), ("Metric", 1, 3), ("Method", 0, 2), ("Generic", 0, 2)],
               [("Used-for", 1, 2), ("Used-for", 1, 2), ("Compare", 1, 2), ("Compare", 2, 1)]),
        record(words, []),  # the same words again
        record(["a"], [("Nonsense", 0, 1)]),  # an unknown type: an invalid record
        record(["x"] * 600, []),  # beyond the tiny BERT's 512 wordpieces
    ]))
    with pytest.raises(SystemExit) as exited:  # problems reported: a non-zero exit status
        run("sinet-check-data", data, "--types", TYPES, "--model", TINY_BERT, "--json", tmp_path / "report.json")
    assert exited.value.code == 1
    report = json.loads((tmp_path / "report.json").read_text())
    assert (report["sentences"], report["documents"], report["encoder"]) == (3, 3, str(TINY_BERT))
    assert report["entities"] == {"Method": 2, "Task": 1, "Metric": 1, "Generic": 1}
    assert report["relations"] == {"Used-for": 2, "Compare": 2}
    assert report["triples"] == {"Method / Used-for / Metric": 2, "Method / Compare / Metric": 1,
                                 "Metric / Compare / Method": 1}
    assert report["findings"] == {
        "nested entities (pairs)": 2, "overlapping entities (pairs)": 1,
        "entities longer than the maximum span size": 1, "one span with several entity types": 1,
        "duplicate entities": 1, "duplicate relations": 1, "symmetric relations stored in both orders": 1,
        "sentences beyond the encoder's limit": 1, "duplicate sentences": 1}
    assert len(report["problems"]) == 8
    assert any(problem.startswith(f"{data}, record 2: entities[0]: unknown entity type 'Nonsense'")
               for problem in report["problems"])
    printed = capsys.readouterr().out
    assert "data.json, record 0: entity [0, 10) Task 'w0 w1 w2 w3 w4 w5 w6 w7 w8 w9' is 10 words long" in printed
    assert "data.json, record 0: symmetric relation Compare [0, 2) -> [1, 3) is stored in both orders" in printed
    assert "data.json, record 3: the sentence has 602 wordpieces, more than the encoder's limit of 512" in printed
    assert "data.json, record 1: the same words as data.json, record 0" in printed


def test_a_file_without_problems_passes(tmp_path, capsys):
    data = tmp_path / "data.json"
    data.write_text(json.dumps([record(["We", "use", "CRFs", "."], [("Method", 2, 3)])]))
    run("sinet-check-data", data, "--types", TYPES)  # returns: exit status 0
    assert "problems (0):" in capsys.readouterr().out


def test_a_model_archive_is_checked_without_its_encoder_folder(tmp_path, monkeypatch, capsys, fixture_archive):
    """The archive's config names the encoder relative to the repository: from elsewhere the
    archive's copy of the tokenizer serves."""
    data = tmp_path / "data.json"
    data.write_text(json.dumps([record(["word"] * 600, [])]))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        run("sinet-check-data", data, "--model", fixture_archive)
    assert "the sentence has 602 wordpieces, more than the encoder's limit of 512" in capsys.readouterr().out
