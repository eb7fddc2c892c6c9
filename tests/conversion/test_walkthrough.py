"""docs/own_data.md as a test: brat -> sinet-convert -> allennlp train (one epoch, tiny BERT) ->
allennlp predict -> sinet-convert --to brat, whose pre-annotations read back on the same words."""
import json
import sys

from allennlp.commands import main as allennlp_main
from allennlp.commands.train import train_model_from_file

from tests.commands.test_convert import BRAT, content, convert
from tests.conftest import FIXTURES


def test_from_brat_to_a_model_and_back(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    convert(BRAT, data, "--from", "brat", "--to", "spert", "--split", "0.6", "0.2", "0.2",
            "--types-out", data / "types.json")
    convert(BRAT, tmp_path / "corpus.jsonl", "--from", "brat", "--to", "dygie")  # the prediction input
    monkeypatch.setenv("OWN_DATA_DIR", str(data))
    train_model_from_file(str(FIXTURES / "own_data.jsonnet"), str(tmp_path / "model"))
    monkeypatch.setattr(sys, "argv", ["allennlp", "predict", str(tmp_path / "model/model.tar.gz"),
                                      str(tmp_path / "corpus.jsonl"), "--output-file",
                                      str(tmp_path / "predictions.jsonl"), "--silent"])
    allennlp_main()
    convert(tmp_path / "predictions.jsonl", tmp_path / "pre_annotated", "--from", "predictions", "--to", "brat",
            "--text-dir", BRAT)
    assert "wrote 9 sentences (5 documents)" in capsys.readouterr().out
    for text in BRAT.glob("*.txt"):
        assert (tmp_path / "pre_annotated" / text.name).read_text(encoding="utf-8") == text.read_text(encoding="utf-8")
    convert(tmp_path / "pre_annotated", tmp_path / "back.json", "--from", "brat")
    predicted = [json.loads(line) for line in (tmp_path / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    back = content(tmp_path / "back.json")
    assert [squeezed(e["text"]) for p in predicted for e in p["entities"]] == \
        [squeezed(" ".join(tokens[e.start:e.end])) for tokens, entities, _, _ in back for e in entities]
    assert sum(len(p["relations"]) for p in predicted) == sum(len(relations) for _, _, relations, _ in back)
    assert [squeezed(" ".join(s[0])) for s in back] == [squeezed(" ".join(s[0])) for s in content(tmp_path / "corpus.jsonl")]


def squeezed(text: str) -> str:
    """The characters without spaces: brat keeps a token split at a predicted entity's edge."""
    return text.replace(" ", "")
