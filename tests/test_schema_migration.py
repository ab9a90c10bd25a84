"""A study from schema version 1 opens read-only unchanged, and resumes after migrating."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from symtuner.app.cli import main
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.storage import SCHEMA_VERSION, StudyStore
from symtuner.tuner import Tuner

FIXTURE = Path(__file__).parent / "data" / "schema1"


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "old")
    return tmp_path / "old"


def _schema(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
    finally:
        conn.close()


def test_the_fixture_is_schema_1():
    assert _schema(FIXTURE / "study" / "study.db") == "1"
    assert SCHEMA_VERSION > 1


def test_an_old_study_is_read_without_being_changed(tmp_path, monkeypatch, capsys):
    root = _copy(tmp_path)
    monkeypatch.chdir(root)
    before = (root / "study" / "study.db").read_bytes()
    assert main(["status", "study"]) == 0
    out = capsys.readouterr().out
    assert "4  complete" in out or "complete" in out
    with StudyStore.open(root / "study", readonly=True) as store:
        assert len(store.trials()) == 4
        assert store.verdicts() == {}
    assert (root / "study" / "study.db").read_bytes() == before
    assert sorted(p.name for p in (root / "study").iterdir()) == ["study.db"]


def test_an_old_study_resumes_after_migration(tmp_path, monkeypatch):
    root = _copy(tmp_path)
    monkeypatch.chdir(root)
    with StudyStore.open(root / "study", readonly=True) as store:
        old = {t.number: (t.params, t.objective, t.curve) for t in store.trials()}
    Tuner(root / "study", dataset="data.py:tiny", executor_factory=SimulatedExecutor).run(6)
    assert _schema(root / "study" / "study.db") == str(SCHEMA_VERSION)
    with StudyStore.open(root / "study", readonly=True) as store:
        trials = store.trials()
        assert {t.number: (t.params, t.objective, t.curve) for t in trials if t.number in old} == old
        assert sum(t.is_complete for t in trials) == 6
        store.verdicts()  # the table the migration added can be read
