"""Predictions of raw text back to brat: the `.txt` is the text that was predicted (its line breaks,
runs of spaces and tabs kept), and every annotation's offsets slice the entity's text out of it."""
import json

import pytest

from sinet_allen.extractor import Extractor
from tests.commands.test_convert import content, convert

TEXTS = {
    "abstract": "We compare  hidden Markov models\nwith support vector machines.\n\nThey are used\tfor tagging!",
    "short": "Kernel methods (phrase-based models) work well.",
}


@pytest.fixture(scope="module")
def extractor(fixture_archive, eager_archive) -> Extractor:
    return Extractor.from_archive(eager_archive)  # calls every span a Method: many annotations to check


def ann_entities(path):
    return [line.split("\t", 2) for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("T")]


def test_predictions_of_raw_text_keep_the_original_text_in_brat(extractor, tmp_path):
    predictions = tmp_path / "predictions.jsonl"
    records = [{"doc_key": key, **extractor.extract(text)} for key, text in TEXTS.items()]
    predictions.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    convert(predictions, tmp_path / "brat", "--from", "predictions", "--to", "brat")
    for record, (key, text) in zip(records, TEXTS.items()):
        assert (tmp_path / "brat" / f"{key}.txt").read_text(encoding="utf-8") == text
        entities = ann_entities(tmp_path / "brat" / f"{key}.ann")
        assert len(entities) == len(record["entities"]) > 0
        for (_, annotation, surface), entity in zip(entities, record["entities"]):
            fragments = [tuple(map(int, fragment.split())) for fragment in annotation.split(" ", 1)[1].split(";")]
            assert (fragments[0][0], fragments[-1][1]) == (entity["char_start"], entity["char_end"])
            assert surface == " ".join(text[start:end] for start, end in fragments)
            # An entity across a line break is written a fragment per line.
            assert " ".join(entity["text"].split("\n")) == surface
            assert len(fragments) == entity["text"].count("\n") + 1
    crossing = [e for e in records[0]["entities"] if "\n" in e["text"]]
    assert crossing  # the test saw one
    convert(tmp_path / "brat", tmp_path / "back.json", "--from", "brat")
    back = content(tmp_path / "back.json")  # brat read back: every entity, on the same words
    assert sorted(" ".join(tokens[e.start:e.end]) for tokens, entities, _, _ in back for e in entities) == \
        sorted(" ".join(r["tokens"][e["start"]:e["end"]]) for r in records for e in r["entities"])


def test_predictions_of_tokens_still_join_the_tokens(extractor, tmp_path):
    predictions = tmp_path / "predictions.jsonl"
    record = {"doc_key": "tokens", **extractor.predictor.predict_json({"tokens": ["Kernel", "methods", "work", "."]})}
    predictions.write_text(json.dumps(record) + "\n", encoding="utf-8")
    convert(predictions, tmp_path / "brat", "--from", "predictions", "--to", "brat")
    assert (tmp_path / "brat" / "tokens.txt").read_text(encoding="utf-8") == "Kernel methods work .\n"
