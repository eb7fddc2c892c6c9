"""scripts/benchmark_extract.py on the fixture model: the figures it reports are the run's."""
import json
import os
import subprocess
import sys

from conftest import REPO


def test_benchmark_extract_reports_the_run(fixture_archive, tmp_path):
    output = tmp_path / "extract.json"
    process = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "benchmark_extract.py"), str(fixture_archive), "--lines", "40",
         "--batch-size", "8", "--output", str(output)],
        cwd=REPO, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=600)
    assert process.returncode == 0, process.stderr
    result = json.loads(output.read_text())
    assert result == json.loads(process.stdout)  # printed and written
    assert result["exit_status"] == 1 and result["broken_line"] == 20 and result["error_record_lines"] == [20]
    assert result["good_lines_in_input_order"] and result["sentences"] > 0
    assert set(result["peak_rss_mb_up_to_fraction_of_lines"]) == {"10%", "50%", "100%"}
    assert len(result["peak_rss_mb_per_tenth_of_lines"]) == 10
    assert not any(os.path.isabs(result[key]) for key in ("archive", "inputs"))
