"""``doctor --repair`` loses nothing it can keep: earlier backups stay, a lost trial keeps its number and
takes its epochs, actions, weights and events with it, a newer symtuner's study is left alone."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from symtuner.app.cli import main
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.storage import StudyStore
from symtuner.storage.doctor import examine, repair
from symtuner.tuner import Tuner


@pytest.fixture
def study(tmp_path: Path, tiny_dataset) -> Path:
    directory = tmp_path / "study"
    Tuner(directory, dataset=tiny_dataset, executor_factory=SimulatedExecutor, quiet=True).run(3)
    return directory


def _sql(db: Path, statement: str) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(statement)
    conn.close()


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_a_second_repair_keeps_the_first_backup(study, capsys):
    db = study / "study.db"
    _sql(db, "UPDATE trials SET extra='{' WHERE number=2")
    first = db.read_bytes()
    assert main(["doctor", str(study), "--repair"]) == 0
    _sql(db, "UPDATE trials SET params='[' WHERE number=1")
    second = db.read_bytes()
    assert main(["doctor", str(study), "--repair"]) == 0
    assert (study / "study.db.damaged").read_bytes() == first
    assert (study / "study.db.damaged.2").read_bytes() == second
    assert "study.db.damaged.2" in capsys.readouterr().out
    assert examine(study).healthy


def test_a_lost_trial_keeps_its_number_and_takes_its_rows_with_it(study, tiny_dataset):
    db = study / "study.db"
    (epochs,), = _rows(db, "SELECT count(*) FROM epochs WHERE trial=3")
    assert epochs >= 1
    _sql(db, "UPDATE trials SET params='{broken' WHERE number=3")
    repair(study, examine(study))
    assert _rows(db, "SELECT number, state, params, extra FROM trials WHERE number=3") == [
        (3, "failed", "{}", '{"lost": true}')]
    for table in ("epochs", "actions", "rule_weights", "events"):
        assert _rows(db, f"SELECT count(*) FROM {table} WHERE trial=3") == [(0,)], table
    assert any("trial(s) [3]" in m for (m,) in _rows(db, "SELECT message FROM events WHERE kind='repaired'"))
    # the next trial is a new number with a curve of its own, not one that starts with trial 3's epochs;
    # the lost trial does not count towards the target
    Tuner(study, dataset=tiny_dataset, executor_factory=SimulatedExecutor, quiet=True).run(3)
    with StudyStore.open(study, readonly=True) as store:
        trials = {t.number: t for t in store.trials()}
    assert sorted(trials) == [1, 2, 3, 4]
    assert trials[4].is_complete and trials[4].curve is not None
    assert trials[4].curve.n_epochs == trials[4].epochs_run
    assert trials[3].state == "failed" and trials[3].curve is None


def test_a_study_of_a_newer_schema_is_not_repaired(study, capfd):
    db = study / "study.db"
    _sql(db, "UPDATE meta SET value='99' WHERE key='schema_version'")
    _sql(db, "CREATE TABLE future_things (x)")
    before = {p.name: p.read_bytes() for p in study.iterdir() if p.is_file()}
    assert main(["doctor", str(study)]) == 1
    out = capfd.readouterr().out
    assert "newer symtuner" in out and "--repair" not in out.splitlines()[-1] or "newer" in out
    assert main(["doctor", str(study), "--repair"]) == 2
    err = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "99" in err[0] and "newer" in err[0]
    assert {p.name: p.read_bytes() for p in study.iterdir() if p.is_file()} == before
    assert _rows(db, "SELECT name FROM sqlite_master WHERE name='future_things'") == [("future_things",)]


def test_doctor_export_never_overwrites_by_surprise(study, tmp_path, capfd):
    out = tmp_path / "trials.json"
    out.write_text("mine\n")
    assert main(["doctor", str(study), "--export", str(out)]) == 2
    assert out.read_text() == "mine\n" and str(out) in capfd.readouterr().err
    assert main(["doctor", str(study), "--export", str(out), "--overwrite"]) == 0
    assert [t["number"] for t in json.loads(out.read_text())["trials"]] == [1, 2, 3]
