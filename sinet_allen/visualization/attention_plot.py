"""Figure 4 of the SINET paper for one sentence: a row per attention map (the encoder's [CLS], the
NER-aware and the RE-aware agent of CTAM), the words along the axis, colour for weight.

Colour is scaled per row to that row's largest word weight (the rows' totals differ: the encoder's
[CLS] keeps much weight on [CLS] and [SEP]); the JSON beside the figure holds the raw weights.
Gold entities' words are bold; where the sentence has gold relations, the words of entities in a
relation are red and those of the other entities blue.
"""
from pathlib import Path
from typing import Dict, List, Set, Tuple

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402
from allennlp.common.util import JsonDict  # noqa: E402

from sinet_allen.files import atomic_output  # noqa: E402

ROWS = (("encoder", "Encoder [CLS]"), ("ner", "NER-aware (CTAM)"), ("re", "RE-aware (CTAM)"))
IN_RELATION, OTHER_ENTITY, PLAIN = "#c0392b", "#1f5fbf", "black"
FORMATS = ("png", "svg")


def attention_rows(attention: JsonDict) -> List[Tuple[str, List[float]]]:
    """(label, weight per word) of each map the sentence has: CTAM rows only where the model has CTAM."""
    return [(label, attention[key] if key == "encoder" else attention[key]["mean"])
            for key, label in ROWS if attention.get(key) is not None]


def word_styles(record: JsonDict) -> List[Tuple[str, str]]:
    """(weight, colour) of each word's label, from the record's gold."""
    in_entity: Set[int] = set()
    in_relation: Set[int] = set()
    gold = record.get("gold_entities", [])
    for entity in gold:
        in_entity.update(range(entity["start"], entity["end"]))
    for relation in record.get("gold_relations", []):
        for end in (gold[relation["head"]], gold[relation["tail"]]):
            in_relation.update(range(end["start"], end["end"]))
    has_relations = bool(record.get("gold_relations"))

    def style(word: int) -> Tuple[str, str]:
        if word not in in_entity:
            return "normal", PLAIN
        if not has_relations:
            return "bold", PLAIN
        return "bold", IN_RELATION if word in in_relation else OTHER_ENTITY

    return [style(word) for word in range(len(record["tokens"]))]


def draw(record: JsonDict, output_stem: Path) -> List[Path]:
    """Writes `<stem>.png` and `<stem>.svg` for a one-sentence record with `attention`; returns the paths."""
    attention = record["attention"][0]
    rows = attention_rows(attention)
    tokens = record["tokens"]
    weights = numpy.array([values for _, values in rows], dtype=float).reshape(len(rows), len(tokens))
    scaled = weights / numpy.maximum(weights.max(axis=1, keepdims=True), 1e-12)
    figure, axes = plt.subplots(figsize=(max(4.0, 0.45 * len(tokens) + 2), 0.55 * len(rows) + 1.6))
    axes.imshow(scaled, cmap="Reds", vmin=0, vmax=1, aspect="auto")
    axes.set_yticks(range(len(rows)), [label for label, _ in rows])
    axes.set_xticks(range(len(tokens)), tokens, rotation=90)
    for label, (weight, colour) in zip(axes.get_xticklabels(), word_styles(record)):
        label.set_fontweight(weight)
        label.set_color(colour)
    if attention.get("note"):
        axes.set_title(attention["note"], fontsize=8)
    figure.tight_layout()
    paths = [output_stem.with_suffix(f".{extension}") for extension in FORMATS]
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # SVG text as text: searchable, small
        for path, extension in zip(paths, FORMATS):
            with atomic_output(path, binary=True) as file:
                figure.savefig(file, format=extension, dpi=150)
    plt.close(figure)
    return paths
