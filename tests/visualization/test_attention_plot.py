"""allennlp sinet-attention on the fixture model: the PNG and SVG parse and show the sentence's
words with its gold entities styled, and the JSON holds the weights per word."""
import argparse
import json
import xml.etree.ElementTree as ElementTree

import matplotlib.image
import pytest

from conftest import FIXTURE_DATA
from sinet_allen.commands.attention import SinetAttention
from sinet_allen.visualization.attention_plot import IN_RELATION, OTHER_ENTITY, word_styles

TEST = FIXTURE_DATA / "spert" / "test.json"


def run_attention(*argv):
    parser = argparse.ArgumentParser()
    SinetAttention().add_subparser(parser.add_subparsers())
    args = parser.parse_args(["sinet-attention", *map(str, argv)])
    args.func(args)


def test_figures_and_weights_for_chosen_sentences(fixture_archive, tmp_path):
    run_attention(fixture_archive, TEST, "--output-dir", tmp_path, "--sentences", "0", "2")
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        f"sentence_{i}.{extension}" for i in (0, 2) for extension in ("json", "png", "svg")]
    record = json.loads((tmp_path / "sentence_0.json").read_text())
    attention = record["attention"][0]
    assert {key: len(attention[key]) for key in ("encoder",)} == {"encoder": len(record["tokens"])}
    assert len(attention["ner"]["mean"]) == len(attention["re"]["mean"]) == len(record["tokens"])
    image = matplotlib.image.imread(tmp_path / "sentence_0.png")
    assert image.ndim == 3 and image.shape[1] > image.shape[0] > 50
    svg = ElementTree.parse(tmp_path / "sentence_0.svg").getroot()
    assert svg.tag.endswith("svg")
    texts = [element.text for element in svg.iter() if element.tag.endswith("text")]
    assert {"Encoder [CLS]", "NER-aware (CTAM)", "RE-aware (CTAM)"} <= set(texts)
    assert [t for t in texts if t in record["tokens"]] == record["tokens"]  # the words, in order


def test_gold_entities_are_bold_and_coloured_by_relation():
    record = {"tokens": ["A", "uses", "B", "and", "C"],
              "gold_entities": [{"start": 0, "end": 1}, {"start": 2, "end": 3}, {"start": 4, "end": 5}],
              "gold_relations": [{"head": 0, "tail": 1}]}
    assert word_styles(record) == [("bold", IN_RELATION), ("normal", "black"), ("bold", IN_RELATION),
                                   ("normal", "black"), ("bold", OTHER_ENTITY)]
    record["gold_relations"] = []
    assert word_styles(record)[4] == ("bold", "black")


def test_an_index_beyond_the_file_is_an_error_naming_it(fixture_archive, tmp_path):
    with pytest.raises(SystemExit, match=r"test.json: no sentence at index 999; the file has \d+ sentences"):
        run_attention(fixture_archive, TEST, "--output-dir", tmp_path / "out", "--sentences", "999")
    assert not (tmp_path / "out").exists()
