"""Define-by-run studies: parameters declared by the objective, ask/tell, resume, the rules acting."""

from __future__ import annotations

import math

import pytest

from symtuner.core.errors import ConfigError
from symtuner.storage import StudyStore
from symtuner.study.define import create_study, load_study

from .objectives import curve_objective


def test_optimize_declares_the_space_from_the_objective_and_stores_every_trial(tmp_path):
    study = create_study(tmp_path / "s", n_classes=10, epochs=6, n_initial=2, seed=3)
    best = study.optimize(curve_objective, n_trials=5)
    trials = study.trials
    assert [str(t.state) for t in trials] == ["complete"] * 5
    assert best is not None and best.objective == max(t.objective for t in trials)
    assert study.best_params == best.params and study.best_value == best.objective
    for trial in trials:
        assert set(trial.params) >= {"learning_rate", "unit_d", "optimizer"}
        assert 1e-5 <= trial.params["learning_rate"] <= 1e-1 and trial.diagnosis is not None
        # a trial that did not take the sgd branch did not use momentum, and says so
        if trial.params["optimizer"] == "adam" and "momentum" in trial.params:
            assert trial.extra["unused_params"] == ["momentum"]
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        versions = store.tuning_versions()
    assert versions[0].space.dimensions == ()
    declared = [v for v in versions if v.reason.startswith("after trial 1: declared")]
    assert declared and {"learning_rate", "unit_d", "optimizer"} <= set(declared[0].space.names)
    frame = study.trials_dataframe()
    assert list(frame["number"]) == [1, 2, 3, 4, 5] and "params_learning_rate" in frame


def test_a_space_action_moves_the_range_later_suggestions_come_from(tmp_path):
    """Every trial at a rate far too low: the rules raise the rate's lower bound, and later trials get
    rates from the moved range, whatever bounds the objective asks with."""
    def slow(trial):
        lr = trial.suggest_float("learning_rate", 1e-6, 1e-3, log=True)
        for epoch in range(8):
            loss = 2.302 - 0.002 * epoch * lr / 1e-6 ** 0.5 * 1e-3
            trial.report(epoch, loss=loss, accuracy=0.1, val_loss=loss + 0.001, val_accuracy=0.1)
        return 0.1

    study = create_study(tmp_path / "s", n_classes=10, epochs=8, n_initial=2, seed=0, stop_early=False)
    study.optimize(slow, n_trials=6)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        actions = store.actions()
        versions = store.tuning_versions()
        trials = store.trials()
    moved = [a for a in actions if a.applied and a.name == "inc_lr"]
    assert moved, [(a.trial, a.name, a.problem, a.applied, a.detail) for a in actions]
    after = moved[0].trial
    space = next(v.space for v in versions if v.after_trial == after and "inc_lr" in v.reason)
    low = space["learning_rate"].low
    assert low > 1e-6
    later = [t for t in trials if t.number > after and t.tuning_version >= next(
        v.version for v in versions if v.after_trial == after and "inc_lr" in v.reason)]
    assert later and all(t.params["learning_rate"] >= low * (1 - 1e-9) for t in later)


def test_ask_and_tell_with_a_loop_of_ones_own_and_the_optuna_report_form(tmp_path):
    study = create_study(tmp_path / "s", objective="val_loss", direction="minimize", epochs=3, n_initial=2)
    for _ in range(3):
        trial = study.ask()
        x = trial.suggest_float("x", -3.0, 3.0)
        for step in range(3):
            trial.report((x - 1.0) ** 2 + 1.0 / (step + 1), step)  # Optuna's report(value, step)
        study.tell(trial)  # no value: the last reported objective
    study.close()
    trials = load_study(tmp_path / "s").trials
    assert [str(t.state) for t in trials] == ["complete"] * 3
    for trial in trials:
        assert trial.objective == pytest.approx((trial.params["x"] - 1.0) ** 2 + 1.0 / 3)
        assert trial.epochs_run == 3


def test_enqueued_params_run_first_and_errors_are_stored(tmp_path):
    study = create_study(tmp_path / "s", epochs=2, n_initial=2)
    study.enqueue_trial({"learning_rate": 0.004, "unit_d": 40, "optimizer": "adam"})
    study.optimize(curve_objective, n_trials=1)
    assert study.trials[0].params["learning_rate"] == 0.004 and study.trials[0].extra["enqueued"]

    def broken(trial):
        trial.suggest_float("learning_rate", 1e-5, 1e-1, log=True)
        raise RuntimeError("out of memory")

    study.optimize(broken, n_trials=2)
    failed = study.trials[1]
    assert str(failed.state) == "failed" and "RuntimeError: out of memory" in failed.error


def test_a_rerun_of_the_script_resumes_and_other_settings_are_refused(tmp_path):
    create_study(tmp_path / "s", epochs=6, n_initial=2, seed=1).optimize(curve_objective, n_trials=2)
    again = create_study(tmp_path / "s", epochs=6, n_initial=2, seed=1)
    again.optimize(curve_objective, n_trials=3)
    assert len(again.trials) == 3
    with pytest.raises(ConfigError, match="epochs 6 -> 7"):
        create_study(tmp_path / "s", epochs=7, n_initial=2, seed=1)


def test_an_architecture_change_the_objective_never_reads_is_ignored_and_not_applied_again(tmp_path):
    """Overfitting curves: the rules add L2 / batch norm; this objective never reads trial.architecture."""
    def overfits(trial):
        trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True)
        for epoch in range(8):
            trial.report(epoch, loss=1.0 / (epoch + 1), accuracy=min(0.99, 0.5 + 0.07 * epoch),
                         val_loss=0.9 + 0.1 * epoch, val_accuracy=0.55)
        return 0.55

    study = create_study(tmp_path / "s", n_classes=10, epochs=8, n_initial=2, stop_early=False)
    study.optimize(overfits, n_trials=5)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        verdicts = store.verdicts()
    ignored = [v for v in verdicts.values() if v.verdict == "ignored"]
    assert ignored and "the objective never read trial.architecture" in ignored[0].reason


def test_suggestions_are_checked():
    from symtuner.core.architecture import Architecture
    from symtuner.core.contract import TrialSpec
    from symtuner.execution.objective import ObjectiveTrial

    trial = ObjectiveTrial(TrialSpec(1, {}, Architecture(), 0, None, None))
    with pytest.raises(ConfigError, match="bound"):
        trial.suggest_float("lr", 1.0, math.inf)
    with pytest.raises(ConfigError, match="choices must be a list"):
        trial.suggest_categorical("opt", "adam")
    with pytest.raises(ConfigError, match="report each epoch once"):
        trial.report(3, loss=1.0)
    assert trial.suggest_int("units", 8, 64, step=8) % 8 == 0


def test_status_report_doctor_and_the_dashboard_read_a_define_by_run_study(tmp_path, monkeypatch, capsys):
    from symtuner.app.cli import main
    from symtuner.app.dashboard.app import create_app

    monkeypatch.chdir(tmp_path)
    create_study("s", n_classes=10, epochs=6, n_initial=2).optimize(curve_objective, n_trials=3)
    capsys.readouterr()
    assert main(["status", "s"]) == 0
    status = capsys.readouterr().out
    assert "dataset define-by-run" in status and "learning_rate" in status and status.count("complete") >= 3
    assert main(["report", "s"]) == 0 and (tmp_path / "s" / "report.html").is_file()
    assert main(["doctor", "s"]) == 0 and "healthy" in capsys.readouterr().out
    assert create_app(tmp_path / "s") is not None


def test_optimize_after_ask_and_tell_and_a_trial_left_untold(tmp_path):
    study = create_study(tmp_path / "s", epochs=6, n_initial=2)
    trial = study.ask()
    with pytest.raises(ConfigError, match=r"trials \[1\] were asked for and not told"):
        study.optimize(curve_objective, n_trials=2)
    study.tell(trial, error="the user's own loop failed")
    study.optimize(curve_objective, n_trials=3)
    assert [str(t.state) for t in study.trials] == ["failed", "complete", "complete"]
    assert "the user's own loop failed" in study.trials[0].error
