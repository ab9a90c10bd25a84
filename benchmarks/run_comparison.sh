#!/bin/sh
# The comparison reported in docs/benchmarks.md: all four strategies, 15 trials
# of 3 epochs, on digits-small (8 seeds) and then digits (5 seeds), one run at a time.
# Rerunning it resumes unfinished runs and skips finished ones.
#   sh benchmarks/run_comparison.sh [OUT_DIR]      (default: compare-out)
set -e
OUT=${1:-compare-out}
export TF_CPP_MIN_LOG_LEVEL=2
for spec in digits-small:8 digits:5; do
    dataset=${spec%%:*}
    symtuner compare --dataset "$dataset" --strategies symtuner,gp,random,tpe --seeds "${spec##*:}" \
        --trials 15 --epochs 3 --out "$OUT/$dataset"
done
python benchmarks/overhead.py --out "$OUT/overhead.md"
