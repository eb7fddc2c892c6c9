"""Instances as plain JSON (every field's tensors and the metadata), to compare the reader's output
field by field with a snapshot taken from an earlier version of the reader."""
import json
from typing import Any, Dict, List

import torch
from allennlp.data import Instance, Vocabulary
from allennlp.data.fields import MetadataField


def snapshot(instances: List[Instance]) -> List[Dict[str, Any]]:
    """Per instance, per field: its tensors as nested lists (the metadata as it is), indexed with a
    vocabulary built from the instances themselves."""
    vocab = Vocabulary.from_instances(instances)
    records = []
    for instance in instances:
        instance.index_fields(vocab)
        record = {}
        for name, field in instance.fields.items():
            value = field.metadata if isinstance(field, MetadataField) else field.as_tensor(field.get_padding_lengths())
            record[name] = _plain(value)
        records.append(record)
    return json.loads(json.dumps(records))  # tuples become lists, as in the stored snapshot


def _plain(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value
