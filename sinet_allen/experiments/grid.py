"""Running a grid of configs x seeds (x folds): train, evaluate the best (or final) model, record,
resume.

A run's directory is `<output dir>/<config name>/seed<k>[/fold<f>]`. Its `<split>_metrics.json`
(`<split>_final_metrics.json` for the final model) is written last, so its presence means the run
is complete; an interrupted grid run again skips the complete runs and trains the others from
scratch. A run that is complete for another split or model already holds its finished training,
which is then only evaluated.
"""
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

from allennlp.commands.train import train_model_from_file
from allennlp.common import Params
from allennlp.data.data_loaders import MultiProcessDataLoader
from allennlp.evaluation import SimpleEvaluator
from allennlp.models.archival import load_archive
from allennlp.training import Checkpointer

from sinet_allen.evaluation.sentence_serializer import SentenceSerializer
from sinet_allen.files import write_json_atomically
from sinet_allen.model_card import add_evaluation
from sinet_allen.training.weight_averaging import assign_final_average

logger = logging.getLogger(__name__)

# The evaluation splits and the config keys of their data files.
SPLIT_DATA_KEYS = {"dev": "validation_data_path", "test": "test_data_path"}
# Which weights of a run are scored: the archived best dev model, or the last checkpoint.
MODELS = ("best", "final")


@dataclass(frozen=True)
class Run:
    config: Path
    seed: int
    fold: Optional[int] = None

    @property
    def name(self) -> str:
        return self.config.stem

    def directory(self, output_dir: Path) -> Path:
        directory = Path(output_dir) / self.name / f"seed{self.seed}"
        return directory if self.fold is None else directory / f"fold{self.fold}"

    def environment(self) -> Dict[str, str]:
        """The variables the configs read for this run (sinet_allen/settings.py)."""
        variables = {"SINET_SEED": str(self.seed)}
        if self.fold is not None:
            variables["SINET_FOLD"] = str(self.fold)
        return variables

    def __str__(self) -> str:
        return f"{self.name} seed {self.seed}" + ("" if self.fold is None else f" fold {self.fold}")


def plan_runs(configs: Sequence[Path], seeds: Sequence[int], folds: Sequence[int] = ()) -> List[Run]:
    """Every config x seed (x fold), config by config; config names must be unique (they name folders)."""
    names = [Path(config).stem for config in configs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"configs share the file name(s) {duplicates}, which name the run folders; rename one")
    return [Run(Path(config), seed, fold) for config in configs for seed in seeds for fold in (folds or [None])]


def check_folds_are_read(configs: Sequence[Path], folds: Sequence[int]) -> None:
    """Refuses folds for a config that does not read SINET_FOLD: every fold would be the same run."""
    if len(folds) < 2:
        return
    for config in configs:
        settings = []
        for fold in folds[:2]:
            with _environment({"SINET_FOLD": str(fold)}):
                settings.append(Params.from_file(str(config)).as_dict(quiet=True))
        if settings[0] == settings[1]:
            raise ValueError(f"{config} does not read SINET_FOLD, so its {len(folds)} folds would be the same run; "
                             "leave out --folds for it")


def evaluation_name(split: str, model: str = "best") -> str:
    """`test`, `test_final`: the prefix of an evaluation's files and the suffix of its table's."""
    return split if model == "best" else f"{split}_{model}"


def metrics_file(directory: Path, split: str, model: str = "best") -> Path:
    return directory / f"{evaluation_name(split, model)}_metrics.json"


def predictions_file(directory: Path, split: str, model: str = "best") -> Path:
    return directory / f"{evaluation_name(split, model)}_predictions.jsonl"


def run_grid(runs: Sequence[Run], output_dir: Path, split: str, overrides: str = "",
             cuda_device: int = -1, batch_size: int = 32, model: str = "best") -> None:
    for number, run in enumerate(runs, 1):
        directory = run.directory(output_dir)
        if metrics_file(directory, split, model).exists():
            logger.info("run %d/%d (%s): complete, skipped", number, len(runs), run)
            continue
        logger.info("run %d/%d (%s) in %s", number, len(runs), run, directory)
        with _environment(run.environment()):
            if not _has_finished_model(directory):
                train(run, directory, overrides)
            evaluate(directory, split, cuda_device, batch_size, model)


def _has_finished_model(directory: Path) -> bool:
    # Metrics are written only after training and evaluation succeeded.
    return any(metrics_file(directory, split, model).exists() for split in SPLIT_DATA_KEYS for model in MODELS)


def train(run: Run, directory: Path, overrides: str) -> None:
    """Trains from scratch: `force` clears what an interrupted attempt left in the directory."""
    train_model_from_file(run.config, directory, overrides, force=True, return_model=False)


def evaluate(directory: Path, split: str, cuda_device: int, batch_size: int, model: str = "best") -> None:
    """Scores the run's archived best model, or with `model` "final" the weights it ended with (its
    last checkpoint, or their average when it averaged them), on the split's file of its config;
    writes the predictions (the prediction format, a line per sentence, with gold) beside the run's
    config.json, then the metrics."""
    archive = load_archive(directory / "model.tar.gz", cuda_device=cuda_device,
                           weights_file=_last_checkpoint(directory) if model == "final" else None)
    if model == "final":
        assign_final_average(archive.model, archive.config, directory)
    data_path = archive.config.get(SPLIT_DATA_KEYS[split], None)
    if data_path is None:
        raise ValueError(f"{directory}: the config has no {SPLIT_DATA_KEYS[split]} to evaluate on")
    # In file order (no bucketing), so that prediction files of different systems line up.
    loader = MultiProcessDataLoader(archive.validation_dataset_reader, data_path, batch_size=batch_size)
    loader.index_with(archive.model.vocab)
    evaluator = SimpleEvaluator(SentenceSerializer(), cuda_device=cuda_device)
    metrics = evaluator(archive.model, loader, predictions_output_file=predictions_file(directory, split, model))
    if model == "best":  # the archived model: its card gets the figures
        add_evaluation(directory, data_path, metrics)
    write_json_atomically(metrics_file(directory, split, model), metrics)


def _last_checkpoint(directory: Path) -> str:
    checkpoint = Checkpointer(str(directory)).find_latest_checkpoint()
    if checkpoint is None:
        raise ValueError(f"{directory}: no model_state_*.th checkpoint to evaluate as the final model "
                         "(the trainer's checkpointer must keep at least the last one)")
    return checkpoint[0]


@contextmanager
def _environment(variables: Dict[str, str]) -> Iterator[None]:
    """Sets environment variables for the block and restores the previous values after it."""
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name)
            else:
                os.environ[name] = value
