#!/bin/sh
# The comparison at a parameter limit reported in docs/benchmarks.md ("Resource limits"): symtuner, plain
# GP and TPE, 12 trials per run, 8 seeds, every run limited to about a tenth of the default network at the
# middle of its default space: digits-small (conv network, 1.06 M -> 100 k parameters, 3 epochs per trial)
# in benchmarks/spaces/wide_units.toml, then breast-cancer (MLP, 4,490 -> 450 parameters, 10 epochs per
# trial) in benchmarks/spaces/wide_units_tabular.toml. Rerunning it resumes unfinished runs and skips
# finished ones.
#   sh benchmarks/run_limits.sh [OUT_DIR]      (default: compare-out/limits)
set -e
OUT=${1:-compare-out/limits}
export TF_CPP_MIN_LOG_LEVEL=2
symtuner compare --dataset digits-small --strategies symtuner,gp,tpe --seeds 8 --trials 12 --epochs 3 \
    --space benchmarks/spaces/wide_units.toml --max-params 100k --out "$OUT/digits-small"
symtuner compare --dataset breast-cancer --strategies symtuner,gp,tpe --seeds 8 --trials 12 --epochs 10 \
    --space benchmarks/spaces/wide_units_tabular.toml --max-params 450 --out "$OUT/breast-cancer"
