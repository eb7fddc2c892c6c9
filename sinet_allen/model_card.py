"""The model card every training run writes beside its model and into its archive
(`model_card.md`; `allennlp sinet-card MODEL` prints it). Modelled on AllenNLP-models' model cards:
what the model is, what it was trained and selected on, how, and its known limits. It names files
by their last two path parts and the machine by its kind, never by host name or absolute path.
"""
import datetime
import io
import json
import os
import platform
import re
import shlex
import sys
import tarfile
from pathlib import Path
from typing import Any, List, Mapping, Optional

import torch

from sinet_allen.files import atomic_output
from sinet_allen.metrics.joint_ie_f1 import TASK_LABELS, TASKS

CARD_NAME = "model_card.md"
# Encoders that stand in for the paper's (SciBERT, BERT-base, ALBERT-xxlarge) on a CPU.
STAND_IN_ENCODERS = ("minilm",)


def short_path(path: Any) -> str:
    """A file path as its last two parts (`scierc/train.json`); a Hugging Face name (`org/name`) as it is."""
    text = str(path)
    if os.path.isabs(text) or text.count("/") > 1:
        return "/".join(Path(text).parts[-2:])
    return text


# An absolute path inside a command line (also within a JSON override): all but its last two parts.
ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:[^\s\"'/]+/)*([^\s\"'/]+/[^\s\"'/]+)")


def training_command(argv: List[str]) -> str:
    """The command line, the program by its name, every absolute path shortened (see `short_path`)."""
    return ABSOLUTE_PATH.sub(r"\1", shlex.join([Path(argv[0]).name, *argv[1:]]))


def hardware() -> str:
    """The kind of machine: CPU architecture and cores, the GPU's name when training used one."""
    cpu = f"{platform.machine()} CPU, {os.cpu_count()} cores, {platform.system()}"
    if torch.cuda.is_available():
        return f"{cpu}; GPU: {torch.cuda.get_device_name(0)} (x{torch.cuda.device_count()})"
    return cpu


def _metrics_table(metrics: Mapping[str, Any], prefix: str) -> List[str]:
    if f"{prefix}rel_strict_f1" not in metrics:
        return ["(none recorded)"]
    rows = ["| | P | R | F1 |", "|---|---|---|---|"]
    for task in TASKS:
        figures = [100 * float(metrics.get(f"{prefix}{task}_{name}", 0.0)) for name in ("precision", "recall", "f1")]
        rows.append(f"| {TASK_LABELS[task]} | " + " | ".join(f"{value:.2f}" for value in figures) + " |")
    return rows


def known_limits(config: Mapping[str, Any], encoder: str) -> List[str]:
    model, reader = config.get("model", {}), config.get("validation_dataset_reader", config.get("dataset_reader", {}))
    limits = []
    if any(name in encoder.lower() for name in STAND_IN_ENCODERS):
        limits.append(f"The encoder `{encoder}` is a small stand-in for the paper's (SciBERT, BERT-base or "
                      "ALBERT-xxlarge): its figures are not comparable to the paper's Table 2.")
    if "max_relation_entities" in model:
        limits.append(f"Only the {model['max_relation_entities']} best entities of a sentence enter relation "
                      "scoring; those beyond are counted in the metric `entities_beyond_max_relation_entities`.")
    if "max_span_size" in reader:
        limits.append(f"Entities wider than {reader['max_span_size']} words cannot be predicted; gold ones are "
                      "counted as missed (`gold_entities_wider_than_max_span_size`).")
    return limits


def model_card(config: Mapping[str, Any], metrics: Mapping[str, Any], argv: List[str],
               now: Optional[datetime.datetime] = None) -> str:
    """The card's Markdown for a run of `config` (AllenNLP's config.json) selected with the
    `best_validation_*` figures in `metrics`, trained by the command `argv`."""
    model = config.get("model", {})
    embedder = model.get("embedder", {}).get("token_embedders", {}).get("tokens", {})
    encoder = short_path(embedder.get("model_name", "unknown"))
    trainer = config.get("trainer", {})
    now = now or datetime.datetime.now(datetime.timezone.utc)
    lines = [
        f"# Model card: {model.get('type', 'unknown')} joint entity and relation extraction",
        "",
        "## Model",
        f"- Model: `{model.get('type')}` (sinet_allen), interaction: "
        f"`{model.get('interaction', {}).get('type', 'none') if model.get('interaction') else 'none'}`",
        f"- Encoder: `{encoder}` (its configuration and tokenizer are archived in `encoder/`)",
        f"- Symmetric relation types: {', '.join(model.get('symmetric_relations', [])) or 'none'}",
        "",
        "## Data",
        f"- Training: `{short_path(config.get('train_data_path', ''))}`",
        f"- Validation (model selection): `{short_path(config.get('validation_data_path', ''))}`",
        f"- Test: `{short_path(config.get('test_data_path', 'none'))}`",
        "",
        "## Selection",
        f"- Selected by `{trainer.get('validation_metric', '-loss')}` on the validation data, best epoch "
        f"{metrics.get('best_epoch', 'unknown')} of {metrics.get('epoch', -1) + 1 if 'epoch' in metrics else 'unknown'}",
        "",
        "Validation (%):",
        "",
        *_metrics_table(metrics, "best_validation_"),
    ]
    lines += [
        "",
        "## Training",
        f"- Command: `{training_command(argv)}`",
        f"- Seed: {config.get('random_seed', 'unknown')}",
        f"- Epochs: {trainer.get('num_epochs', 'unknown')}, optimizer `{trainer.get('optimizer', {}).get('type')}`, "
        f"learning rate {trainer.get('optimizer', {}).get('lr')}",
        f"- Date: {now:%Y-%m-%d %H:%M} UTC",
        f"- Hardware: {hardware()}",
        f"- Software: Python {platform.python_version()}, torch {torch.__version__}",
        "",
        "## Known limits",
        *[f"- {limit}" for limit in known_limits(config, encoder)],
        "",
    ]
    return "\n".join(lines)


def read_card(model: Path) -> str:
    """The card of a model archive or serialization folder; a ValueError says why there is none."""
    if model.is_dir():
        card = model / CARD_NAME
        if not card.is_file():
            raise ValueError(f"{model}: no {CARD_NAME} (trained before model cards were written?)")
        return card.read_text(encoding="utf-8")
    try:
        with tarfile.open(model) as archive:
            return archive.extractfile(CARD_NAME).read().decode("utf-8")
    except KeyError:
        raise ValueError(f"{model}: the archive holds no {CARD_NAME} (trained before model cards were "
                         "written?)") from None
    except tarfile.TarError as error:
        raise ValueError(f"{model}: not a model archive ({error})") from None


def write_card(serialization_dir: Path, metrics: Mapping[str, Any]) -> Path:
    """Writes the card of the run in `serialization_dir` (its config.json) and returns its path."""
    config = json.loads((serialization_dir / "config.json").read_text(encoding="utf-8"))
    path = serialization_dir / CARD_NAME
    path.write_text(model_card(config, metrics, sys.argv), encoding="utf-8")
    return path


def add_evaluation(serialization_dir: Path, data_path: str, metrics: Mapping[str, Any]) -> None:
    """Adds the figures of the archived (selected) model on `data_path` to the run's card, in the
    folder and in its model.tar.gz (`allennlp sinet-experiment` does, after evaluating)."""
    card = serialization_dir / CARD_NAME
    if not card.is_file():  # a run trained without the archive_extras callback
        return
    text = card.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + "\n".join([
        "## Evaluation", "", f"The selected model on `{short_path(data_path)}` (%):", "",
        *_metrics_table(metrics, ""), ""])
    with atomic_output(card) as file:
        file.write(text)
    replace_in_archive(serialization_dir / "model.tar.gz", CARD_NAME, text.encode("utf-8"))


def replace_in_archive(archive_path: Path, name: str, content: bytes) -> None:
    """The archive with the file `name` holding `content`, everything else as it was."""
    with tarfile.open(archive_path) as source, atomic_output(archive_path, binary=True) as output:
        with tarfile.open(fileobj=output, mode="w:gz") as target:
            for member in source.getmembers():
                if member.name != name:
                    target.addfile(member, source.extractfile(member) if member.isfile() else None)
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(content), int(datetime.datetime.now().timestamp()), 0o644
            target.addfile(info, io.BytesIO(content))
