#!/bin/sh
# The suite of poor first guesses (docs/benchmarks.md, "Poor first guesses: the suite"): the nine
# entries of benchmarks/spaces/suite.toml (the paper's space and eight spaces with one mistake each,
# all on digits-small), 6 seeds, symtuner and gp at 15 trials of 5 epochs, tpe-hyperband (Optuna's
# TPE + HyperbandPruner) at an equal budget of 15 x 5 = 75 epochs per run; one run at a time.
# Rerunning it resumes unfinished runs and skips finished ones; the table is OUT/suite.md.
#   sh benchmarks/run_suite.sh [OUT_DIR]      (default: suite-out; EPOCHS=10 SEEDS=8 to change those)
#
# Why 5 epochs: it is the fewest at which every diagnosis the entries rely on can be read (a
# straight-line fall, low_lr, needs 5 epochs; a zig-zag needs at least 4). Timed on the 2 CPU cores of
# docs/benchmarks.md while another job shared them, a 5-epoch trial took 10-12 s on the paper's space,
# 13-20 s with batches of 2..8 and 17-24 s with big-net's 13 M parameters (10 epochs: about 15 s on the
# paper's space), so one 15-trial study takes about 2.5 to 5 minutes there, not one: a minute per
# study would need 2-3 epochs per trial, too few for those diagnoses. The whole suite is 9 entries x
# 3 strategies x 6 seeds = 162 studies: about 8 hours at that load (estimated from those trial times,
# not measured; less on idle cores). --isolate trains every trial in a fresh process: TensorFlow
# keeps part of every trial's memory until its process ends, and big-net's trials would otherwise
# grow one process past the memory of a 24 GB machine (docs/parallel.md).
set -e
OUT=${1:-suite-out}
EPOCHS=${EPOCHS:-5}
SEEDS=${SEEDS:-6}
export TF_CPP_MIN_LOG_LEVEL=2
symtuner compare --suite benchmarks/spaces/suite.toml --strategies symtuner,gp,tpe-hyperband \
    --seeds "$SEEDS" --trials 15 --epochs "$EPOCHS" --out "$OUT" --isolate
