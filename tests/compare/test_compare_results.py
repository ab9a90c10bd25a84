"""Per-run metrics, the default target and the convergence arrays, on hand-made runs."""

import math
from pathlib import Path

import numpy as np
import pytest

from symtuner.app.compare.plots import by_time, by_trial
from symtuner.app.compare.results import (
    RunResult,
    TrialPoint,
    best_so_far,
    default_target,
    summarise,
    trials_to_target,
)


def make_run(strategy, seed, accs, train=1.0, wall=3.0, executor=2.5):
    bests = best_so_far(accs)
    points = tuple(TrialPoint(index=i, number=i, state="complete" if acc is not None else "failed",
                              val_accuracy=acc, test_accuracy=None if acc is None else acc - 0.01,
                              train_seconds=train, executor_seconds=executor, wall_seconds=wall,
                              elapsed=wall * i, best_so_far=best, epochs_run=1, problems=(), params={})
                   for i, (acc, best) in enumerate(zip(accs, bests), start=1))
    return RunResult(strategy, seed, Path("unused"), points)


def test_best_so_far_keeps_the_best_through_failures():
    assert best_so_far([None, 0.5, 0.4, None, 0.7, 0.6]) == [None, 0.5, 0.5, 0.5, 0.7, 0.7]
    assert best_so_far([math.nan, 0.2]) == [None, 0.2]


def test_trials_to_target_counts_until_first_reached():
    run = make_run("gp", 0, [0.5, 0.8, 0.7, 0.9])
    assert trials_to_target(run.trials, 0.8) == 2
    assert trials_to_target(run.trials, 0.85) == 4
    assert trials_to_target(run.trials, 0.95) is None


def test_default_target_is_the_median_of_final_bests():
    runs = [make_run("a", 0, [0.5, 0.9]), make_run("a", 1, [0.6]), make_run("b", 0, [0.7, 0.65]),
            make_run("b", 1, [None])]
    assert default_target(runs) == pytest.approx(0.7)  # median of 0.9, 0.6 and 0.7; no complete trial in the 4th
    assert default_target([make_run("a", 0, [None])]) is None


def test_metrics_of_one_run():
    run = make_run("gp", 0, [0.5, 0.8, 0.8, None], train=1.0, wall=3.0, executor=2.5)
    m = run.metrics(0.75)
    assert m["best_val_accuracy"] == 0.8
    assert m["best_trial"] == 2  # the earliest of the tied best
    assert m["test_accuracy"] == pytest.approx(0.79)
    assert m["trials_to_target"] == 2 and m["seconds_to_target"] == 6.0
    assert m["wall_seconds"] == 12.0 and m["wall_per_trial"] == 3.0
    assert m["train_seconds"] == 4.0 and m["overhead_seconds"] == 8.0 and m["overhead_per_trial"] == 2.0
    assert m["tuner_seconds"] == pytest.approx(2.0)
    assert m["failed"] == 1 and m["trials"] == 4
    assert run.metrics(0.99)["trials_to_target"] is None


def test_summary_mean_std_and_reach_count():
    runs = [make_run("gp", 0, [0.6, 0.8]), make_run("gp", 1, [0.7, 0.9]), make_run("random", 0, [0.5])]
    gp, rnd = summarise(runs, ["gp", "random", "tpe"], 0.85)
    assert gp.strategy == "gp" and gp.seeds == (0, 1)
    assert gp.mean("best_val_accuracy") == pytest.approx(0.85)
    assert gp.std("best_val_accuracy") == pytest.approx(np.std([0.8, 0.9], ddof=1))
    assert gp.count("trials_to_target") == 1 and gp.mean("trials_to_target") == 2
    assert rnd.std("best_val_accuracy") == 0.0 and rnd.mean("trials_to_target") is None


def test_convergence_arrays():
    runs = [make_run("gp", 0, [0.5, None, 0.7]), make_run("gp", 1, [None, 0.6])]
    trials = by_trial(runs, 3)
    np.testing.assert_array_equal(trials[0], [0.5, 0.5, 0.7])
    assert np.isnan(trials[1, 0]) and trials[1, 1] == 0.6 and np.isnan(trials[1, 2])
    times = by_time(runs, np.array([0.0, 3.0, 5.0, 6.0, 9.0]))  # run 0 finishes trials at 3, 6, 9
    np.testing.assert_array_equal(times[0, 1:], [0.5, 0.5, 0.5, 0.7])
    assert np.isnan(times[0, 0])
    # run 1: its first trial failed, its second finished at 6; nothing is known before or after that
    assert np.isnan(times[1, [0, 1, 2, 4]]).all() and times[1, 3] == 0.6


def test_paired_differences_seed_by_seed():
    from symtuner.app.compare.paired import paired_differences

    runs = [make_run("symtuner", s, [a]) for s, a in enumerate([0.9, 0.8, 0.7, 0.95])]
    runs += [make_run("gp", s, [a]) for s, a in enumerate([0.85, 0.8, 0.75])]  # no seed 3
    runs += [make_run("random", s, [0.5]) for s in range(4)]
    pairs = paired_differences(runs, "symtuner", ["symtuner", "gp", "random"], "best_val_accuracy")
    gp, random_ = pairs
    assert (gp.other, gp.seeds) == ("gp", (0, 1, 2))
    assert gp.differences == pytest.approx((0.05, 0.0, -0.05))
    assert (gp.wins, gp.ties, gp.losses) == (1, 1, 1)
    assert gp.mean == pytest.approx(0.0)
    assert gp.p_value == pytest.approx(1.0)  # +0.05 and -0.05: no evidence either way
    assert random_.seeds == (0, 1, 2, 3) and random_.wins == 4
    assert random_.p_value == pytest.approx(2 / 2 ** 4)  # exact test: all 4 differences positive
    assert random_.to_dict()["p_value"] == pytest.approx(0.125)


def test_paired_differences_without_a_nonzero_difference_have_no_p_value():
    from symtuner.app.compare.paired import paired_differences

    runs = [make_run(name, 0, [0.8]) for name in ("symtuner", "gp")]
    (pair,) = paired_differences(runs, "symtuner", ["gp"], "best_val_accuracy")
    assert pair.ties == 1 and pair.p_value is None
    assert paired_differences(runs, "symtuner", ["tpe"], "best_val_accuracy") == []


def test_one_seed_shows_no_spread_and_no_test():
    from symtuner.app.compare.paired import PairedDifference

    one = PairedDifference("symtuner", "gp", "test_accuracy", (0,), (0.02,))
    assert one.p_value is None
    two = PairedDifference("symtuner", "gp", "test_accuracy", (0, 1), (0.02, 0.03))
    assert two.p_value is not None
