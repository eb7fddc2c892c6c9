"""allennlp sinet-convert: the training formats both ways, the annotation tools, splits, types,
bad input (an error naming file and line, no output left) and --skip-bad."""
import argparse
import json
import shutil
from pathlib import Path

import pytest

from sinet_allen.commands.check_data import SinetCheckData
from sinet_allen.commands.convert import SinetConvert
from sinet_allen.dataset_readers.formats import load_types, read_sentences
from tests.conftest import FIXTURE_DATA, FIXTURES, require_real_data

TYPES = FIXTURE_DATA / "spert/types.json"
BRAT = FIXTURES / "brat"


def run(*argv):
    """Runs a plugin subcommand in-process, as `allennlp <argv>` would."""
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers()
    for command in (SinetConvert(), SinetCheckData()):
        command.add_subparser(subparsers)
    args = parser.parse_args([str(a) for a in argv])
    return args.func(args)


def convert(*argv):
    return run("sinet-convert", *argv)


def content(path, types=None):
    """Everything a conversion must keep: tokens, entities, relations, document."""
    return [(s.tokens, s.entities, s.relations, s.doc_key)
            for s in read_sentences(path, types=load_types(types) if types else None)]


def failure(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as raised:
        convert(*argv)
    return str(raised.value)


@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_spert_to_dygie_to_spert(tmp_path, capsys, split):
    source = FIXTURE_DATA / f"spert/{split}.json"
    convert(source, tmp_path / "a.jsonl", "--from", "spert")
    convert(tmp_path / "a.jsonl", tmp_path / "b.json", "--from", "dygie")
    assert content(tmp_path / "b.json") == content(source)
    records = json.loads(source.read_text())
    assert json.loads((tmp_path / "b.json").read_text()) == records  # same records
    counts = (len(records), sum(len(r["entities"]) for r in records), sum(len(r["relations"]) for r in records))
    documents = len({r.get("orig_id", n) for n, r in enumerate(records)})
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"wrote {counts[0]} sentences ({documents} documents), {counts[1]} entities, {counts[2]} relations to "
        f"{tmp_path / 'b.json'} (spert)")


@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_dygie_to_spert_to_dygie(tmp_path, split):
    source = FIXTURE_DATA / f"dygie/{split}.jsonl"
    convert(source, tmp_path / "a.json", "--from", "dygie")
    convert(tmp_path / "a.json", tmp_path / "b.jsonl", "--from", "spert")
    assert content(tmp_path / "b.jsonl") == content(source)
    keep = ("doc_key", "sentences", "ner", "relations")
    assert [{k: d[k] for k in keep} for d in map(json.loads, (tmp_path / "b.jsonl").read_text().splitlines())] == \
        [{k: d[k] for k in keep} for d in map(json.loads, source.read_text().splitlines())]


def test_types_canonicalise_labels_and_explicit_target(tmp_path):
    out = tmp_path / "out.txt"
    convert(FIXTURE_DATA / "dygie/train.jsonl", out, "--from", "dygie", "--to", "spert", "--types", TYPES)
    assert content(out) == content(FIXTURE_DATA / "spert/train.json")  # "USED-FOR" became "Used-for"


def test_unknown_extension_needs_to(tmp_path, capsys):
    assert "use a .json/.jsonl name or --to" in failure(capsys, FIXTURE_DATA / "spert/dev.json",
                                                        tmp_path / "out.txt", "--from", "spert")


def test_unknown_format_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        convert(BRAT, tmp_path / "out.json", "--from", "conll")
    assert "invalid choice: 'conll'" in capsys.readouterr().err


def test_invalid_input_fails_cleanly_or_is_skipped(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"tokens": ["a"]}, {"tokens": ["b"], "entities": [
        {"type": "Task", "start": 0, "end": 2}]}, {"tokens": ["c"]}]))
    out = tmp_path / "out.jsonl"
    assert f"{bad}, record 1: entities[0]" in failure(capsys, bad, out, "--from", "spert")
    assert not out.exists()
    convert(bad, out, "--from", "spert", "--skip-bad")
    printed = capsys.readouterr().out
    assert "wrote 2 sentences" in printed and f"skipped 1 bad record(s):\n  {bad}, record 1" in printed
    assert [s[0] for s in content(out)] == [["a"], ["c"]]


def test_brat_to_spert_with_types_and_split(tmp_path, capsys):
    convert(BRAT, tmp_path / "data", "--from", "brat", "--to", "spert", "--split", "0.6", "0.2", "0.2",
            "--seed", "1", "--types-out", tmp_path / "data/types.json")
    parts = {name: content(tmp_path / f"data/{name}.json") for name in ("train", "dev", "test")}
    documents = {name: {s[3] for s in sentences} for name, sentences in parts.items()}
    assert sorted(len(d) for d in documents.values()) == [1, 1, 3]
    assert set.union(*documents.values()) == {"acme", "cancer", "curie", "muenchen", "sorbonne"}
    assert sum(len(d) for d in documents.values()) == 5  # no document in two splits
    types = load_types(tmp_path / "data/types.json")
    assert types.symmetric == {"Same_as"}  # from brat's equivalences
    assert set(types.entity_types) == {"Person", "Organization", "Location", "Substance", "Acquisition", "Disease"}
    assert "(symmetric: Same_as)" in capsys.readouterr().out
    convert(BRAT, tmp_path / "again", "--from", "brat", "--to", "spert", "--split", "0.6", "0.2", "0.2",
            "--seed", "1")
    assert all(content(tmp_path / f"again/{name}.json") == parts[name] for name in parts)  # the seed decides


def test_symmetric_type_must_occur(tmp_path, capsys):
    message = failure(capsys, BRAT, tmp_path / "out.json", "--from", "brat", "--symmetric", "Spouse",
                      "--types-out", tmp_path / "types.json")
    assert "symmetric relation type(s) Spouse do not occur in the data" in message
    assert not (tmp_path / "out.json").exists() and not (tmp_path / "types.json").exists()


def test_brat_to_spert_to_brat_keeps_every_entity_and_relation(tmp_path):
    convert(BRAT, tmp_path / "a.json", "--from", "brat")
    convert(tmp_path / "a.json", tmp_path / "brat", "--from", "spert", "--to", "brat", "--text-dir", BRAT,
            "--symmetric", "Same_as")
    for text in BRAT.glob("*.txt"):
        assert (tmp_path / "brat" / text.name).read_text(encoding="utf-8") == text.read_text(encoding="utf-8")
    convert(tmp_path / "brat", tmp_path / "b.json", "--from", "brat")
    assert content(tmp_path / "b.json") == content(tmp_path / "a.json")
    ann = (tmp_path / "brat/acme.ann").read_text(encoding="utf-8")
    assert "T4\tOrganization 43 57\tNew York Times\n" in ann and "*\tSame_as T7 T8\n" in ann
    assert "Same_as\tArg1:<ENTITY>, Arg2:<ENTITY>, <REL-TYPE>:symmetric-transitive\n" in \
        (tmp_path / "brat/annotation.conf").read_text()


def test_predictions_to_brat(tmp_path):
    text = "Zoë works at Acme. It is in Köln."
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts/memo.txt").write_text(text, encoding="utf-8")
    lines = [
        {"doc_key": "memo", "tokens": ["Zoë", "works", "at", "Acme", ".", "It", "is", "in", "Köln", "."],
         "sentences": [[0, 5], [5, 10]],
         "entities": [{"type": "Person", "start": 0, "end": 1, "text": "Zoë", "score": 0.9},
                      {"type": "Organization", "start": 3, "end": 4, "text": "Acme", "score": 0.8},
                      {"type": "Location", "start": 8, "end": 9, "text": "Köln", "score": 0.7}],
         "relations": [{"head": 0, "tail": 1, "type": "Works_for", "score": 0.6}]},
        {"error": "expected a JSON object, got list", "line": 2},
    ]
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    convert(predictions, tmp_path / "brat", "--from", "predictions", "--to", "brat", "--text-dir", tmp_path / "texts")
    assert (tmp_path / "brat/memo.ann").read_text(encoding="utf-8") == (
        "T1\tPerson 0 3\tZoë\nT2\tOrganization 13 17\tAcme\nR1\tWorks_for Arg1:T1 Arg2:T2\n"
        "T3\tLocation 28 32\tKöln\n")
    assert (tmp_path / "brat/memo.txt").read_text(encoding="utf-8") == text


def test_predictions_of_other_text_are_refused(tmp_path, capsys):
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts/memo.txt").write_text("Something else entirely.", encoding="utf-8")
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text(json.dumps({"doc_key": "memo", "tokens": ["Zoë"], "entities": [], "relations": []}))
    message = failure(capsys, predictions, tmp_path / "brat", "--from", "predictions", "--to", "brat",
                      "--text-dir", tmp_path / "texts")
    assert "the word 'Zoë' does not follow character 0" in message
    assert not (tmp_path / "brat").exists()


def brat_copy(tmp_path, name, ann=None, text=None) -> Path:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    shutil.copy(BRAT / f"{name}.txt", folder)
    shutil.copy(BRAT / f"{name}.ann", folder)
    if ann is not None:
        (folder / f"{name}.ann").write_text(ann, encoding="utf-8")
    if text is not None:
        (folder / f"{name}.txt").write_bytes(text)
    return folder


@pytest.mark.parametrize("ann, text, expected", [
    ("T1\tPerson 0 11\tMarie Curie\nT2 Person 12 20\n", None,
     "curie.ann, line 2: expected 'ID<tab>TYPE START END<tab>TEXT' (tab-separated)"),
    ("T1\tPerson 0 500\tMarie Curie\n", None, "curie.ann, line 1: offsets 0 500 lie outside the text (80 characters)"),
    ("T1\tPerson 0 11\tMarie Curie\nR1\tWorks_for Arg1:T1 Arg2:T9\n", None,
     "curie.ann, line 2: the relation refers to T9, which is no text-bound annotation (T) of curie.ann"),
    ("T1\tPerson 1 12\tMarie Curie\n", None,
     "curie.ann, line 1: the annotation's text 'Marie Curie' differs from the characters at its offsets, 'arie Curie '"),
    ("X1\tsomething\n", None, "curie.ann, line 1: a line must start with T, R, *, E, A, M, N or #"),
    (None, b"Marie Curie\nCaf\xe9\n", "curie.txt, line 2: not valid UTF-8 (byte b'\\xe9')"),
])
def test_bad_brat_input_names_file_and_line_and_writes_nothing(tmp_path, capsys, ann, text, expected):
    folder = brat_copy(tmp_path, "curie", ann, text)
    message = failure(capsys, folder, tmp_path / "out.json", "--from", "brat", "--types-out", tmp_path / "t.json")
    assert expected in message
    assert not (tmp_path / "out.json").exists() and not (tmp_path / "t.json").exists()


def test_skip_bad_counts_the_bad_brat_lines(tmp_path, capsys):
    folder = brat_copy(tmp_path, "curie", "T1\tPerson 0 11\tMarie Curie\nT2\tPerson 0 500\tx\n"
                                          "R1\tWorks_for Arg1:T1 Arg2:T2\n")
    convert(folder, tmp_path / "out.json", "--from", "brat", "--skip-bad")
    printed = capsys.readouterr().out
    assert "skipped 2 bad record(s):" in printed and "curie.ann, line 3: the relation refers to T2" in printed
    assert content(tmp_path / "out.json")[0][1:3] == ([read_entity(0, 2, "Person")], [])


def read_entity(start, end, label):
    from sinet_allen.schema import Entity
    return Entity(start, end, label)


def test_real_scierc_round_trip(tmp_path):
    root = require_real_data("scierc_dygie/test.jsonl", "scierc/types.json")
    source, types = root / "scierc_dygie/test.jsonl", root / "scierc/types.json"
    convert(source, tmp_path / "a.json", "--from", "dygie")
    convert(tmp_path / "a.json", tmp_path / "b.jsonl", "--from", "spert")
    original = content(source)
    assert len(original) == 551
    assert content(tmp_path / "a.json") == original
    assert content(tmp_path / "b.jsonl", types) == content(source, types)
