"""Writing files so that a failure never leaves a partial one behind."""
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterator, Union


@contextmanager
def atomic_output(path: Union[str, Path], binary: bool = False) -> Iterator[IO]:
    """A new file beside `path` to write in the block; it replaces `path` when the block ends
    normally and is deleted when it raises, so `path` is either the old file or a complete new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.close(descriptor)
        with open(temporary, "wb" if binary else "w", encoding=None if binary else "utf-8") as file:
            yield file  # file.name is the temporary path
        os.chmod(temporary, 0o644)  # mkstemp makes it readable by its owner only
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def write_json_atomically(path: Union[str, Path], value: Any) -> None:
    with atomic_output(path) as file:
        json.dump(value, file, indent=2)
        file.write("\n")
