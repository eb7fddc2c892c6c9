"""What the requires_gpu tests share: their marks (skipped, with the reason, where CUDA is absent,
so that they cost nothing there), and models trained on cuda:0 until they fit the fixture data.

A model that fits its data decides far from every threshold, so the GPU's and the CPU's float32
arithmetic, which differ in the last bits, give the same entities and relations: their metrics can
be compared closely. The fixture data's ten training sentences are also the validation data."""
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import pytest
import torch
from allennlp.commands.evaluate import evaluate_from_archive
from allennlp.commands.train import train_model_from_file

from conftest import CMAN_CONFIG, FIXTURE_CONFIG, FIXTURE_DATA, REPO

GPU = 0
NO_CUDA = "CUDA is absent: the requires_gpu tests run on a GPU machine (scripts/device_check.sh, docs/scaling.md)"
MARKS = [pytest.mark.requires_gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_CUDA)]

CONFIGS = {"sinet": FIXTURE_CONFIG, "cman": CMAN_CONFIG}
# float32; float16 autocast with the trainer's GradScaler (and the configs' fused AdamW); bfloat16.
PRECISIONS: Dict[str, Dict[str, Any]] = {
    "float32": {},
    "amp": {"trainer.use_amp": True},
    "bfloat16": {"model.training_precision": "bfloat16"},
}
FIT_DATA = FIXTURE_DATA / "spert" / "train.json"
# What fits each model to the ten sentences (entity F1 about 0.9 on a CPU): SINET with a constant,
# higher learning rate, CMAN with its own. The best epoch (the archived one) by entity F1, which
# rises first.
FIT = {"sinet": {"trainer.num_epochs": 30, "trainer.optimizer.lr": 3e-3, "trainer.learning_rate_scheduler": None},
       "cman": {"trainer.num_epochs": 15}}
BEST_BY = {"trainer.validation_metric": "+ent_f1"}
SCORES = ("ent_f1", "rel_f1", "rel_strict_f1")
TIMEOUT = 600  # seconds for a command run as a subprocess


def train(model: str, precision: str, folder: Path, cuda_device: int = GPU, **overrides: Any) -> Path:
    """`model`'s fixture config trained in `precision` on `cuda_device`; the run's folder."""
    settings = {"trainer.cuda_device": cuda_device, "validation_data_path": str(FIT_DATA), **FIT[model], **BEST_BY,
                **PRECISIONS[precision], **overrides}
    train_model_from_file(str(CONFIGS[model]), str(folder), overrides=json.dumps(settings), force=True)
    return folder


def evaluate(archive: Path, cuda_device: int, data: Path = FIT_DATA, **overrides: Any) -> Dict[str, float]:
    return evaluate_from_archive(str(archive), str(data), cuda_device=cuda_device, cmd_overrides=overrides)


def allennlp(*arguments: Any) -> subprocess.CompletedProcess:
    """An `allennlp` command run as a subprocess of this Python, from the repository root."""
    command = [sys.executable, "-m", "allennlp", *map(str, arguments)]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT, check=True)


@pytest.fixture(scope="session")
def gpu_run(tmp_path_factory):
    """`gpu_run(model, precision)`: the folder of that fixture model trained on cuda:0, trained
    once per test session."""
    runs: Dict[tuple, Path] = {}

    def run(model: str, precision: str) -> Path:
        if (model, precision) not in runs:
            runs[model, precision] = train(model, precision, tmp_path_factory.mktemp(f"{model}_{precision}"))
        return runs[model, precision]

    return run
