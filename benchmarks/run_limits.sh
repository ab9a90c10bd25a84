#!/bin/sh
# The comparison at a parameter limit reported in docs/benchmarks.md ("Resource limits"): symtuner, plain
# GP and TPE, 12 trials of 3 epochs, 8 seeds, on digits-small and then digits, every run limited to 100 k
# parameters (a tenth of the default network at the middle of the paper's space, 1.06 M), in the space of
# benchmarks/spaces/wide_units.toml. Rerunning it resumes unfinished runs and skips finished ones.
#   sh benchmarks/run_limits.sh [OUT_DIR]      (default: compare-out/limits)
set -e
OUT=${1:-compare-out/limits}
export TF_CPP_MIN_LOG_LEVEL=2
for dataset in digits-small digits; do
    symtuner compare --dataset "$dataset" --strategies symtuner,gp,tpe --seeds 8 --trials 12 --epochs 3 \
        --space benchmarks/spaces/wide_units.toml --max-params 100k --out "$OUT/$dataset"
done
