"""The SpERT-style types file: the entity and relation types of a data set, and which relation types
are symmetric (the one place that fact is declared)."""
from typing import Dict

from sinet_allen.dataset_readers.formats.records import kind_of, load_json
from sinet_allen.schema import NO_ENTITY, FormatError, TypeInventory


def load_types(path) -> TypeInventory:
    """Read a SpERT-style types file:
    {"entities": {name: {...}}, "relations": {name: {..., "symmetric": bool}}}."""
    data = load_json(path)
    if not isinstance(data, dict):
        raise FormatError(f"{path}: a types file must be a JSON object, got {kind_of(data)}")
    tables = {}
    for key in ("entities", "relations"):
        table = data.get(key)
        if not isinstance(table, dict):
            raise FormatError(f"{path}: '{key}' must be an object mapping type names to their "
                              f"descriptions, got {'nothing' if table is None else kind_of(table)}")
        seen: Dict[str, str] = {}
        for name, info in table.items():
            if not name.strip():
                raise FormatError(f"{path}: '{key}' declares an empty type name")
            if key == "entities" and name == NO_ENTITY:
                raise FormatError(f"{path}: {NO_ENTITY!r} is reserved for spans that are no entity; "
                                  "rename that entity type")
            if not isinstance(info, dict):
                raise FormatError(f"{path}: {key}[{name!r}] must be an object, got {kind_of(info)}")
            if name.casefold() in seen:
                # Labels are matched case-insensitively, so these two could not be told apart.
                raise FormatError(f"{path}: '{key}' declares {seen[name.casefold()]!r} and "
                                  f"{name!r}, which differ only in case")
            seen[name.casefold()] = name
        tables[key] = table
    if not tables["entities"]:
        raise FormatError(f"{path}: 'entities' declares no entity types")
    symmetric = set()
    for name, info in tables["relations"].items():
        flag = info.get("symmetric", False)
        if not isinstance(flag, bool):
            raise FormatError(f"{path}: relations[{name!r}].symmetric must be true or false, "
                              f"got {flag!r}")
        if flag:
            symmetric.add(name)
    return TypeInventory(tuple(tables["entities"]), tuple(tables["relations"]),
                         frozenset(symmetric))
