"""scripts/fetch_data.py, offline: dry run, skipping, a file:// mirror, and failures."""
import importlib.util
import re
import subprocess
import tarfile
from pathlib import Path

from conftest import FIXTURE_DATA as FIXTURES, REPO


def load_script():
    spec = importlib.util.spec_from_file_location("fetch_data", REPO / "scripts/fetch_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fetch = load_script().main


def test_dry_run_lists_the_official_files_and_fetches_nothing(tmp_path, capsys):
    (tmp_path / "scierc").mkdir()
    (tmp_path / "scierc/train.json").write_text("[]")
    assert fetch(["--data-dir", str(tmp_path), "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    base = "http://lavis.cs.hs-rm.de/storage/spert/public/datasets"
    assert f"present, skipped: {tmp_path / 'scierc/train.json'}" in out
    for remote, local in [("scierc/scierc_test.json", "scierc/test.json"),
                          ("conll04/conll04_types.json", "conll04/types.json"),
                          ("ade/ade_split_9_test.json", "ade/split_9_test.json"),
                          ("ade/ade_full.json", "ade/full.json")]:
        assert f"would fetch: {base}/{remote} -> {tmp_path / local}" in out
    assert out[-1] == f"29 file(s) to fetch into {tmp_path}"  # 4 + 4 + 22, one present
    assert [p.name for p in tmp_path.rglob("*")] == ["scierc", "train.json"]


def test_data_dir_defaults_to_the_environment(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SINET_DATA_DIR", str(tmp_path / "elsewhere"))
    assert fetch(["--dry-run", "--datasets", "scierc_dygie"]) == 0
    out = capsys.readouterr().out
    assert ("sciERC_processed.tar.gz [processed_data/json/test.json] -> "
            f"{tmp_path / 'elsewhere/scierc_dygie/test.jsonl'}") in out


def make_mirror(root: Path) -> None:
    """A local copy of the release layout, built from the fixtures."""
    for name in ("scierc", "conll04"):
        (root / name).mkdir(parents=True)
        for part in ("train", "dev", "test", "types"):
            (root / name / f"{name}_{part}.json").write_bytes(
                (FIXTURES / f"spert/{part}.json").read_bytes())
    with tarfile.open(root / "scierc.tar.gz", "w:gz") as tar:
        for split in ("train", "dev", "test"):
            tar.add(FIXTURES / f"dygie/{split}.jsonl", f"processed_data/json/{split}.json")


def test_fetches_from_a_mirror_and_skips_what_is_present(tmp_path, capsys):
    make_mirror(tmp_path / "mirror")
    data = tmp_path / "data"
    args = ["--data-dir", str(data), "--datasets", "scierc", "scierc_dygie",
            "--spert-url", (tmp_path / "mirror").as_uri(),
            "--scierc-archive-url", (tmp_path / "mirror/scierc.tar.gz").as_uri()]
    assert fetch(args) == 0
    for part in ("train", "dev", "test", "types"):
        assert (data / f"scierc/{part}.json").read_bytes() == \
            (FIXTURES / f"spert/{part}.json").read_bytes()
    for split in ("train", "dev", "test"):
        assert (data / f"scierc_dygie/{split}.jsonl").read_bytes() == \
            (FIXTURES / f"dygie/{split}.jsonl").read_bytes()
    assert sorted(p.name for p in data.iterdir()) == ["scierc", "scierc_dygie"]  # no leftovers
    assert capsys.readouterr().out.splitlines()[-1] == f"done: 7 file(s) fetched into {data}"
    assert fetch(args) == 0
    assert capsys.readouterr().out.count("present, skipped") == 7


def test_network_failure_is_a_clear_error_without_partial_files(tmp_path, capsys):
    data = tmp_path / "data"
    # Port 9 (discard) on the local machine: refused at once, no real network involved.
    assert fetch(["--data-dir", str(data), "--datasets", "conll04",
                  "--spert-url", "http://127.0.0.1:9/datasets", "--timeout", "5"]) == 1
    err = capsys.readouterr().err
    assert "error: fetching http://127.0.0.1:9/datasets/conll04/conll04_train.json failed" in err
    assert "check your internet connection" in err
    assert [p for p in data.rglob("*") if p.is_file()] == []


def test_content_that_is_not_json_is_refused(tmp_path, capsys):
    make_mirror(tmp_path / "mirror")
    (tmp_path / "mirror/conll04/conll04_dev.json").write_text("<html>Not here</html>")
    data = tmp_path / "data"
    assert fetch(["--data-dir", str(data), "--datasets", "conll04",
                  "--spert-url", (tmp_path / "mirror").as_uri()]) == 1
    assert "conll04_dev.json is not valid JSON" in capsys.readouterr().err
    assert sorted(p.name for p in (data / "conll04").iterdir()) == ["train.json"]


def test_one_default_data_folder_for_the_makefile_the_settings_and_this_script(monkeypatch, capsys):
    from sinet_allen.settings import CONFIG_DEFAULTS, DEFAULT_DATA_DIR
    makefile_default = re.search(r"^export SINET_DATA_DIR \?= \$\(abspath (\S+)\)$",
                                 (REPO / "Makefile").read_text(), re.M).group(1)
    assert makefile_default == CONFIG_DEFAULTS["SINET_DATA_DIR"] == DEFAULT_DATA_DIR
    monkeypatch.delenv("SINET_DATA_DIR")
    assert fetch(["--dry-run", "--datasets", "conll04"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith(f" file(s) to fetch into {DEFAULT_DATA_DIR}")


def test_make_train_without_data_says_in_one_line_what_to_run(tmp_path):
    made = subprocess.run(["make", "--no-print-directory", "-C", str(REPO), "train",
                           f"SINET_DATA_DIR={tmp_path}", f"VENV={tmp_path / 'no-venv'}"],
                          capture_output=True, text=True, timeout=60)
    assert made.returncode != 0
    assert made.stdout == "" and len(made.stderr.splitlines()) == 1
    assert f"no SciERC in {tmp_path}: run `make install && .venv/bin/python scripts/fetch_data.py" in made.stderr
    assert not (tmp_path / "no-venv").exists()  # nothing was installed first
