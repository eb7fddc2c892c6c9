"""`allennlp sinet-significance` and the paired bootstrap behind it, on prediction-format files."""
import json
import sys
import tarfile

import numpy
import pytest
from allennlp.commands import main
from allennlp.commands.evaluate import evaluate_from_archive

import sinet_allen.commands  # noqa: F401  (registers the subcommands)
from conftest import FIXTURE_DATA
from sinet_allen.experiments.bootstrap import count_array, micro_f1, paired_bootstrap, paired_records
from sinet_allen.predictors.prediction_format import read_predictions

A = (0, 1, "Method")
B = (2, 3, "Task")
C = (4, 5, "Method")
USED_FOR = (A, B, "Used-for")
COMPARE = (A, C, "Compare")


def entity_dicts(spans):
    return [{"type": label, "start": start, "end": end, "text": "w"} for start, end, label in spans]


def relation_dicts(spans, relations):
    return [{"head": spans.index(head), "tail": spans.index(tail), "type": label} for head, tail, label in relations]


def record(entities, relations, gold_entities=(A, B, C), gold_relations=(USED_FOR, COMPARE), index=0):
    """A prediction line with gold; entities are (start, end, type), relations (head, tail, type)."""
    entities, gold_entities = list(entities), list(gold_entities)
    return {"source": f"test.json, record {index}", "tokens": [f"w{index}"] * 6,
            "entities": entity_dicts(entities), "relations": relation_dicts(entities, relations),
            "gold_entities": entity_dicts(gold_entities),
            "gold_relations": relation_dicts(gold_entities, gold_relations)}


def corpus(entities, relations, size=20):
    return [record(entities, relations, index=i) for i in range(size)]


def write_lines(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_identical_systems_have_no_difference_and_p_one():
    records = [record([A, B], [USED_FOR], index=i) if i % 2 else record([A], [], index=i) for i in range(30)]
    counts = count_array(records)
    result = paired_bootstrap(counts, counts, samples=500, seed=1)
    for comparison in result.values():
        assert comparison.delta == 0.0
        assert comparison.p_value == 1.0


def test_a_system_better_on_every_sentence_has_p_zero():
    weak, strong = corpus([A], []), corpus([A, B, C], [USED_FOR, COMPARE])
    result = paired_bootstrap(count_array(weak), count_array(strong), samples=500, seed=1)
    assert result["ent"].f1_a == pytest.approx(2 * 1 / (1 + 3))
    assert result["ent"].f1_b == 1.0
    assert result["rel"].f1_a == 0.0
    assert all(comparison.delta > 0 and comparison.p_value == 0.0 for comparison in result.values())
    # The other direction: B never beats A.
    reverse = paired_bootstrap(count_array(strong), count_array(weak), samples=500, seed=1)
    assert all(comparison.p_value == 1.0 for comparison in reverse.values())


def test_symmetric_relations_match_in_either_order():
    reversed_compare = [(C, A, "Compare")]
    records = corpus([A, B, C], reversed_compare)
    assert count_array(records)[0, 1].tolist() == [0, 1, 2]
    assert count_array(records, symmetric=["Compare"])[0, 1].tolist() == [1, 1, 2]


def test_p_value_matches_a_plain_loop_over_the_same_resamples():
    rng = numpy.random.default_rng(5)
    counts_a, counts_b = (rng.integers(0, 4, size=(40, 3, 3)).astype(float) for _ in range(2))
    samples, seed = 300, 11
    draws = numpy.random.default_rng(seed).integers(0, 40, size=(samples, 40))
    deltas = numpy.array([micro_f1(counts_b[d].sum(0)) - micro_f1(counts_a[d].sum(0)) for d in draws])

    result = paired_bootstrap(counts_a, counts_b, samples=samples, seed=seed)

    expected = (deltas <= 0).mean(0)
    assert [c.p_value for c in result.values()] == pytest.approx(expected.tolist())
    observed = micro_f1(counts_b.sum(0)) - micro_f1(counts_a.sum(0))
    assert [c.delta for c in result.values()] == pytest.approx(observed.tolist())


def test_same_seed_same_result_across_chunks():
    rng = numpy.random.default_rng(0)
    counts_a, counts_b = (rng.integers(0, 3, size=(50, 3, 3)).astype(float) for _ in range(2))
    first = paired_bootstrap(counts_a, counts_b, samples=2500, seed=3)
    assert paired_bootstrap(counts_a, counts_b, samples=2500, seed=3) == first
    assert 0.0 < first["ent"].p_value < 1.0


def test_predictions_of_different_test_sets_are_rejected():
    base = corpus([A], [], size=3)
    with pytest.raises(ValueError, match="3 sentences, system B 2"):
        paired_records(base, base[:2])
    other_gold = base[:2] + [record([A], [], gold_relations=[USED_FOR], index=2)]
    with pytest.raises(ValueError, match="sentence 3 differs .* gold_relations"):
        paired_records(base, other_gold)
    with pytest.raises(ValueError, match="system B has no prediction for 'test.json, record 2'"):
        paired_records(base, base[:2] + [record([A], [], index=7)])


def test_sentences_are_paired_by_their_source():
    system_a, system_b = corpus([A], [], size=5), corpus([A, B], [], size=5)
    assert paired_records(system_a, system_b[::-1]) == system_b
    without_source = [{key: value for key, value in r.items() if key != "source"} for r in system_b]
    assert paired_records(system_a, without_source) == without_source  # by position


@pytest.mark.parametrize("line, message", [
    ({"tokens": [], "entities": [], "relations": []}, "line 2: no gold_entities, gold_relations"),
    ({"error": "bad input", "line": 3}, "line 2: an error record, the input was not predicted: bad input"),
    ({**record([A], []), "relations": [{"head": 4, "tail": 0, "type": "Used-for"}]}, "line 2: an entity or relation"),
    ("not json", "line 2: not valid JSON"),
    ([1, 2], "line 2: expected a JSON object, got list"),
])
def test_a_line_that_is_no_prediction_with_gold_is_rejected(tmp_path, line, message):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(record([A], [])) + "\n" + (line if isinstance(line, str) else json.dumps(line)) + "\n")
    with pytest.raises(ValueError, match=f"{path}, {message}"):
        read_predictions(path)


@pytest.mark.parametrize("problem, message", [
    ("a line", "{b}, line 2: not valid JSON"),
    ("a sentence", "{b} against {a}: system A has 3 sentences, system B 2"),
    ("the archive", "{archive}: no config.json inside; is it a model archive?"),
    ("the config", "{config}: not a valid config: "),
    ("a missing file", "No such file or directory: '{missing}'"),
])
def test_an_unusable_input_is_a_one_line_error_naming_it(tmp_path, monkeypatch, capsys, problem, message):
    path_a = write_lines(tmp_path / "a.jsonl", corpus([A], [], size=3))
    path_b = write_lines(tmp_path / "b.jsonl", corpus([A], [], size=3 if problem != "a sentence" else 2))
    options = []
    if problem == "a line":
        path_b.write_text(path_b.read_text().replace("\n", "\n{oops\n", 1))
    elif problem == "the archive":
        options = ["--archive", tmp_path / "model.tar.gz"]
        with tarfile.open(options[1], "w:gz") as archive:
            archive.add(path_a, "weights.th")
    elif problem == "the config":
        options = ["--config", tmp_path / "config.jsonnet"]
        options[1].write_text("{ model: { symmetric_relations: [ }")
    elif problem == "a missing file":
        path_b = tmp_path / "missing.jsonl"
    paths = {"a": path_a, "b": path_b, "archive": tmp_path / "model.tar.gz", "config": tmp_path / "config.jsonnet",
             "missing": path_b}
    with pytest.raises(SystemExit) as exited:
        run_significance(monkeypatch, capsys, path_a, path_b, *options)
    error = str(exited.value.code)
    assert error.startswith("sinet-significance: error: ") and "\n" not in error
    assert message.format(**paths) in error


def test_command_prints_and_writes_json(tmp_path, monkeypatch, capsys):
    path_a = write_lines(tmp_path / "a.jsonl", corpus([A], []))
    path_b = write_lines(tmp_path / "b.jsonl", corpus([A, B, C], [USED_FOR, (C, A, "Compare")]))
    output = tmp_path / "significance.json"
    monkeypatch.setattr(sys, "argv", ["allennlp", "sinet-significance", str(path_a), str(path_b), "--samples",
                                      "200", "--symmetric", "Compare", "--output", str(output)])
    main()

    printed = capsys.readouterr().out
    assert "Ent      50.00  100.00  +50.00  0.0000" in printed
    assert "Symmetric relation types: Compare (from --symmetric)" in printed
    result = json.loads(output.read_text())
    assert result["sentences"] == 20 and result["symmetric"] == ["Compare"]
    assert result["symmetric_from"] == "--symmetric"
    # B's reversed Compare counts as correct only because Compare is symmetric.
    assert result["rel_strict"] == {"f1_a": 0.0, "f1_b": 1.0, "delta": 1.0, "p_value": 0.0}


def run_significance(monkeypatch, capsys, *arguments):
    monkeypatch.setattr(sys, "argv", ["allennlp", "sinet-significance", *map(str, arguments), "--samples", "200"])
    main()
    return capsys.readouterr().out


def test_symmetric_types_come_from_the_runs_config_or_the_archive(tmp_path, monkeypatch, capsys, fixture_archive):
    records = corpus([A, B, C], [USED_FOR, (C, A, "Compare")])
    runs = [tmp_path / "base" / "seed1", tmp_path / "sinet" / "seed1"]
    for run in runs:
        run.mkdir(parents=True)
        write_lines(run / "test_predictions.jsonl", records)
    files = [run / "test_predictions.jsonl" for run in runs]
    assert "Symmetric relation types: none (from no run config" in run_significance(monkeypatch, capsys, *files)
    printed = run_significance(monkeypatch, capsys, *files, "--archive", fixture_archive)
    assert f"Symmetric relation types: Compare, Conjunction (from {fixture_archive})" in printed
    # The runner writes the predictions beside the run's config.json.
    for run, types in zip(runs, (["Compare"], ["Compare"])):
        (run / "config.json").write_text(json.dumps({"model": {"type": "sinet", "symmetric_relations": types}}))
    assert "Symmetric relation types: Compare (from " in run_significance(monkeypatch, capsys, *files)
    (runs[1] / "config.json").write_text(json.dumps({"model": {"symmetric_relations": ["Conjunction"]}}))
    with pytest.raises(SystemExit, match="the runs' configs disagree on the symmetric relation types"):
        run_significance(monkeypatch, capsys, *files)
    assert "Compare (from --symmetric)" in run_significance(monkeypatch, capsys, *files, "--symmetric", "Compare")


def test_two_evaluated_archives_compared(fixture_archive, eager_archive, tmp_path, monkeypatch, capsys):
    """The user's path: `allennlp evaluate --predictions-output-file` on two archives, then the test."""
    test_file = str(FIXTURE_DATA / "spert" / "test.json")
    files = []
    for name, archive in (("base", fixture_archive), ("eager", eager_archive)):
        files.append(tmp_path / f"{name}.jsonl")
        evaluate_from_archive(archive, test_file, predictions_output_file=str(files[-1]))
    printed = run_significance(monkeypatch, capsys, *files, "--archive", fixture_archive)
    assert "Paired bootstrap, 4 sentences, 200 resamples" in printed
    table = printed.splitlines()[-3:]
    assert [row.split()[0] for row in table] == ["Ent", "Rel", "Rel+"]
    # The eager model finds some gold entities, the barely trained one none.
    f1_a, f1_b, delta, p_value = map(float, table[0].split()[1:])
    assert f1_a == 0.0 and f1_b > 0.0 and delta == f1_b and 0.0 <= p_value < 1.0
    assert all(0.0 <= float(row.split()[4]) <= 1.0 for row in table)
