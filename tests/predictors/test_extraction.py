"""`allennlp sinet-extract` and the streaming extraction behind it, on the archived fixture model:
output in input order, line N for line N, true line numbers in error records, exit status 1 after
a failed line, no partial output file, `--resume` after a stop, plain-text input."""
import argparse
import json
import logging
import warnings

import pytest

from conftest import sinet_extract
from sinet_allen.commands.silent import silence_if_asked
from sinet_allen.predictors.decoding_options import DecodingOptions
from sinet_allen.predictors.extraction import Summary, extract_file, load_predictor, partial_path
from sinet_allen.predictors.sinet_predictor import SinetPredictor

GOOD = [
    {"sentence": "We compare hidden Markov models with support vector machines."},
    {"id": 2, "document": "Kernel methods work well. So do neural networks!"},
    {"tokens": ["Parsing", "uses", "grammars", "."]},
    {"doc_key": "d", "sentences": [["A", "model", "."], [], ["It", "works", "."]]},
]
TEXTS = ["We compare hidden Markov models. They are used for tagging.", "", "Kernel methods  work\twell."]


@pytest.fixture(scope="module")
def predictor(fixture_archive) -> SinetPredictor:
    return load_predictor(fixture_archive)


def write_input(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def read_output(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_bad_line_gets_an_error_record_numbered_as_in_the_file_and_exit_status_1(
        fixture_archive, predictor, tmp_path, monkeypatch):
    lines = [json.dumps(GOOD[0]), json.dumps(GOOD[1]), "", "{broken", json.dumps(GOOD[2]),
             json.dumps({"words": ["a"]}), json.dumps(GOOD[3])]
    source, output = write_input(tmp_path / "input.jsonl", lines), tmp_path / "output.jsonl"
    status = sinet_extract(monkeypatch, fixture_archive, source, "--output-file", output, "--batch-size", "2")
    assert status == 1
    results = read_output(output)
    assert len(results) == len(lines)  # line N answers line N: the blank line too
    assert [result.get("line") for result in results] == [None, None, 3, 4, None, 6, None]
    assert results[2]["error"] == "a blank line: expected a JSON object"
    assert results[3]["error"].startswith("the line is not valid JSON")
    expected = predictor.predict_batch_json([GOOD[0], GOOD[1], GOOD[2], GOOD[3]])
    assert [results[k] for k in (0, 1, 4, 6)] == expected  # in input order, the other keys kept
    assert results[1]["id"] == 2 and results[6]["doc_key"] == "d"
    assert not partial_path(output).exists()


def test_every_line_predicted_exits_0(fixture_archive, predictor, tmp_path, monkeypatch):
    source, output = write_input(tmp_path / "input.json", [json.dumps(item) for item in GOOD]), tmp_path / "out"
    assert sinet_extract(monkeypatch, fixture_archive, source, "--output-file", output) == 0
    assert read_output(output) == predictor.predict_batch_json(GOOD)


def test_plain_text_is_a_document_per_line(predictor, tmp_path):
    source, output = write_input(tmp_path / "texts.txt", TEXTS), tmp_path / "out.jsonl"
    summary = extract_file(predictor, source, output, batch_size=2)
    results = read_output(output)
    assert results == predictor.predict_batch_json([{"document": text} for text in TEXTS])
    assert results[1] == {"text": "", "tokens": [], "entities": [], "relations": [], "sentences": []}  # a blank line
    assert results[0]["sentences"] == [[0, 6], [6, 12]]
    assert (summary.lines, summary.sentences, summary.failures) == (3, 3, 0)


def test_input_format_by_extension_or_option(predictor, tmp_path):
    source = write_input(tmp_path / "texts.data", ['{"sentence": "Not read as JSON."}'])
    with pytest.raises(ValueError, match="texts.data: cannot tell the input format .* --input-format"):
        extract_file(predictor, source, tmp_path / "out.jsonl")
    extract_file(predictor, source, tmp_path / "out.jsonl", input_format="text")
    assert read_output(tmp_path / "out.jsonl")[0]["tokens"][:2] == ["{", '"']


def test_a_line_that_is_not_utf8_is_an_error_record(predictor, tmp_path):
    source = tmp_path / "input.txt"
    source.write_bytes(b"Fine text.\nbad \xff byte\nMore text.\n")
    summary = extract_file(predictor, source, tmp_path / "out.jsonl")
    results = read_output(tmp_path / "out.jsonl")
    assert results[1] == {"error": "the line is not UTF-8: byte 0xff at byte 4", "line": 2}
    assert results[2]["tokens"] == ["More", "text", "."] and summary.failures == 1


def stop_on_the_second_group(predictor, monkeypatch):
    """Makes the predictor stop (as on Ctrl-C) when asked for its second group of lines."""
    predict, calls = predictor.predict_batch_json, []

    def predict_then_stop(inputs, batch_size=None, decoding=None):
        calls.append(inputs)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return predict(inputs, batch_size, decoding)
    monkeypatch.setattr(predictor, "predict_batch_json", predict_then_stop)


def test_resume_after_a_stop_completes_the_output_without_duplicates(predictor, tmp_path, monkeypatch):
    lines = [json.dumps(GOOD[k % 4]) for k in range(7)] + ["{broken"]
    source, output = write_input(tmp_path / "input.jsonl", lines), tmp_path / "out.jsonl"
    extract_file(predictor, source, tmp_path / "reference.jsonl", batch_size=3)
    reference = (tmp_path / "reference.jsonl").read_text()

    with monkeypatch.context() as patch:
        stop_on_the_second_group(predictor, patch)
        with pytest.raises(KeyboardInterrupt):
            extract_file(predictor, source, output, batch_size=3, lookahead=3)
    assert not output.exists()  # never a partial OUT
    assert len(read_output(partial_path(output))) == 3  # the first group, complete

    summary = extract_file(predictor, source, output, batch_size=3, resume=True, lookahead=3)
    assert output.read_text() == reference and not partial_path(output).exists()
    assert (summary.lines, summary.failures) == (8, 1)  # the resumed part counted too


def test_resume_drops_a_half_written_last_line(predictor, tmp_path):
    lines = [json.dumps(item) for item in GOOD]
    source, output = write_input(tmp_path / "input.jsonl", lines), tmp_path / "out.jsonl"
    extract_file(predictor, source, output)
    reference = output.read_text()
    complete = reference.splitlines(keepends=True)
    partial_path(output).write_text(complete[0] + complete[1] + complete[2][:10])  # killed mid-write
    output.unlink()
    extract_file(predictor, source, output, resume=True)
    assert output.read_text() == reference


def test_resume_refuses_a_partial_output_of_a_longer_input(predictor, tmp_path):
    source, output = write_input(tmp_path / "input.jsonl", [json.dumps(GOOD[0])]), tmp_path / "out.jsonl"
    partial_path(output).write_text('{"tokens": [], "entities": [], "relations": []}\n' * 2)
    with pytest.raises(ValueError, match="holds 2 lines but .*input.jsonl has only 1: not a partial output"):
        extract_file(predictor, source, output, resume=True)
    assert not output.exists()


def test_without_resume_a_left_partial_output_is_replaced(predictor, tmp_path):
    source, output = write_input(tmp_path / "input.jsonl", [json.dumps(GOOD[2])]), tmp_path / "out.jsonl"
    partial_path(output).write_text("left by an earlier run\n")
    extract_file(predictor, source, output)
    assert read_output(output) == [predictor.predict_json(GOOD[2])]


DEEP_LINE = '{"sentence": "x", "meta": ' + "[" * 5000 + "]" * 5000 + "}"  # 10 KB, beyond Python's recursion limit


def test_a_line_nested_too_deeply_is_an_error_record_and_the_run_finishes(
        fixture_archive, predictor, tmp_path, monkeypatch):
    lines = [json.dumps(GOOD[k % 4]) for k in range(60)]
    lines[50] = DEEP_LINE
    source, output = write_input(tmp_path / "input.jsonl", lines), tmp_path / "out.jsonl"
    assert sinet_extract(monkeypatch, fixture_archive, source, "--output-file", output, "--batch-size", "4") == 1
    results = read_output(output)
    assert len(results) == 60 and [r["line"] for r in results if "error" in r] == [51]
    assert "too deeply" in results[50]["error"]


def test_resume_past_a_line_nested_too_deeply(predictor, tmp_path):
    lines = [json.dumps(GOOD[k % 4]) for k in range(60)]
    lines[50] = DEEP_LINE
    source, output = write_input(tmp_path / "input.jsonl", lines), tmp_path / "out.jsonl"
    extract_file(predictor, source, tmp_path / "reference.jsonl")
    reference = (tmp_path / "reference.jsonl").read_text()
    partial_path(output).write_text("".join(reference.splitlines(keepends=True)[:48]))  # a run stopped at 48
    summary = extract_file(predictor, source, output, resume=True, lookahead=4)
    assert output.read_text() == reference and (summary.lines, summary.failures) == (60, 1)


@pytest.mark.parametrize("spelling", ["same", "relative", "symlink"])
def test_an_output_that_is_the_input_is_refused(fixture_archive, tmp_path, monkeypatch, spelling):
    source = write_input(tmp_path / "input.jsonl", [json.dumps(GOOD[0])])
    before = source.read_bytes()
    output = {"same": source, "relative": tmp_path / "sub" / ".." / "input.jsonl", "symlink": tmp_path / "link"}[spelling]
    (tmp_path / "sub").mkdir()
    if spelling == "symlink":
        output.symlink_to(source)
    assert sinet_extract(monkeypatch, fixture_archive, source, "--output-file", output) == 2
    assert source.read_bytes() == before and not partial_path(output).exists()


def test_missing_output_folders_are_created_and_named(predictor, tmp_path, caplog):
    source = write_input(tmp_path / "input.jsonl", [json.dumps(GOOD[0])])
    output = tmp_path / "new" / "folder" / "out.jsonl"
    extract_file(predictor, source, output)
    assert read_output(output) == [predictor.predict_json(GOOD[0])]
    assert f"created the folder {output.parent} for the output, which did not exist" in caplog.text


def test_decoding_flags_reach_the_predictor(fixture_archive, tmp_path, monkeypatch):
    source = write_input(tmp_path / "input.jsonl", [json.dumps(GOOD[0])])
    seen = {}
    monkeypatch.setattr("sinet_allen.commands.extract.extract_file",
                        lambda predictor, *args, **kwargs: seen.update(decoding=predictor.decoding) or Summary(1, 1, 0))
    status = sinet_extract(monkeypatch, fixture_archive, source, "--output-file", tmp_path / "out.jsonl",
                           "--no-overlapping-entities", "--relation-threshold", "0.7", "--max-length", "128")
    assert status == 0
    assert seen["decoding"] == DecodingOptions(overlapping_entities=False, relation_threshold=0.7, max_length=128)


def test_a_bad_decoding_flag_stops_before_anything_is_written(fixture_archive, tmp_path, monkeypatch):
    source = write_input(tmp_path / "input.jsonl", [json.dumps(GOOD[0])])
    output = tmp_path / "out.jsonl"
    assert sinet_extract(monkeypatch, fixture_archive, source, "--output-file", output, "--max-length", "4096") == 2
    assert sinet_extract(monkeypatch, fixture_archive, source, "--output-file", output, "--relation-threshold", "2") == 2
    assert not output.exists() and not partial_path(output).exists()


def test_silent_hides_other_packages_future_warnings_not_ours(monkeypatch):
    monkeypatch.setattr(logging.getLogger(), "level", logging.getLogger().level)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        silence_if_asked(argparse.Namespace(silent=True))
        for module in ("transformers.tokenization_utils_base", "sinet_allen.predictors"):
            warnings.warn_explicit("going away", FutureWarning, "file.py", 1, module=module)
    assert [warning.filename for warning in caught] == ["file.py"] and len(caught) == 1
    assert logging.getLogger().level == logging.WARNING
