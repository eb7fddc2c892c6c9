"""A model archive travels: it carries the encoder's configuration and tokenizer files (no
weights) and a model card, and predicts after it moved and the encoder folder is gone."""
import argparse
import datetime
import json
import shutil
import socket
import tarfile

import pytest
from allennlp.commands.train import train_model_from_file
from allennlp.common.checks import ConfigurationError
from allennlp.models.archival import load_archive
from allennlp.predictors import Predictor

from conftest import FIXTURE_CONFIG, REPO, TINY_BERT
from sinet_allen.commands.card import SinetCard
from sinet_allen.model_card import read_card

SENTENCES = [{"tokens": ["We", "compare", "hidden", "Markov", "models", "with", "neural", "networks", "."]},
             {"tokens": ["A", "parser", "for", "German", "."]}]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """An archive trained from the fixture config with the encoder in a folder of its own, and
    what it predicted before the encoder was deleted."""
    root = tmp_path_factory.mktemp("travel")
    encoder = root / "encoders" / "tiny_bert"
    shutil.copytree(TINY_BERT, encoder)
    overrides = {"model.embedder.token_embedders.tokens.model_name": str(encoder),
                 "dataset_reader.transformer_model": str(encoder),
                 "validation_dataset_reader.transformer_model": str(encoder)}
    train_model_from_file(str(FIXTURE_CONFIG), str(root / "run"), overrides=json.dumps(overrides))
    before = predict(root / "run" / "model.tar.gz")
    return root, encoder, before


def predict(archive):
    return Predictor.from_archive(load_archive(str(archive))).predict_batch_json(SENTENCES)


def test_the_archive_carries_the_encoders_configuration_and_tokenizer_without_weights(trained):
    root, encoder, _ = trained
    with tarfile.open(root / "run" / "model.tar.gz") as archive:
        members = {member.name: member.size for member in archive.getmembers() if member.isfile()}
    encoder_files = {name: size for name, size in members.items() if name.startswith("encoder/")}
    assert {"encoder/config.json", "encoder/vocab.txt", "encoder/tokenizer_config.json"} <= set(encoder_files)
    assert not [name for name in encoder_files if name.endswith((".safetensors", ".bin", ".h5", ".msgpack"))]
    assert sum(encoder_files.values()) < 1_000_000
    assert json.loads((root / "run" / "encoder" / "config.json").read_text())["hidden_size"] == \
        json.loads((encoder / "config.json").read_text())["hidden_size"]


def test_a_moved_archive_predicts_without_its_encoder_folder(trained):
    root, encoder, before = trained
    moved = root / "elsewhere" / "model.tar.gz"
    moved.parent.mkdir()
    shutil.move(root / "run" / "model.tar.gz", moved)
    shutil.rmtree(encoder)
    try:
        assert predict(moved) == before
    finally:
        shutil.copytree(TINY_BERT, encoder)
        shutil.move(moved, root / "run" / "model.tar.gz")


def test_an_archive_without_the_copy_names_the_override(trained, tmp_path):
    root, _, _ = trained
    config = json.loads((root / "run" / "config.json").read_text())
    config["model"]["embedder"]["token_embedders"]["tokens"]["model_name"] = str(tmp_path / "gone")
    (tmp_path / "config.json").write_text(json.dumps(config))
    for name in ("weights.th", "vocabulary"):
        (tmp_path / name).symlink_to(root / "run" / ("best.th" if name == "weights.th" else name))
    with pytest.raises(ConfigurationError, match="does not exist and the model archive holds no copy.*-o"):
        load_archive(str(tmp_path))


def test_the_model_card_says_what_the_model_is_and_names_no_machine_or_absolute_path(trained, capsys):
    root, _, _ = trained
    card = read_card(root / "run" / "model.tar.gz")
    metrics = json.loads((root / "run" / "metrics.json").read_text())
    config = json.loads((root / "run" / "config.json").read_text())
    for expected in ("# Model card: sinet", "Encoder: `encoders/tiny_bert`", "Training: `spert/train.json`",
                     "Validation (model selection): `spert/dev.json`", f"best epoch {metrics['best_epoch']}",
                     f"Seed: {config['random_seed']}", datetime.date.today().isoformat(), "| Rel+ |",
                     "## Known limits", "Only the 100 best entities", "wider than 8 words"):
        assert expected in card
    rel_strict = f"| Rel+ | {100 * metrics['best_validation_rel_strict_precision']:.2f} |"
    assert rel_strict in card
    assert str(root) not in card and str(REPO) not in card and socket.gethostname() not in card
    command = SinetCard().add_subparser(argparse.ArgumentParser().add_subparsers())
    args = command.parse_args([str(root / "run" / "model.tar.gz")])
    args.func(args)  # allennlp sinet-card MODEL
    assert capsys.readouterr().out == card
