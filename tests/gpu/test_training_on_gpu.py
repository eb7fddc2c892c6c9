"""Training on cuda:0 (requires_gpu): SINET and CMAN in float32, under `use_amp` (float16 autocast
with the GradScaler, stepping the configs' fused AdamW) and in bfloat16, each validated on the GPU
with the metrics that the CPU gives the archived model; the pair of `use_amp` and bfloat16 refused;
a short run on real data where SINET_DATA_DIR has it; NCCL through a process group of one around
AllenNLP's trainer, and two GPUs through SINET_CUDA_DEVICES where the machine has them."""
import json
import os
import socket

import pytest
import torch
from allennlp.common.checks import ConfigurationError

from conftest import FIXTURE_CONFIG, real_data_dir
from gpu_runs import (  # noqa: F401  (gpu_run: a fixture)
    CONFIGS, GPU, MARKS, PRECISIONS, SCORES, allennlp, evaluate, gpu_run, train)

pytestmark = MARKS

# What the CPU may differ by: the same decisions (float32), or a few of them where validation ran
# under float16 autocast (use_amp validates as it trains) or the weights learnt in another precision.
TOLERANCE = {"float32": 1e-9, "amp": 0.03, "bfloat16": 1e-9}


@pytest.mark.parametrize("precision", sorted(PRECISIONS))
@pytest.mark.parametrize("model", sorted(CONFIGS))
def test_a_model_trained_on_the_gpu_validates_as_the_cpu_evaluates_it(gpu_run, model, precision):
    run = gpu_run(model, precision)
    metrics = json.loads((run / "metrics.json").read_text())
    config = json.loads((run / "config.json").read_text())
    assert config["trainer"]["cuda_device"] == GPU and config["trainer"]["optimizer"]["type"] == "fused_adamw"
    assert config["trainer"].get("use_amp", False) == (precision == "amp")
    assert torch.isfinite(torch.tensor(metrics["training_loss"]))
    assert metrics["best_validation_ent_f1"] > 0.5, metrics  # it fitted the data: the comparison means something
    on_cpu = evaluate(run / "model.tar.gz", cuda_device=-1)  # the archive holds the best epoch's weights
    for name in SCORES:
        assert on_cpu[name] == pytest.approx(metrics[f"best_validation_{name}"], abs=TOLERANCE[precision]), name


@pytest.mark.parametrize("model", sorted(CONFIGS))
def test_use_amp_with_bfloat16_training_is_refused(model, tmp_path):
    with pytest.raises(ConfigurationError, match="training_precision 'bfloat16' cannot be combined .* use_amp"):
        train(model, "bfloat16", tmp_path, **{"trainer.use_amp": True, "trainer.num_epochs": 1})


@pytest.mark.parametrize("model, data, symmetric", [("sinet", "scierc", ["Compare", "Conjunction"]),
                                                     ("cman", "conll04", [])])
def test_an_epoch_on_a_real_data_subset(model, data, symmetric, tmp_path):
    folder = real_data_dir() / data
    if not (folder / "train.json").exists():
        pytest.skip(f"{folder / 'train.json'} is absent (set SINET_DATA_DIR to the data root)")
    for split, count in (("train", 64), ("dev", 32)):
        sentences = json.loads((folder / f"{split}.json").read_text())[:count]
        (tmp_path / f"{split}.json").write_text(json.dumps(sentences))
    reader = {"types_file": str(folder / "types.json"), "symmetric_relations": symmetric}
    overrides = {"train_data_path": str(tmp_path / "train.json"), "validation_data_path": str(tmp_path / "dev.json"),
                 "test_data_path": str(tmp_path / "dev.json"),  # the vocabulary is built from every split
                 "trainer.num_epochs": 1, "model.symmetric_relations": symmetric,
                 **{f"{key}.{name}": value for key in ("dataset_reader", "validation_dataset_reader")
                    for name, value in reader.items()}}
    run = train(model, "float32", tmp_path / "run", **overrides)
    metrics = json.loads((run / "metrics.json").read_text())
    assert torch.isfinite(torch.tensor(metrics["training_loss"]))
    on_cpu = evaluate(run / "model.tar.gz", cuda_device=-1, data=tmp_path / "dev.json")
    for name in SCORES:
        assert on_cpu[name] == pytest.approx(metrics[f"validation_{name}"], abs=0.02), name


def test_nccl_process_group_of_one_around_the_trainer(tmp_path):
    """AllenNLP's trainer refuses a distributed run on one device, but everything around it that
    asks whether it runs distributed (the readers' sharding, the metric's sums over workers, the
    checkpointer's barriers) takes the process group as it finds it: through NCCL, with one worker,
    validation must still give what the CPU gives the archived model."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    torch.cuda.set_device(GPU)
    torch.distributed.init_process_group("nccl", init_method=f"tcp://127.0.0.1:{port}", world_size=1, rank=0)
    try:
        run = train("sinet", "float32", tmp_path)
    finally:
        torch.distributed.destroy_process_group()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["best_validation_ent_f1"] > 0.5
    on_cpu = evaluate(run / "model.tar.gz", cuda_device=-1)
    for name in SCORES:
        assert on_cpu[name] == pytest.approx(metrics[f"best_validation_{name}"], abs=1e-9), name


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="fewer than two GPUs: SINET_CUDA_DEVICES=0,1 needs two")
def test_two_gpus_through_sinet_cuda_devices(tmp_path, monkeypatch):
    monkeypatch.setenv("SINET_CUDA_DEVICES", "0,1")
    monkeypatch.setenv("SINET_MASTER_PORT", "29517")
    allennlp("train", FIXTURE_CONFIG, "-s", tmp_path, "-o", json.dumps({"trainer.num_epochs": 1}))
    assert "World size: 2" in (tmp_path / "out.log").read_text()
    assert (tmp_path / "model.tar.gz").exists()
