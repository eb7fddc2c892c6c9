"""scripts/convert_format.py: round trips on the fixtures and the real data, counts, errors."""
import importlib.util
import json
import subprocess
import sys

import pytest

from sinet_allen.dataset_readers.formats import load_types, read_sentences
from conftest import FIXTURE_DATA as FIXTURES, REPO, require_real_data

TYPES = FIXTURES / "spert/types.json"
SCRIPT = REPO / "scripts/convert_format.py"


def load_script():
    spec = importlib.util.spec_from_file_location("convert_format", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


convert = load_script().main


def content(path, types=None):
    """Everything a conversion must keep: tokens, entities, relations, document and position."""
    return [(s.tokens, s.entities, s.relations, s.doc_key)
            for s in read_sentences(path, types=load_types(types) if types else None)]


@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_spert_to_dygie_to_spert(tmp_path, capsys, split):
    source = FIXTURES / f"spert/{split}.json"
    assert convert([str(source), str(tmp_path / "a.jsonl")]) == 0
    assert convert([str(tmp_path / "a.jsonl"), str(tmp_path / "b.json")]) == 0
    assert content(tmp_path / "b.json") == content(source)
    records = json.loads(source.read_text())
    assert json.loads((tmp_path / "b.json").read_text()) == records  # same records
    counts = (len(records), sum(len(r["entities"]) for r in records),
              sum(len(r["relations"]) for r in records))
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"wrote {counts[0]} sentences, {counts[1]} entities, {counts[2]} relations to "
        f"{tmp_path / 'b.json'} (spert)")


@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_dygie_to_spert_to_dygie(tmp_path, split):
    source = FIXTURES / f"dygie/{split}.jsonl"
    assert convert([str(source), str(tmp_path / "a.json")]) == 0
    assert convert([str(tmp_path / "a.json"), str(tmp_path / "b.jsonl")]) == 0
    assert content(tmp_path / "b.jsonl") == content(source)
    keep = ("doc_key", "sentences", "ner", "relations")
    assert [{k: d[k] for k in keep} for d in map(json.loads, (tmp_path / "b.jsonl").read_text().splitlines())] == \
        [{k: d[k] for k in keep} for d in map(json.loads, source.read_text().splitlines())]


def test_types_canonicalise_labels_and_explicit_target(tmp_path):
    out = tmp_path / "out.txt"
    assert convert([str(FIXTURES / "dygie/train.jsonl"), str(out), "--to", "spert",
                    "--types", str(TYPES)]) == 0
    assert content(out) == content(FIXTURES / "spert/train.json")  # "USED-FOR" became "Used-for"


def test_unknown_extension_needs_to(tmp_path, capsys):
    with pytest.raises(SystemExit):
        convert([str(FIXTURES / "spert/dev.json"), str(tmp_path / "out.txt")])
    assert "use a .json/.jsonl name or --to" in capsys.readouterr().err


def test_invalid_input_fails_cleanly_or_is_skipped(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"tokens": ["a"]}, {"tokens": ["b"], "entities": [
        {"type": "Task", "start": 0, "end": 2}]}, {"tokens": ["c"]}]))
    out = tmp_path / "out.jsonl"
    assert convert([str(bad), str(out)]) == 1
    assert f"error: {bad}, record 1: entities[0]" in capsys.readouterr().err
    assert not out.exists()
    assert convert([str(bad), str(out), "--skip-invalid"]) == 0
    assert "wrote 2 sentences" in capsys.readouterr().out
    assert [s[0] for s in content(out)] == [["a"], ["c"]]


def test_runs_as_a_command_from_the_repo_root(tmp_path):
    out = tmp_path / "dev.jsonl"
    result = subprocess.run([sys.executable, "scripts/convert_format.py",
                             str(FIXTURES / "spert/dev.json"), str(out)],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "wrote 4 sentences" in result.stdout
    assert content(out) == content(FIXTURES / "spert/dev.json")


def real_dygie_test():
    return require_real_data("scierc_dygie/test.jsonl") / "scierc_dygie/test.jsonl"


def test_real_scierc_dygie_round_trip(tmp_path):
    source = real_dygie_test()
    assert convert([str(source), str(tmp_path / "a.json")]) == 0
    assert convert([str(tmp_path / "a.json"), str(tmp_path / "b.jsonl")]) == 0
    original = content(source)
    assert len(original) == 551
    assert content(tmp_path / "a.json") == original
    assert content(tmp_path / "b.jsonl") == original
    types = source.parent.parent / "scierc/types.json"
    if types.is_file():
        assert content(tmp_path / "b.jsonl", types) == content(source, types)
