#!/usr/bin/env bash
# The GPU check, one command on a lent GPU machine (docs/scaling.md, "Checking a GPU machine"):
# installs the carried wheels (scripts/gpu_check/build_carry.py) without network into a folder of
# their own, puts it and the project first on the path, and runs the driver, which writes
# $OUT/device_check.json as it goes.
#
#   bash scripts/device_check.sh            # on the GPU machine, in the repository root
#   bash scripts/device_check.sh --cpu      # the dry run here (scripts/gpu_check/dry_run.sh)
#
# PYTHON (python3), CARRY (.gpu_carry), SITE (a new temporary folder) and OUT (./device_check_out)
# may be set; further arguments go to scripts/gpu_check/device_check.py.
set -euo pipefail
PYTHON=${PYTHON:-python3}
CARRY=${CARRY:-.gpu_carry}
SITE=${SITE:-$(mktemp -d)}
OUT=${OUT:-$PWD/device_check_out}
if ! ls "$CARRY"/wheels/*.whl > /dev/null 2>&1; then
    echo "device_check: no wheels in $CARRY/wheels: build them with scripts/gpu_check/build_carry.py" >&2
    exit 2
fi
"$PYTHON" -m pip install --quiet --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --disable-pip-version-check --target "$SITE" "$CARRY"/wheels/*.whl
export PYTHONPATH="$SITE:$PWD" SINET_DATA_DIR="$PWD/$CARRY/data" PYTHONUNBUFFERED=1
# The carried transformers 4.42 with PyTorch alone: it would also take up the machine's far newer
# JAX and Flax (e.g. jax.core.Tracer in its tensor checks), which nothing here uses.
export USE_TORCH=1 USE_TF=0 USE_FLAX=0
exec "$PYTHON" scripts/gpu_check/device_check.py --carry "$CARRY" --output "$OUT" "$@"
