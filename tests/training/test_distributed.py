"""Distributed training: the env-var `distributed` block of every config, two CPU workers (gloo)
through `allennlp train` checked against a single-process `allennlp evaluate`, the same through
AllenNLP's own `-o distributed` override, the documented multi-node command, and the reader's
sharding and per-worker negative samples. DistributedDataParallel runs without
`find_unused_parameters`, so a parameter without gradient in any step would stop these runs."""
import inspect
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from allennlp.common import Params
from allennlp.training import GradientDescentTrainer

from conftest import FIXTURE_CONFIG, FIXTURE_DATA, REPO, TINY_BERT
from sinet_allen.dataset_readers.joint_ie import JointIEReader

# The multi-node command of docs/scaling.md; the test runs this very line.
MULTI_NODE_COMMAND = (
    "SINET_CUDA_DEVICES={devices} SINET_NUM_NODES={num_nodes} SINET_MASTER_ADDRESS={address} "
    "SINET_MASTER_PORT={port} allennlp train {config} -s {run_dir} --node-rank {node_rank}"
)
DISTRIBUTED_VARIABLES = ("SINET_CUDA_DEVICES", "SINET_NUM_NODES", "SINET_MASTER_ADDRESS", "SINET_MASTER_PORT")
CONFIGS = sorted(str(path.relative_to(REPO)) for path in (REPO / "training_config").rglob("*.jsonnet"))
TIMEOUT = 600  # seconds; a worker that never meets the others would otherwise hang the test run


def load_config(path: str, monkeypatch, overrides: str = "", **variables: str) -> dict:
    for name in DISTRIBUTED_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    from sinet_allen.settings import set_config_defaults

    set_config_defaults()
    return Params.from_file(path, overrides).as_dict(quiet=True)


@pytest.mark.parametrize("config", CONFIGS)
def test_every_config_takes_devices_from_the_environment(config, monkeypatch):
    assert "distributed" not in load_config(config, monkeypatch)

    one_gpu = load_config(config, monkeypatch, SINET_CUDA_DEVICES="1")
    assert "distributed" not in one_gpu and one_gpu["trainer"]["cuda_device"] == 1

    several = load_config(config, monkeypatch, SINET_CUDA_DEVICES="0,1", SINET_MASTER_PORT="29600")
    assert several["distributed"] == {
        "cuda_devices": [0, 1],
        "num_nodes": 1,
        # AllenNLP reads primary_* and silently ignores other keys, so check the names.
        "primary_address": "127.0.0.1",
        "primary_port": 29600,
    }  # no ddp_accelerator: every parameter takes part in every loss, no search for unused ones

    machines = load_config(config, monkeypatch, SINET_CUDA_DEVICES="0,1,2,3", SINET_NUM_NODES="2",
                           SINET_MASTER_ADDRESS="10.0.0.1", SINET_MASTER_PORT="29500")["distributed"]
    assert (machines["num_nodes"], machines["primary_address"], machines["primary_port"]) == (2, "10.0.0.1", 29500)
    assert machines["cuda_devices"] == [0, 1, 2, 3]


def test_amp_and_gradient_accumulation_overrides_keep_the_trainer(monkeypatch):
    # The documented form: dotted keys. A nested {"trainer": {...}} would replace the whole trainer.
    config = "training_config/sinet_ace05_albert.jsonnet"
    overrides = '{"trainer.use_amp": true, "trainer.num_gradient_accumulation_steps": 4}'
    trainer = load_config(config, monkeypatch, overrides)["trainer"]
    assert trainer.pop("use_amp") is True and trainer.pop("num_gradient_accumulation_steps") == 4
    assert trainer == load_config(config, monkeypatch)["trainer"]  # optimizer, epochs, ... all kept
    parameters = inspect.signature(GradientDescentTrainer.__init__).parameters
    assert "use_amp" in parameters and "num_gradient_accumulation_steps" in parameters


def test_documented_multi_node_command_is_the_tested_one():
    scaling = (REPO / "docs" / "scaling.md").read_text()
    lines = [line.strip() for line in scaling.splitlines() if line.startswith("SINET_") and "--node-rank" in line]
    assert lines, "docs/scaling.md shows no multi-node command"
    pattern = re.escape(MULTI_NODE_COMMAND)
    for name in ("devices", "num_nodes", "address", "port", "config", "run_dir", "node_rank"):
        pattern = pattern.replace(re.escape("{" + name + "}"), r"\S+")
    for line in lines:
        assert re.fullmatch(pattern, line), f"docs/scaling.md's command differs from the tested one: {line}"


# --- the reader in a (mocked) distributed context --------------------------------------------


def read_as_worker(path: Path, rank: int, monkeypatch, world_size: int = 2):
    """What worker `rank` of `world_size` reads. AllenNLP's sharding and the reader's rank (taken
    when the reader is built) both come from torch.distributed, so faking its answers is enough;
    a fresh reader, as in a real worker."""
    monkeypatch.setattr(torch.distributed, "is_available", lambda: True)
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.distributed, "get_rank", lambda group=None: rank)
    monkeypatch.setattr(torch.distributed, "get_world_size", lambda group=None: world_size)
    reader = JointIEReader(str(TINY_BERT), types_file=str(FIXTURE_DATA / "spert" / "types.json"),
                           symmetric_relations=["Compare", "Conjunction"],
                           training_instances=True, neg_entity_count=5, neg_relation_count=5)
    return list(reader.read(str(path)))


def test_workers_read_disjoint_shards_that_cover_the_data(monkeypatch):
    path = FIXTURE_DATA / "spert" / "train.json"
    shards = [{instance["metadata"]["source"] for instance in read_as_worker(path, rank, monkeypatch)}
              for rank in (0, 1)]
    everything = {instance["metadata"]["source"] for instance in read_as_worker(path, 0, monkeypatch, world_size=1)}
    assert shards[0].isdisjoint(shards[1]) and shards[0] | shards[1] == everything
    assert abs(len(shards[0]) - len(shards[1])) <= 1


def test_workers_draw_different_negatives(tmp_path, monkeypatch):
    # Every sentence twice in a row: both workers get the same sentences in the same order, so
    # identical negatives would mean both drew from the same random stream.
    sentences = json.loads((FIXTURE_DATA / "spert" / "train.json").read_text())
    doubled = tmp_path / "train.json"
    doubled.write_text(json.dumps([sentence for sentence in sentences for _ in range(2)]))
    spans = [[instance["entity_spans"].tensor.tolist() for instance in read_as_worker(doubled, rank, monkeypatch)]
             for rank in (0, 1)]
    assert len(spans[0]) == len(spans[1]) == len(sentences)
    # Same gold, so the same candidate sets up to the sampled negatives, which differ somewhere.
    assert [sorted(map(tuple, s)) for s in spans[0]] != [sorted(map(tuple, s)) for s in spans[1]]


# --- real distributed runs through the command line ------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def subprocess_environment() -> dict:
    # `allennlp` from this virtual environment, even when pytest runs without activating it.
    environment = {name: value for name, value in os.environ.items() if name not in DISTRIBUTED_VARIABLES}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    # One thread per process: the workers share the cores, and a fixed thread count keeps float
    # sums, hence whole runs, identical from one run to the next.
    environment.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return environment


def quick_config(tmp_path: Path) -> Path:
    """The fixture config, one epoch (so the last validation is the archived model's), tuned so the
    tiny model predicts entities and relations at all: without entity negatives every span becomes
    an entity, and a low threshold keeps relations. Zero F1 on both sides would prove nothing. One
    sentence per batch: the empty fixture sentence is a batch without spans or pairs, where
    DistributedDataParallel stops unless every parameter takes part in every loss."""
    config = tmp_path / "distributed_fixture.jsonnet"
    config.write_text(
        f"local fixture = import '{FIXTURE_CONFIG}';\n"
        "fixture { num_epochs:: 1, batch_size:: 1, dataset_reader+: { neg_entity_count: 0 }, model+: { relation_threshold: 0.01 } }\n"
    )
    return config


def run_nodes(commands, log_dir: Path):
    """Starts every command (one per node) at once and waits for all of them."""
    processes = []
    for index, command in enumerate(commands):
        log = open(log_dir / f"node{index}.log", "w")
        processes.append((subprocess.Popen(command, shell=True, cwd=REPO, env=subprocess_environment(),
                                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True), log))
    try:
        for process, log in processes:
            process.wait(timeout=TIMEOUT)
            log.close()
    finally:
        for process, _ in processes:
            if process.poll() is None:  # only after a timeout: end our own stuck workers
                os.killpg(process.pid, 9)
    for index, (process, _) in enumerate(processes):
        assert process.returncode == 0, (log_dir / f"node{index}.log").read_text()[-4000:]


@pytest.fixture(scope="module")
def two_worker_run(tmp_path_factory) -> Path:
    """The fixture config trained by two CPU worker processes on one machine (gloo)."""
    tmp_path = tmp_path_factory.mktemp("two_workers")
    command = MULTI_NODE_COMMAND.format(devices="-1,-1", num_nodes=1, address="127.0.0.1", port=free_port(),
                                        config=quick_config(tmp_path), run_dir=tmp_path / "run", node_rank=0)
    run_nodes([command], tmp_path)
    return tmp_path / "run"


def test_two_cpu_workers_match_single_process_evaluation(two_worker_run):
    assert "World size: 2" in (two_worker_run / "out.log").read_text()
    for rank in (0, 1):  # every dev sentence was validated: no worker ran out of batches first
        assert "finishing validation early" not in (two_worker_run / f"out_worker{rank}.log").read_text()
    output = two_worker_run.parent / "evaluation.json"
    subprocess.run(["allennlp", "evaluate", str(two_worker_run / "model.tar.gz"),
                    str(FIXTURE_DATA / "spert" / "dev.json"), "--output-file", str(output), "--cuda-device", "-1"],
                   cwd=REPO, env=subprocess_environment(), check=True, capture_output=True, timeout=TIMEOUT)
    evaluation = json.loads(output.read_text())
    trained = json.loads((two_worker_run / "metrics.json").read_text())
    assert trained["epoch"] == trained["best_epoch"] == 0  # the archive holds the validated weights
    assert evaluation["ent_f1"] > 0 and evaluation["rel_f1"] > 0
    scores = [name for name in evaluation if name.endswith(("precision", "recall", "f1"))]
    assert {"ent_f1", "rel_f1", "rel_strict_f1"} <= set(scores)
    for name in scores:
        assert trained[f"validation_{name}"] == pytest.approx(evaluation[name], abs=1e-9), name


def test_allennlp_distributed_override_trains_as_the_environment_does(two_worker_run, tmp_path):
    # AllenNLP's own way, replacing the config's distributed section; the port is only there so
    # that test runs in parallel do not meet on AllenNLP's default one.
    override = json.dumps({"distributed": {"cuda_devices": [-1, -1], "primary_port": free_port()}})
    run_dir = tmp_path / "run"
    run_nodes([f"allennlp train {quick_config(tmp_path)} -s {run_dir} -o '{override}'"], tmp_path)
    assert "World size: 2" in (run_dir / "out.log").read_text()
    assert "ddp_accelerator" not in json.loads((run_dir / "config.json").read_text())["distributed"]
    expected = json.loads((two_worker_run / "metrics.json").read_text())
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for name in ("training_loss", "validation_ent_f1", "validation_rel_f1", "validation_rel_strict_f1"):
        assert metrics[name] == pytest.approx(expected[name], rel=1e-6), name


def test_readme_command_on_two_machines(two_worker_run, tmp_path):
    # Two "machines" on this one, one CPU worker each: the same global ranks as the two-worker run,
    # so the same shards, samples and weights; node 1 reaches node 0 only through address and port.
    port, config = free_port(), quick_config(tmp_path)
    commands = [MULTI_NODE_COMMAND.format(devices="-1", num_nodes=2, address="127.0.0.1", port=port,
                                          config=config, run_dir=tmp_path / f"machine{rank}", node_rank=rank)
                for rank in (0, 1)]
    run_nodes(commands, tmp_path)
    assert f"Primary is at: 127.0.0.1:{port}" in (tmp_path / "machine1" / "out.log").read_text()
    expected = json.loads((two_worker_run / "metrics.json").read_text())
    metrics = json.loads((tmp_path / "machine0" / "metrics.json").read_text())
    for name in ("training_loss", "validation_ent_f1", "validation_rel_f1", "validation_rel_strict_f1"):
        assert metrics[name] == pytest.approx(expected[name], rel=1e-6), name
    assert (tmp_path / "machine0" / "model.tar.gz").exists()
