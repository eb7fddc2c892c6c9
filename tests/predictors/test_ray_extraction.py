"""Extraction on Ray Data (sinet_allen/predictors/ray_extraction.py) on one local Ray for the module,
with two CPU workers and the fixture model that calls every span a Method (so that there are entities
and relations to compare): the outputs of several input files equal `sinet-extract`'s, an error
record sits at its file and line, a worker that dies mid-run loses and duplicates nothing, a rerun
completes an interrupted output without predicting its finished shards again (and reports a completed
one without starting Ray, and predicts an input changed since again), and a user's own Ray Dataset gets one prediction per row."""
import json
import os
from dataclasses import asdict
from pathlib import Path

import pytest
import ray

from conftest import sinet_extract
from sinet_allen.predictors.extraction import extract_file, load_predictor
from sinet_allen.predictors import ray_extraction
from sinet_allen.predictors.ray_extraction import (
    MANIFEST, PREDICTION_COLUMN, TEMPORARY_MARK, RunSummary, Shard, ShardExtractor, WorkerOptions, completed_run,
    extract_dataset, extract_files, find_inputs, input_states, plan_shards, ray_session)

TWO_WORKERS = WorkerOptions(num_workers=2, batch_size=2)
INPUTS = {
    "abstracts/a.jsonl": [json.dumps({"sentence": "We compare hidden Markov models with support vector machines."}),
                          json.dumps({"id": 2, "document": "Kernel methods work well. So do neural networks!"}),
                          "", json.dumps({"tokens": ["Parsing", "uses", "grammars", "."]}), "{broken",
                          json.dumps({"doc_key": "d", "sentences": [["A", "model", "."], [], ["It", "works", "."]]}),
                          json.dumps({"sentence": "The parser is used for semantic role labeling."})],
    "abstracts/more/b.txt": ["We compare hidden Markov models. They are used for tagging.", "",
                             "Kernel methods  work\twell."],
    "c.jsonl": [json.dumps({"sentence": f"Model {k} uses a parser trained on treebank {k}."}) for k in range(5)],
}
SHARD_LINES = 2


@pytest.fixture(scope="module")
def local_ray():
    with ray_session(None, TWO_WORKERS):  # two workers' CPUs and one for the reading tasks
        ray.data.DataContext.get_current().enable_progress_bars = False
        yield


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    for name, lines in INPUTS.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def expected(eager_archive, inputs, tmp_path_factory):
    """What single-process `sinet-extract` writes for each input file, by the file's name."""
    predictor, folder, outputs = load_predictor(eager_archive), tmp_path_factory.mktemp("single_process"), {}
    for name in INPUTS:
        extract_file(predictor, inputs / name, folder / "out.jsonl")
        outputs[name] = (folder / "out.jsonl").read_text(encoding="utf-8")
    return outputs


def parts(output_dir: Path, name: str):
    return sorted((output_dir / name).glob("lines-*.jsonl"))


def joined_output(output_dir: Path, name: str) -> str:
    """One input's output: its shards' outputs in name order (in line order)."""
    return "".join(part.read_text(encoding="utf-8") for part in parts(output_dir, name))


def temporaries(output_dir: Path):
    return [path for path in output_dir.rglob("*") if TEMPORARY_MARK in path.name]


def test_the_command_on_a_folder_writes_what_sinet_extract_writes_per_file(
        local_ray, eager_archive, inputs, expected, tmp_path, monkeypatch, capsys):
    status = sinet_extract(monkeypatch, eager_archive, inputs, "--engine", "ray", "--output-dir", tmp_path,
                           "--num-workers", 2, "--shard-lines", SHARD_LINES, "--batch-size", 2)
    assert status == 1  # the broken line
    for name, lines in INPUTS.items():
        assert len(parts(tmp_path, name)) == -(-len(lines) // SHARD_LINES)
        assert joined_output(tmp_path, name) == expected[name]
    assert f"{sum(map(len, INPUTS.values()))} lines, " in capsys.readouterr().out
    # the error records, where sinet-extract puts them: file a.jsonl, lines 3 and 5
    third_and_fourth, fifth_and_sixth = parts(tmp_path, "abstracts/a.jsonl")[1:3]
    assert third_and_fourth.name == "lines-000000003-000000004.jsonl"
    assert json.loads(third_and_fourth.read_text().splitlines()[0]) == {
        "error": "a blank line: expected a JSON object", "line": 3}
    assert json.loads(fifth_and_sixth.read_text().splitlines()[0])["line"] == 5
    assert json.loads((tmp_path / MANIFEST).read_text())["shard_lines"] == SHARD_LINES
    assert not temporaries(tmp_path)


def test_the_workers_decode_with_the_commands_decoding_options(
        local_ray, eager_archive, inputs, tmp_path, monkeypatch):
    """--no-overlapping-entities, --relation-threshold and --no-bucketing reach every worker: the
    outputs are sinet-extract's with the same options, and a rerun with other options is refused."""
    options = ["--no-overlapping-entities", "--relation-threshold", 0.9, "--no-bucketing"]
    assert sinet_extract(monkeypatch, eager_archive, inputs / "c.jsonl", "--output-file", tmp_path / "single.jsonl",
                         *options) == 0
    assert sinet_extract(monkeypatch, eager_archive, inputs / "c.jsonl", "--output-file", tmp_path / "eager.jsonl") == 0
    assert (tmp_path / "single.jsonl").read_text() != (tmp_path / "eager.jsonl").read_text()  # the options matter
    status = sinet_extract(monkeypatch, eager_archive, inputs / "c.jsonl", "--engine", "ray", "--output-dir",
                           tmp_path / "ray", "--num-workers", 1, "--shard-lines", SHARD_LINES, *options)
    assert status == 0
    assert joined_output(tmp_path / "ray", "c.jsonl") == (tmp_path / "single.jsonl").read_text()
    assert json.loads((tmp_path / "ray" / MANIFEST).read_text())["decoding"] == {
        "overlapping_entities": False, "relation_threshold": 0.9}
    status = sinet_extract(monkeypatch, eager_archive, inputs / "c.jsonl", "--engine", "ray", "--output-dir",
                           tmp_path / "ray", "--shard-lines", SHARD_LINES)
    assert "the outputs there were written with other settings (decoding {'overlapping_entities': False, " \
           "'relation_threshold': 0.9} there, None now)" in status


def test_the_input_is_a_file_a_folder_or_a_glob_and_outputs_keep_the_paths_under_it(inputs):
    assert [(file.name, file.input_format) for file in find_inputs(inputs)] == [
        ("abstracts/a.jsonl", "jsonl"), ("abstracts/more/b.txt", "text"), ("c.jsonl", "jsonl")]
    assert [file.name for file in find_inputs(inputs / "abstracts" / "*" / "*.txt")] == ["more/b.txt"]
    assert [file.name for file in find_inputs(inputs / "c.jsonl")] == ["c.jsonl"]
    with pytest.raises(FileNotFoundError, match="missing.jsonl: no such file or folder"):
        find_inputs(inputs / "missing.jsonl")
    with pytest.raises(FileNotFoundError, match=r"\*.csv: no input files there"):
        find_inputs(inputs / "*.csv")


def test_options_are_checked_before_any_worker_starts(fixture_archive, inputs, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="inference_precision must be one of float32, bfloat16, int8, not 'int4'"):
        WorkerOptions(inference_precision="int4")
    with pytest.raises(ValueError, match="num_workers must be positive, got 0"):
        WorkerOptions(num_workers=0)
    status = sinet_extract(monkeypatch, fixture_archive, inputs, "--engine", "ray", "--output-file", tmp_path / "out")
    assert "--engine ray writes --output-dir (not --output-file)" in status
    assert not (tmp_path / "out").exists()
    with pytest.raises(FileNotFoundError, match="missing.tar.gz: no such model archive"):
        extract_files(tmp_path / "missing.tar.gz", inputs, tmp_path / "out")


def test_shards_cover_every_line_once_with_its_number(tmp_path):
    source = tmp_path / "input.txt"
    source.write_bytes(b"one\n\nthree\r\nfour\nfive")  # a blank line, a \r\n, no \n at the end
    file = find_inputs(source)[0]
    shards = [Shard(**row) for row in plan_shards(asdict(file), "OUT", shard_lines=2)]
    assert [(shard.first_line, shard.lines) for shard in shards] == [(1, 2), (3, 2), (5, 1)]
    assert [shard.read().read() for shard in shards] == [b"one\n\n", b"three\r\nfour\n", b"five"]
    assert shards[1].output == "OUT/input.txt/lines-000000003-000000004.jsonl"


def killed_by(poison: str, once: str, marker: Path):
    """A shard extractor whose process dies when asked to predict the sentence `poison` (every
    time) or `once` (the first time only: `marker` remembers it), half-way through a shard's output."""
    class Killable(ShardExtractor):
        def __init__(self, archive, options):
            super().__init__(archive, options)
            predict = self.predictor.predict_batch_json

            def predict_or_die(inputs, *args, **kwargs):
                sentences = {item.get("sentence") for item in inputs}
                if poison in sentences or (once in sentences and not marker.exists()):
                    marker.touch()
                    os._exit(1)
                return predict(inputs, *args, **kwargs)
            self.predictor.predict_batch_json = predict_or_die
    return Killable


def test_a_shard_whose_worker_died_is_predicted_again_and_one_that_always_kills_gets_error_records(
        local_ray, eager_archive, inputs, expected, tmp_path):
    marker, lines = tmp_path / "died", INPUTS["c.jsonl"]
    extractor = killed_by(poison=json.loads(lines[3])["sentence"], once=json.loads(lines[0])["sentence"],
                          marker=marker)
    options = WorkerOptions(num_workers=2, batch_size=1, max_retries=1)
    summary = extract_files(eager_archive, inputs, tmp_path / "out", shard_lines=SHARD_LINES, options=options,
                            extractor_class=extractor)
    assert marker.exists()  # a worker did die
    for name in ("abstracts/a.jsonl", "abstracts/more/b.txt"):
        assert joined_output(tmp_path / "out", name) == expected[name]
    first, second, third = [path.read_text().splitlines(keepends=True) for path in parts(tmp_path / "out", "c.jsonl")]
    reference = expected["c.jsonl"].splitlines(keepends=True)
    assert first == reference[:2] and third == reference[4:]  # the first died once, then was predicted
    assert [json.loads(line)["line"] for line in second] == [3, 4]  # the shard of line 4 killed 2 workers
    assert json.loads(second[0])["error"].startswith("not predicted: 2 workers died predicting lines 3-4 of this")
    # (a shard finished just before its worker died counts as found there when it is given out again)
    assert (summary.lines, summary.failures) == (sum(map(len, INPUTS.values())), 4)
    assert not temporaries(tmp_path / "out")


def test_a_rerun_completes_an_interrupted_output_without_predicting_finished_shards_again(
        local_ray, eager_archive, inputs, expected, tmp_path):
    finished = {}
    for name, output in expected.items():  # the shards a stopped run had finished, all but two
        lines = output.splitlines(keepends=True)
        for start in range(0, len(lines), SHARD_LINES):
            part = lines[start:start + SHARD_LINES]
            path = tmp_path / name / f"lines-{start + 1:09d}-{start + len(part):09d}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(part))
            finished[path] = path.stat().st_mtime_ns
    stopped = [tmp_path / "abstracts/a.jsonl/lines-000000005-000000006.jsonl",
               tmp_path / "c.jsonl/lines-000000001-000000002.jsonl"]
    for path in stopped:  # one died half-way, one was never started
        del finished[path]
    stopped[0].rename(str(stopped[0]) + TEMPORARY_MARK + "1")
    stopped[1].unlink()

    summary = extract_files(eager_archive, inputs, tmp_path, shard_lines=SHARD_LINES, options=TWO_WORKERS)
    assert (summary.shards, summary.reused) == (len(finished) + 2, len(finished))
    assert {path: path.stat().st_mtime_ns for path in finished} == finished  # not written again
    for name in INPUTS:
        assert joined_output(tmp_path, name) == expected[name]
    assert summary.failures == 2 and not temporaries(tmp_path)

    with pytest.raises(ValueError, match=f"{MANIFEST}: the outputs there were written with other settings "
                                         r"\(shard_lines 2 there, 3 now\)"):
        extract_files(eager_archive, inputs, tmp_path, shard_lines=3, options=TWO_WORKERS)


def test_a_rerun_of_a_completed_output_reports_it_without_starting_ray(
        local_ray, eager_archive, inputs, tmp_path, monkeypatch):
    source = inputs / "c.jsonl"
    first = extract_files(eager_archive, source, tmp_path, shard_lines=SHARD_LINES, options=TWO_WORKERS)
    assert (first.lines, first.shards, first.reused) == (5, 3, 0)
    monkeypatch.setattr(ray_extraction, "ray_session", lambda *args: pytest.fail("Ray started for a finished output"))
    again = extract_files(eager_archive, source, tmp_path, shard_lines=SHARD_LINES, options=TWO_WORKERS)
    assert again == RunSummary(**{**asdict(first), "reused": 3})
    # Another input, a changed input or a lost output: the run is not complete, Ray is needed.
    files = input_states(find_inputs(source))
    assert completed_run(str(tmp_path), input_states(find_inputs(inputs / "abstracts"))) is None
    assert completed_run(str(tmp_path), [{**files[0], "size": files[0]["size"] + 1}]) is None
    (tmp_path / "c.jsonl" / "lines-000000003-000000004.jsonl").unlink()
    assert completed_run(str(tmp_path), files) is None


def test_the_outputs_of_an_input_changed_since_are_predicted_again_not_reused(
        local_ray, eager_archive, inputs, tmp_path, caplog):
    source, outputs = tmp_path / "inputs" / "c.jsonl", tmp_path / "out"
    source.parent.mkdir()
    source.write_bytes((inputs / "c.jsonl").read_bytes())
    first = extract_files(eager_archive, source, outputs, shard_lines=SHARD_LINES, options=TWO_WORKERS)
    assert (first.lines, first.shards) == (5, 3)
    # Shorter by two lines, its second line another sentence: three of the old outputs would be wrong.
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)[:3]
    lines[1] = json.dumps({"sentence": "Parsers are evaluated on treebanks."}) + "\n"
    source.write_text("".join(lines), encoding="utf-8")
    again = extract_files(eager_archive, source, outputs, shard_lines=SHARD_LINES, options=TWO_WORKERS)
    assert (again.lines, again.shards, again.reused) == (3, 2, 0)
    extract_file(load_predictor(eager_archive), source, tmp_path / "single.jsonl")
    assert joined_output(outputs, "c.jsonl") == (tmp_path / "single.jsonl").read_text(encoding="utf-8")
    assert f"{source} changed since its outputs" in caplog.text and "3 shard output(s) are deleted" in caplog.text


def test_a_users_dataset_gets_one_prediction_per_row(local_ray, eager_archive):
    rows = [{"id": 1, "sentence": "Kernel methods work well."},
            {"id": 2, "document": "We compare hidden Markov models. They are used for tagging."},
            {"id": 3, "tokens": ["Parsing", "uses", "grammars", "."]},
            {"id": 4}]
    predicted = extract_dataset(ray.data.from_items(rows), eager_archive, TWO_WORKERS).take_all()
    predictor = load_predictor(eager_archive)
    by_id = {row["id"]: row for row in predicted}
    assert sorted(by_id) == [1, 2, 3, 4]
    for row in rows:
        assert json.loads(by_id[row["id"]][PREDICTION_COLUMN]) == predictor.predict_json(row)
    assert by_id[2]["document"] == rows[1]["document"]  # the row's columns kept
    assert json.loads(by_id[4][PREDICTION_COLUMN])["error"].startswith("expected exactly one of the keys")
