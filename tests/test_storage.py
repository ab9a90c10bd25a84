import math
import sqlite3

import pytest

from symtuner.core.architecture import Architecture
from symtuner.core.errors import StudyError
from symtuner.core.records import ChosenAction, Diagnosis, LearningCurve, TrialState
from symtuner.core.space import Real, default_space
from symtuner.storage import ActionRecord, StudyStore

CURVE = LearningCurve((1.0, 0.5), (0.5, 0.8), (1.1, float("nan")), (0.4, 0.7))


def _new(tmp_path):
    store = StudyStore.create(tmp_path / "study", {"dataset": "digits"})
    store.add_tuning_version(default_space(), Architecture(), None, "initial")
    return store


def test_write_reopen_read(tmp_path):
    store = _new(tmp_path)
    number = store.start_trial({"unit_c1": 20}, 1)
    store.complete_trial(number, objective=0.7, val_accuracy=0.7, val_loss=1.1, test_loss=1.2,
                         test_accuracy=0.69, train_seconds=3.0, curve=CURVE, epochs_run=2)
    diagnosis = Diagnosis({"gap": 0.3}, ("overfitting",), (ChosenAction("reg_l2", "overfitting", 0.99),),
                          "gap -> overfitting")
    store.set_diagnosis(number, diagnosis)
    store.add_actions(number, [ActionRecord(number, "reg_l2", "overfitting", 0.99, True, "l2 on")])
    store.save_weights(number, {("reg_l2", "overfitting"): 0.9})
    space2 = default_space().with_dimension(Real("l2", 1e-5, 1e-2, "log-uniform"), 1e-5)
    store.add_tuning_version(space2, Architecture(l2=True), number, "after trial 1: reg_l2")
    store.close()

    again = StudyStore.open(tmp_path / "study", readonly=True)
    assert again.settings() == {"dataset": "digits"}
    trial = again.trial(number)
    assert trial.state == TrialState.COMPLETE and trial.objective == 0.7
    assert trial.curve.loss == (1.0, 0.5)
    assert math.isnan(trial.curve.val_loss[1])  # NaN survives as NULL -> NaN
    assert trial.diagnosis == diagnosis
    assert again.actions()[0].detail == "l2 on"
    assert again.weights_history() == {number: {("reg_l2", "overfitting"): 0.9}}
    latest = again.latest_tuning()
    assert latest.version == 2 and latest.architecture.l2 and "l2" in latest.space
    with pytest.raises(StudyError, match="read-only"):
        again.log_event("x", "y")
    again.close()


def test_wal_mode_and_schema_version(tmp_path):
    _new(tmp_path).close()
    conn = sqlite3.connect(tmp_path / "study" / "study.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "3"


def test_a_schema_1_study_reads_and_migrates(tmp_path):
    _new(tmp_path).close()
    db = tmp_path / "study" / "study.db"
    conn = sqlite3.connect(db)
    conn.execute("DROP TABLE verdicts")
    conn.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    with StudyStore.open(tmp_path / "study", readonly=True) as store:
        assert store.verdicts() == {}  # read-only: nothing changed, no verdicts yet
    assert sqlite3.connect(db).execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "1"
    with StudyStore.open(tmp_path / "study") as store:
        assert store.verdicts() == {}
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "3"
    assert conn.execute("SELECT count(*) FROM verdicts").fetchone()[0] == 0


def test_a_schema_2_study_keeps_its_epochs_and_gains_the_other_metrics(tmp_path):
    store = _new(tmp_path)
    number = store.start_trial({"x": 1}, 1)
    store.record_epoch(number, 0, {"loss": 1.0, "accuracy": 0.5, "val_loss": 1.2, "val_accuracy": 0.4})
    store.close()
    db = tmp_path / "study" / "study.db"
    conn = sqlite3.connect(db)  # the schema-2 epochs table: no metrics column
    conn.executescript("CREATE TABLE old AS SELECT trial, epoch, loss, accuracy, val_loss, val_accuracy, "
                       "recorded_at FROM epochs; DROP TABLE epochs; ALTER TABLE old RENAME TO epochs; "
                       "UPDATE meta SET value='2' WHERE key='schema_version';")
    conn.close()
    with StudyStore.open(tmp_path / "study", readonly=True) as old:
        assert old.trial(number).curve.val_accuracy == (0.4,) and old.trial(number).curve.metrics == {}
    with StudyStore.open(tmp_path / "study") as migrated:
        migrated.record_epoch(number, 1, {"loss": 0.8, "accuracy": 0.6, "val_loss": 1.0, "val_accuracy": 0.5,
                                          "val_auc": 0.7})
        curve = migrated.trial(number).curve
    assert curve.val_accuracy == (0.4, 0.5) and curve.loss == (1.0, 0.8)
    assert curve.metrics["val_auc"][1] == 0.7 and math.isnan(curve.metrics["val_auc"][0])


def test_other_metrics_are_stored_per_epoch(tmp_path):
    with _new(tmp_path) as store:
        number = store.start_trial({"x": 1}, 1)
        for epoch, auc in enumerate((0.6, 0.8)):
            store.record_epoch(number, epoch, {"loss": 1.0 - epoch / 10, "val_loss": 1.1, "val_auc": auc,
                                               "val_mae": float("nan")})
        curve = store.trial(number).curve
    assert curve.series("val_auc") == (0.6, 0.8) and curve.accuracy == () and curve.val_accuracy == ()
    assert all(math.isnan(v) for v in curve.series("val_mae")) and curve.series("val_r2") == ()


def test_running_trials_become_interrupted(tmp_path):
    store = _new(tmp_path)
    number = store.start_trial({"unit_c1": 20}, 1)
    store.record_epoch(number, 0, {"loss": 1.0})
    store.close()
    reopened = StudyStore.open(tmp_path / "study")
    assert reopened.mark_running_interrupted() == [number]
    assert reopened.trial(number).state == TrialState.INTERRUPTED
    assert reopened.mark_running_interrupted() == []


def test_transaction_is_all_or_nothing(tmp_path):
    store = _new(tmp_path)
    number = store.start_trial({}, 1)
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.fail_trial(number, "boom")
            store.log_event("x", "y")
            raise RuntimeError("crash mid-write")
    assert store.trial(number).state == TrialState.RUNNING
    assert store.events() == []


def test_not_a_study(tmp_path):
    with pytest.raises(StudyError, match="is not a study directory"):
        StudyStore.open(tmp_path)
    (tmp_path / "study.db").write_text("hello, not sqlite" * 100)
    with pytest.raises(StudyError, match="not a symtuner study database"):
        StudyStore.open(tmp_path)
    _new(tmp_path).close()
    with pytest.raises(StudyError, match="already holds a study"):
        StudyStore.create(tmp_path / "study", {})


def test_a_creation_that_fails_or_is_killed_leaves_no_study(tmp_path):
    def broken(store):
        store.add_tuning_version(default_space(), Architecture(), None, "initial")
        raise RuntimeError("killed here")

    with pytest.raises(RuntimeError):
        StudyStore.create(tmp_path / "study", {"dataset": "digits"}, broken)
    assert not StudyStore.exists(tmp_path / "study")
    assert [p.name for p in (tmp_path / "study").iterdir()] == []
    # a half-written database from a killed process is replaced by the next creation
    (tmp_path / "study" / "study.db.partial").write_bytes(b"half a database")
    store = StudyStore.create(tmp_path / "study", {"dataset": "digits"},
                              lambda s: s.add_tuning_version(default_space(), Architecture(), None, "initial"))
    assert store.latest_tuning().reason == "initial" and store.settings() == {"dataset": "digits"}
    store.close()
    assert sorted(p.name for p in (tmp_path / "study").iterdir() if not p.name.startswith("study.db-")) == [
        "study.db"]
