"""Actions are hypotheses: a change the next trials do not support is reverted, one they support is
kept, the same after a resume; reverted rules lose weight and are not re-applied.

The studies here hold out 50 validation samples (``validated``): a 0.70 -> 0.50 or 0.70 -> 0.90 move of
the validation accuracy is then about two standard errors of a difference, a clear loss or gain. On the
10 validation samples of ``tiny_dataset`` the same move sits at the edge of the noise
(:mod:`symtuner.tuning.noise`), which is what the verdicts are for, but not what these tests test."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from symtuner.core.architecture import Architecture
from symtuner.core.records import LearningCurve, Trial, TrialState
from symtuner.core.settings import StudySettings
from symtuner.core.space import default_space
from symtuner.data import validate_dataset
from symtuner.storage import ActionRecord, StudyStore, TuningVersion, Verdict
from symtuner.tuner import Tuner
from symtuner.tuning.hypotheses import KEPT, REVERTED, UNDECIDED, WITHDRAWN, judge, lineage, revert_evidence


@pytest.fixture
def validated():
    """250 training images of 3 classes (50 held out for validation); never trained on here."""
    rng = np.random.default_rng(0)
    x = rng.random((280, 28, 28, 1), dtype=np.float32)
    y = np.arange(280) % 3
    return validate_dataset(x[:250], x[250:], y[:250], y[250:], 3, name="validated")


def overfit_curve(val_acc: float) -> LearningCurve:
    """Five epochs of a network that fits its training data and validates at ``val_acc``."""
    return LearningCurve((1.2, 0.5, 0.2, 0.08, 0.04), (0.7, 0.9, 0.97, 0.99, 1.0),
                         (1.1, 0.9, 0.95, 1.05, 1.15), (val_acc - 0.1, val_acc - 0.03, val_acc, val_acc, val_acc))


class ScriptedExecutor:
    """Every trial overfits; L2 changes its validation accuracy to ``with_l2``."""

    with_l2 = 0.5

    def __init__(self, dataset, network_fn, config) -> None:
        pass

    def run(self, spec, on_epoch=None):
        from symtuner.core.contract import TrainResult

        val = type(self).with_l2 if spec.architecture.l2 else 0.7
        val -= 0.001 * (spec.number % 3)  # no ties
        curve = overfit_curve(val)
        return TrainResult(curve=curve, val_loss=1.1, val_accuracy=val, test_loss=1.1, test_accuracy=val,
                           train_seconds=0.01, epochs_run=5, model_path=spec.model_path, log_dir=spec.log_dir,
                           params_count=0)


def hurting(with_l2: float):
    return type("Scripted", (ScriptedExecutor,), {"with_l2": with_l2})


def run(path, dataset, trials: int, with_l2: float) -> None:
    Tuner(path, dataset=dataset, settings=StudySettings(epochs=5, n_initial=3),
          executor_factory=hurting(with_l2)).run(trials)


def test_a_change_that_does_not_help_is_reverted(tmp_path, validated):
    run(tmp_path / "s", validated, 8, with_l2=0.5)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        trials = store.trials()
        versions = {v.version: v for v in store.tuning_versions()}
        verdicts = store.verdicts()
        actions = store.actions()
    l2_version = next(v for v in versions.values() if v.architecture.l2)
    assert l2_version.after_trial == 1
    verdict = verdicts[l2_version.version]
    assert verdict.verdict == REVERTED and verdict.after_trial == 4  # window of trials 2, 3, 4
    assert "none of trials #2, #3, #4 beat #1 (0.6990)" in verdict.reason
    restored = versions[verdict.restored_by]
    assert restored.architecture == versions[verdict.restored_version].architecture == Architecture()
    assert "revert to version 1" in restored.reason
    # later changes made on top of it were withdrawn with it
    assert any(v.verdict == WITHDRAWN for v in verdicts.values())
    # the trials after the revert ran without L2 again, and reg_l2 was not re-applied for overfitting
    assert all(not versions[t.tuning_version].architecture.l2 for t in trials if t.number > 4)
    assert not any(a.name == "reg_l2" and a.applied and a.trial >= 4 for a in actions)
    blocked = [s for t in trials if t.number >= 4 and t.diagnosis for s in t.diagnosis.skipped
               if s.startswith("reg_l2 (reverted after trial 4")]
    assert blocked


def test_a_change_that_helps_is_kept(tmp_path, validated):
    run(tmp_path / "s", validated, 6, with_l2=0.9)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        versions = store.tuning_versions()
        verdicts = store.verdicts()
        trials = store.trials()
    l2_version = next(v for v in versions if v.architecture.l2)
    assert verdicts[l2_version.version].verdict == KEPT
    assert verdicts[l2_version.version].after_trial == 2
    assert "trial #2" in verdicts[l2_version.version].reason
    assert all(t.number == 1 or dict(t.params).get("l2") is not None for t in trials)


@pytest.mark.parametrize("with_l2", [0.5, 0.7, 0.9])  # reverted, undecided, kept
def test_verdicts_are_the_same_after_a_resume(tmp_path, validated, with_l2):
    run(tmp_path / "straight", validated, 7, with_l2)
    run(tmp_path / "resumed", validated, 3, with_l2)
    run(tmp_path / "resumed", validated, 7, with_l2)

    def snapshot(path):
        conn = sqlite3.connect(path / "study.db")
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
                for table in ("verdicts", "actions", "rule_weights")} | {
            "trials": conn.execute("SELECT number, params, tuning_version, objective FROM trials").fetchall(),
            "versions": conn.execute("SELECT version, space, architecture, after_trial, reason "
                                     "FROM tuning_versions").fetchall()}

    assert snapshot(tmp_path / "straight") == snapshot(tmp_path / "resumed")


# -- the pure judgement ------------------------------------------------------------------------------------
def version(number: int, after: int | None, arch: Architecture | None = None) -> TuningVersion:
    return TuningVersion(number, default_space(), arch or Architecture(), after, "", 0.0)


def done(number: int, objective: float) -> Trial:
    """A complete trial, started under the newest version by then (at most one version per trial)."""
    return Trial(number, TrialState.COMPLETE, {}, number, objective=objective)


def test_judge_waits_for_the_window_then_reverts():
    versions = [version(1, None), version(2, 1, Architecture(l2=True))]
    trials = [done(1, 0.8), done(2, 0.7), done(3, 0.75)]
    assert judge(versions, {}, trials, True, 3, after_trial=3).verdicts == ()
    judgement = judge(versions, {}, trials + [done(4, 0.79)], True, 3, after_trial=4)
    (verdict,) = judgement.verdicts
    assert verdict.verdict == REVERTED and verdict.restored_version == 1
    assert judgement.restore is versions[0]


def test_judge_keeps_as_soon_as_a_trial_beats_the_best_before():
    versions = [version(1, None), version(2, 1)]
    (verdict,) = judge(versions, {}, [done(1, 0.8), done(2, 0.81)], True, 3, after_trial=2).verdicts
    assert verdict.verdict == KEPT
    # minimising: lower is better
    (verdict,) = judge(versions, {}, [done(1, 0.8), done(2, 0.5)], False, 3, after_trial=2).verdicts
    assert verdict.verdict == KEPT


def test_judge_oldest_change_first_and_withdraws_what_was_built_on_it():
    versions = [version(1, None), version(2, 1), version(3, 2)]
    trials = [done(1, 0.8), done(2, 0.7), done(3, 0.7), done(4, 0.7)]
    judgement = judge(versions, {}, trials, True, 3, after_trial=4)
    assert [(v.version, v.verdict) for v in judgement.verdicts] == [(2, REVERTED), (3, WITHDRAWN)]
    assert judgement.restore.version == 1


def test_a_revert_version_restores_the_older_lineage():
    versions = [version(1, None), version(2, 1), version(3, 4), version(4, 5)]
    verdicts = {2: Verdict(2, REVERTED, 4, "", 1, 3)}
    assert [v.version for v in lineage(versions, verdicts)] == [1, 4]


def test_reverted_changes_are_evidence_against_their_rules():
    versions = [version(1, None), version(2, 1)]
    verdicts = {2: Verdict(2, REVERTED, 4, "", 1, 3)}
    actions = [ActionRecord(1, "reg_l2", "overfitting", 0.99, True, ""),
               ActionRecord(1, "batch_norm", "overfitting", 0.99, False, "not applicable")]
    assert revert_evidence(verdicts, versions, actions) == [("reg_l2", "overfitting", False)]


def test_judge_never_reverts_with_a_window_of_zero():
    versions = [version(1, None), version(2, 1)]
    assert judge(versions, {}, [done(1, 0.8), done(2, 0.1)], True, 0, after_trial=2).verdicts == ()


def test_status_dashboard_and_report_show_the_state_of_each_change(tmp_path, validated, capsys):
    from symtuner.app.cli import main
    from symtuner.app.dashboard.data import load_snapshot
    from symtuner.app.dashboard.tables import actions_table
    from symtuner.tuning.hypotheses import change_states

    run(tmp_path / "s", validated, 6, with_l2=0.5)
    assert main(["status", str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert "reg_l2 [reverted]" in out
    assert "changes:" in out and ": reverted after trial 4: none of trials #2, #3, #4" in out
    snap = load_snapshot(tmp_path / "s")
    table = actions_table(snap.actions, change_states(snap.versions, snap.verdicts))
    states = {(row[0], row[2]): row[4] for row in table.rows}
    assert states[("1", "reg_l2")].startswith("reverted after trial 4")
    out_file = tmp_path / "r.html"
    assert main(["report", str(tmp_path / "s"), "-o", str(out_file)]) == 0
    assert "reverted after trial 4" in out_file.read_text()


def test_a_learning_rate_move_that_was_too_small_is_kept_not_reverted():
    from symtuner.core.records import Diagnosis

    def slow(number: int) -> Trial:
        diagnosis = Diagnosis({}, ("underfitting", "low_lr"), (), "", causes={"underfitting": "low_lr"})
        return Trial(number, TrialState.COMPLETE, {}, number, objective=0.1, diagnosis=diagnosis)

    versions = [version(1, None), version(2, 1)]
    actions = [ActionRecord(1, "inc_lr", "low_lr", 0.99, True, "learning_rate low 1e-06 -> 3e-06")]
    trials = [slow(1), slow(2), slow(3), slow(4)]
    (verdict,) = judge(versions, {}, trials, True, 3, after_trial=4, actions=actions).verdicts
    assert verdict.verdict == KEPT and "still show low_lr: the move was too small, not wrong" in verdict.reason
    # an architecture change is judged on results alone: the same 0.1 before and after it is no loss and
    # no gain, so it stays without evidence either way (it was reverted when any shortfall counted)
    l2 = [ActionRecord(1, "reg_l2", "overfitting", 0.99, True, "")]
    (verdict,) = judge(versions, {}, trials, True, 3, after_trial=4, actions=l2).verdicts
    assert verdict.verdict == UNDECIDED
    worse = [slow(1), slow(2), slow(3), Trial(4, TrialState.COMPLETE, {}, 4, objective=0.05)]
    (verdict,) = judge(versions, {}, [t if t.number != 1 else done(1, 0.3) for t in worse], True, 3,
                       after_trial=4, actions=l2).verdicts
    assert verdict.verdict == REVERTED


class IgnoringL2Executor(ScriptedExecutor):
    """A user network that never adds a kernel regulariser: the check of the built model says so."""

    with_l2 = 0.9  # would look like a gain: an ignored change must be undone whatever the result

    def run(self, spec, on_epoch=None):
        from dataclasses import replace

        result = super().run(spec, on_epoch)
        if not spec.architecture.l2:
            return result
        message = "L2 regularisation is on but no layer has a kernel regulariser"
        return replace(result, ignored_changes=(message,), ignored_features={"l2": message})


def test_a_change_the_network_ignores_is_undone_its_hp_dropped_and_not_applied_again(tmp_path, tiny_dataset):
    from symtuner.tuning.hypotheses import IGNORED

    Tuner(tmp_path / "s", dataset=tiny_dataset, settings=StudySettings(epochs=5, n_initial=3),
          executor_factory=IgnoringL2Executor).run(9)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        trials, versions, verdicts = store.trials(), store.tuning_versions(), store.verdicts()
        actions = store.actions()
    l2_version = next(v for v in versions if v.architecture.l2)
    verdict = verdicts[l2_version.version]
    assert verdict.verdict == IGNORED and "the network ignores it" in verdict.reason
    assert "no layer has a kernel regulariser" in verdict.reason
    under_l2 = [t for t in trials if t.tuning_version == l2_version.version]
    assert len(under_l2) == 1 and under_l2[0].extra["ignored_changes"]  # one trial showed it, then undone
    latest = versions[-1]
    assert not latest.architecture.l2 and "l2" not in latest.space  # the ignored HP is no longer tuned
    assert not [a for a in actions if a.name == "reg_l2" and a.trial >= verdict.after_trial]
    later = [t for t in trials if t.number >= verdict.after_trial]  # still overfitting, reg_l2 passed over
    assert len(later) >= 5 and all("overfitting" in t.diagnosis.problems for t in later)
    assert all(any(s.startswith("reg_l2 (not applicable: reg_l2: the network ignored it after trial")
                   for s in t.diagnosis.skipped) for t in later)
    # no evidence against reg_l2 in the rule learning: the rule was never tested
    assert ("reg_l2", "overfitting") not in revert_evidence(verdicts, versions, actions)


def test_status_and_console_show_the_ignored_change_and_the_skipped_action(tmp_path, tiny_dataset, capsys):
    import io

    from symtuner.app.cli import main
    from symtuner.app.display import PlainProgress

    stream = io.StringIO()
    Tuner(tmp_path / "s", dataset=tiny_dataset, settings=StudySettings(epochs=5, n_initial=3),
          executor_factory=IgnoringL2Executor, progress=PlainProgress("val_accuracy", stream)).run(4)
    shown = stream.getvalue()
    assert "ignored by the network (undone, not applied again): L2 regularisation is on but no layer" in shown
    assert "skipped: reg_l2 (not applicable: reg_l2: the network ignored it after trial 2)" in shown
    assert main(["status", str(tmp_path / "s"), "--explain"]) == 0
    status = capsys.readouterr().out
    assert "#2: ignored by the network (undone): L2 regularisation is on" in status
    assert "reg_l2 [ignored]" in status  # the trial table
    assert "(after trial 1: reg_l2): ignored after trial 2: the network ignores it" in status  # the changes
