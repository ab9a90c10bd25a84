"""Symbolic early stopping on real truncated curves, and the epoch budget it feeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from symtuner.core.records import LearningCurve
from symtuner.core.settings import StudySettings
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.storage import StudyStore
from symtuner.study.seeds import epochs_used
from symtuner.symbolic.engine import SymbolicEngine
from symtuner.symbolic.rules import load_rules
from symtuner.symbolic.stopping import SymbolicStopper, projection
from symtuner.tuner import Tuner

CURVES = Path(__file__).resolve().parents[1] / "data" / "curves"


@pytest.fixture(scope="module")
def engine() -> SymbolicEngine:
    return SymbolicEngine(load_rules())


def real(name: str) -> LearningCurve:
    return LearningCurve.from_history(json.loads((CURVES / f"{name}.json").read_text()))


def first_stop(stopper: SymbolicStopper, curve: LearningCurve) -> tuple[int, str] | None:
    """The epoch (1-based) at which the stopper stops the curve, and why."""
    for epoch in range(1, curve.n_epochs + 1):
        reason = stopper(curve.truncated(epoch))
        if reason:
            return epoch, reason
    return None


def test_a_diverged_real_run_stops_at_the_first_nan(engine):
    stopper = SymbolicStopper(engine, 10, epochs=20, best=None, objective="val_accuracy", maximize=True)
    curve = real("digits_diverged_sgd")
    nan_epoch = next(i for i, v in enumerate(curve.loss) if v != v) + 1
    epoch, reason = first_stop(stopper, curve)
    assert epoch == nan_epoch and "NaN or infinite" in reason


def test_a_dead_real_run_stops_once_it_is_judged(engine):
    stopper = SymbolicStopper(engine, 10, epochs=20, best=None, objective="val_accuracy", maximize=True)
    epoch, reason = first_stop(stopper, real("digits_high_lr_sgd"))
    assert epoch == 3 and "then froze (chance level 2.30): dead units" in reason
    assert "stuck: after the first epoch the accuracy moved" in reason  # the words its diagnosis uses


@pytest.mark.parametrize("name", ["digits_healthy_adam", "digits_healthy_dropout", "digits_low_lr_sgd",
                                  "digits_overfitting_small_data", "digits_fluctuating_sgd"])
def test_real_runs_that_learn_are_not_stopped_without_a_better_trial(engine, name):
    stopper = SymbolicStopper(engine, 10, epochs=50, best=None, objective="val_accuracy", maximize=True)
    assert first_stop(stopper, real(name)) is None


def test_a_run_that_cannot_catch_up_with_the_best_trial_is_stopped(engine):
    curve = real("digits_low_lr_sgd")  # val accuracy creeps from 0.08 to 0.15 over 10 epochs
    stopper = SymbolicStopper(engine, 10, epochs=12, best=0.95, objective="val_accuracy", maximize=True)
    epoch, reason = first_stop(stopper, curve)
    assert 3 <= epoch < curve.n_epochs and "cannot beat the best trial so far (0.95)" in reason
    # a healthy run heading for the best trial's level is left alone
    healthy = SymbolicStopper(engine, 10, epochs=12, best=0.93, objective="val_accuracy", maximize=True)
    assert first_stop(healthy, real("digits_healthy_adam")) is None


def test_a_slow_start_is_not_judged_behind_before_its_curve_shows_where_it_goes(engine):
    """A loss falling freely from chance level: the first epochs' accuracy is no basis for a projection."""
    curve = real("digits_slow_start_sgd")  # val accuracy 0.09, 0.13, 0.17 ... 0.61 after 12 epochs
    best = 0.6
    assert max(curve.val_accuracy) > best  # it does beat the best trial in the end
    # projected from epoch 3, when neither the loss has levelled nor the shape been read, it could not
    assert projection(curve.val_accuracy[:3], curve.n_epochs - 3) < best
    stopper = SymbolicStopper(engine, 10, epochs=curve.n_epochs, best=best, objective="val_accuracy",
                              maximize=True)
    assert first_stop(stopper, curve) is None
    # the same run against a best trial it cannot reach is still stopped, once its shape is read (low_lr)
    far = SymbolicStopper(engine, 10, epochs=curve.n_epochs, best=0.95, objective="val_accuracy", maximize=True)
    epoch, reason = first_stop(far, curve)
    assert epoch == 5 and "cannot beat the best trial so far (0.95)" in reason


def test_projection_is_optimistic():
    # the best of the last three gains (0.2, 0.1, 0.05), for every epoch left
    assert projection([0.2, 0.4, 0.5, 0.55], epochs_left=4) == pytest.approx(0.55 + 0.2 * 4)
    assert projection([0.1, 0.2, 0.4, 0.5, 0.55, 0.57], epochs_left=4) == pytest.approx(0.57 + 0.1 * 4)
    assert projection([0.5, 0.4, 0.3], epochs_left=5) == pytest.approx(0.5)


def test_stopped_trials_record_why_and_the_budget_buys_more_trials(tmp_path, tiny_dataset):
    settings = StudySettings(epochs=8, n_initial=2)
    Tuner(tmp_path / "s", dataset=tiny_dataset, settings=settings,
          executor_factory=SimulatedExecutor).run(budget_epochs=100)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        trials = store.trials()
        events = [e.kind for e in store.events()]
    used = epochs_used(trials)
    assert 100 - 8 < used <= 100  # never past the budget: no 8-epoch trial fitted in what was left
    stopped = [t for t in trials if t.extra.get("stopped")]
    assert stopped and all(t.curve.n_epochs < 8 for t in stopped)
    assert "trial_stopped" in events
    assert len(trials) > 100 // 8  # the saved epochs bought extra trials


def test_no_early_stopping_without_the_symbolic_layer(tmp_path, tiny_dataset):
    settings = StudySettings(epochs=8, n_initial=2, symbolic=False)
    Tuner(tmp_path / "s", dataset=tiny_dataset, settings=settings,
          executor_factory=SimulatedExecutor).run(budget_epochs=40)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        trials = store.trials()
    assert not any(t.extra.get("stopped") for t in trials)
    assert len(trials) == 5


def test_status_explains_why_a_trial_was_stopped(tmp_path, tiny_dataset, capsys):
    from symtuner.app.cli import main

    Tuner(tmp_path / "s", dataset=tiny_dataset, settings=StudySettings(epochs=8, n_initial=2),
          executor_factory=SimulatedExecutor).run(budget_epochs=60)
    assert main(["status", str(tmp_path / "s"), "--explain"]) == 0
    out = capsys.readouterr().out
    assert "stopped early after" in out
