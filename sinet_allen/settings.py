"""Defaults for the environment variables that the jsonnet configs read.

AllenNLP hands every environment variable to jsonnet as an external variable, and jsonnet fails on
an undefined one, so the plugin fills in documented defaults when it is imported (which
`allennlp train|evaluate|predict` do before they read a config). A value set by the user wins.
"""
import os

DEFAULT_DATA_DIR = "../shared/data"

CONFIG_DEFAULTS = {
    # Root holding scierc/, conll04/, ade/, ace04/, ace05/: `../shared/data` from the working folder,
    # beside the checkout, where the project's machines and CI keep the data sets; the default of
    # the Makefile and of scripts/fetch_data.py too, so that `make train` runs as it is there.
    "SINET_DATA_DIR": DEFAULT_DATA_DIR,
    # Empty means "the paper's encoder for this data set"; else a Hugging Face name or a local path.
    "SINET_ENCODER": "",
    # Seeds python, numpy, torch and the reader's negative sampling.
    "SINET_SEED": "13",
    # Fold of the cross-validated data sets (ACE04: 0-4, ADE: 0-9).
    "SINET_FOLD": "0",
    # Distributed training, off unless SINET_CUDA_DEVICES lists devices, e.g. "0,1" (README, Scaling).
    "SINET_CUDA_DEVICES": "",
    "SINET_NUM_NODES": "1",
    "SINET_MASTER_ADDRESS": "127.0.0.1",
    "SINET_MASTER_PORT": "29500",
}


def set_config_defaults() -> None:
    for name, value in CONFIG_DEFAULTS.items():
        os.environ.setdefault(name, value)
    # Absolute paths, so that the config saved in a model archive finds its data, types file and
    # encoder from any working directory (`allennlp evaluate` run elsewhere).
    os.environ["SINET_DATA_DIR"] = os.path.abspath(os.environ["SINET_DATA_DIR"])
    if os.path.isdir(os.environ["SINET_ENCODER"]):
        os.environ["SINET_ENCODER"] = os.path.abspath(os.environ["SINET_ENCODER"])
