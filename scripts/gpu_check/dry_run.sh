#!/usr/bin/env bash
# The GPU check's dry run on this (CPU) machine, opt-in and not part of `make test`: a clean
# Python 3.12 virtual environment holding what the GPU machine holds (torch 2.11 from the
# registry, transformers 5, tokenizers, huggingface-hub 1, numpy 2, SciPy, scikit-learn, ...; no
# AllenNLP, spaCy or jsonnet), the carry folder built by scripts/gpu_check/build_carry.py, and
# scripts/device_check.sh --cpu with that environment's Python: it installs the carried wheels as
# the GPU machine does and runs every step, the GPU tests skipped.
#
#   bash scripts/gpu_check/dry_run.sh [VENV]      # VENV: ~/.cache/sinet-gpu-dryrun-venv by default
#
# The first run downloads about 3 GB (torch and its CUDA libraries) into VENV; later runs reuse it.
set -euo pipefail
VENV=${1:-$HOME/.cache/sinet-gpu-dryrun-venv}
PYTHON312=${PYTHON312:-$(ls -d ~/.pyenv/versions/3.12*/bin/python 2>/dev/null | tail -1)}
# The GPU machine's packages (.library/device/KINDS.md) that the check may touch.
MACHINE_PACKAGES=('torch==2.11.*' 'torchvision==0.26.*' 'transformers>=5,<6' tokenizers 'huggingface-hub>=1'
    'numpy>=2,<3' scipy scikit-learn h5py pandas matplotlib requests httpx anyio h11 jinja2 click rich
    tqdm typer safetensors sentencepiece protobuf psutil regex filelock fsspec packaging pyyaml six
    python-dateutil cloudpickle shellingham pygments joblib threadpoolctl networkx sympy pytest
    accelerate peft)  # transformers 4.42 imports accelerate where it is installed, as there
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON312" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "${MACHINE_PACKAGES[@]}"
fi
"$VENV/bin/python" -c 'import sys; assert sys.version_info[:2] == (3, 12), sys.version'
if [ ! -d .gpu_carry/wheels ]; then
    "${BUILD_PYTHON:-.venv/bin/python}" scripts/gpu_check/build_carry.py  # a Python with pip, setuptools
fi
export OUT=${OUT:-$(mktemp -d)}
echo "dry run: report in $OUT/device_check.json"
SITE=$(mktemp -d) PYTHON="$VENV/bin/python" bash scripts/device_check.sh --cpu --budget 1800
