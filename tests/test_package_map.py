"""The package map in docs/development.md lists every module of the package, and only those."""
import ast
import re

from conftest import REPO

PACKAGE = REPO / "sinet_allen"
MAP = re.compile(r"<!-- package map -->\n```\n(.*?)```\n<!-- end package map -->", re.S)


def mapped_modules(text: str) -> set:
    """The module paths of a map whose folders end with '/' and indent two spaces per level."""
    folders, paths = [], set()
    for line in text.splitlines():
        depth = (len(line) - len(line.lstrip())) // 2
        name = line.split()[0]
        del folders[depth:]
        if name.endswith("/"):
            folders.append(name.rstrip("/"))
        else:
            paths.add("/".join(folders + [name]))
    return paths


def only_imports(path) -> bool:
    """An `__init__.py` that holds nothing but a docstring, imports and `__all__`."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    return all(isinstance(node, (ast.Import, ast.ImportFrom)) or
               (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)) or
               (isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["__all__"])
               for node in body)


def package_modules() -> set:
    return {str(path.relative_to(REPO)) for path in PACKAGE.rglob("*.py")
            if not (path.name == "__init__.py" and only_imports(path))}


def test_the_package_map_names_every_module_and_no_other():
    listed = mapped_modules(MAP.search((REPO / "docs" / "development.md").read_text(encoding="utf-8")).group(1))
    actual = package_modules()
    assert sorted(actual - listed) == [], "modules missing from the package map in docs/development.md"
    assert sorted(listed - actual) == [], "the package map names modules that do not exist"


def test_the_map_reader_sees_nesting_and_a_missing_module():
    text = "sinet_allen/\n  a.py   one\n  sub/\n    b.py  two\n  c.py  three\n"
    assert mapped_modules(text) == {"sinet_allen/a.py", "sinet_allen/sub/b.py", "sinet_allen/c.py"}
