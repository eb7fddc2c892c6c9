"""sinet_allen.files: a failed write leaves the old file (or none), never a partial one."""
import json

import pytest

from sinet_allen.files import atomic_output, write_json_atomically


def test_json_replaces_the_file_only_when_complete(tmp_path):
    output = tmp_path / "results.json"
    write_json_atomically(output, {"figure": 1})
    with pytest.raises(TypeError):
        write_json_atomically(output, {"figure": object()})  # not serialisable, mid-write
    assert json.loads(output.read_text()) == {"figure": 1}
    assert list(tmp_path.iterdir()) == [output]


def test_an_error_in_the_block_leaves_no_file(tmp_path):
    output = tmp_path / "new" / "data.bin"
    with pytest.raises(ValueError):
        with atomic_output(output, binary=True) as file:
            file.write(b"half")
            assert output.parent / file.name != output and not output.exists()
            raise ValueError("the download broke off")
    assert list(output.parent.iterdir()) == []


def test_the_new_file_is_readable_by_others(tmp_path):
    output = tmp_path / "data.txt"
    with atomic_output(output) as file:
        file.write("complete\n")
    assert output.read_text() == "complete\n" and output.stat().st_mode & 0o777 == 0o644
