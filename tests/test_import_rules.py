"""The import rules of the package's layers, read from the syntax tree of every module."""
import ast

import pytest

from conftest import REPO

PACKAGE = REPO / "sinet_allen"
PARSERS = "sinet_allen.dataset_readers"  # the data-set parsers and the reader built on them


def imported_modules(path) -> set:
    """Every module `path` imports, absolute names (the package uses no relative imports)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def modules_of(*folders: str):
    return [path for folder in folders for path in sorted((PACKAGE / folder).rglob("*.py"))]


@pytest.mark.parametrize("path", modules_of("metrics", "models", "modules"), ids=lambda path: path.name)
def test_the_metric_the_models_and_their_modules_import_no_data_set_parser(path):
    parsers = sorted(name for name in imported_modules(path)
                     if name.startswith(PARSERS + ".formats") or name.startswith(PARSERS + ".joint_ie"))
    assert parsers == [], f"{path.relative_to(REPO)} imports {parsers}: take domain types from sinet_allen.schema"


def test_the_schema_depends_on_nothing_of_the_package():
    assert not [name for name in imported_modules(PACKAGE / "schema.py") if name.startswith("sinet_allen")]


def test_the_rule_reader_sees_an_import_inside_a_function(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from sinet_allen.dataset_readers.formats import read_sentences\n")
    assert "sinet_allen.dataset_readers.formats" in imported_modules(module)
