"""Readers (status, report, doctor, export, the dashboard's reads) write nothing in a study directory, and
read the study as its last writer left it: a killed writer's write-ahead log is read, never ignored."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from symtuner.app.cli import main
from symtuner.app.dashboard.data import load_snapshot
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.storage import StudyStore
from symtuner.storage.doctor import examine
from symtuner.tuner import Tuner

#: A writer killed after committing to the write-ahead log, before any checkpoint: the change is in the
#: ``-wal`` file only, and the ``-shm`` index it made stays.
KILLED_WRITER = '''
import os, sys
from symtuner.storage import StudyStore
store = StudyStore.open(sys.argv[1])
store._conn.execute("PRAGMA wal_autocheckpoint=0")
with store.transaction():
    store.update_extra(3, {"written": "after the last checkpoint"})
    store.log_event("note", "written by a writer that was then killed", 3)
os._exit(0)
'''


@pytest.fixture
def study(tmp_path: Path, tiny_dataset) -> Path:
    directory = tmp_path / "study"
    Tuner(directory, dataset=tiny_dataset, executor_factory=SimulatedExecutor, quiet=True).run(3)
    return directory


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def _read_everything(study: Path, out: Path) -> list[object]:
    """What every reader reports of the study; asserts that each one succeeds."""
    seen: list[object] = []
    assert main(["status", str(study)]) == 0
    assert main(["report", str(study), "-o", str(out / "r.html")]) == 0
    assert main(["doctor", str(study), "--export", str(out / "trials.json")]) == 0
    seen.append(json.loads((out / "trials.json").read_text())["trials"])
    (out / "trials.json").unlink()
    snap = load_snapshot(study, live=True)
    seen.append([t.extra.get("written") for t in snap.trials])
    with StudyStore.open(study, readonly=True) as store:
        seen.append(store.trial(3).extra.get("written"))
        seen.append(store.events()[-1].message)
    seen.append(examine(study).healthy)
    return seen


def test_readers_of_a_finished_study_leave_no_wal_or_shm(study, tmp_path):
    before = _files(study)
    assert "study.db-wal" not in before and "study.db-shm" not in before
    _read_everything(study, tmp_path)
    assert _files(study) == before


def _kill_a_writer(study: Path) -> None:
    subprocess.run([sys.executable, "-c", KILLED_WRITER, str(study)], check=True, timeout=120)
    assert (study / "study.db-wal").stat().st_size > 0 and (study / "study.db-shm").exists()


def test_a_killed_writers_log_is_read_and_nothing_is_created(study, tmp_path):
    _kill_a_writer(study)
    before = {name for name in _files(study)}
    seen = _read_everything(study, tmp_path)
    assert seen[1][2] == seen[2] == "after the last checkpoint"
    assert seen[3] == "written by a writer that was then killed"
    assert {name for name in _files(study)} == before


def test_a_copy_of_a_killed_study_without_its_shm_shows_the_latest_state(study, tmp_path):
    """A killed study copied without ``study.db-shm`` (to a read-only place, say): its log is read
    through a private copy; nothing is created next to it and nothing older is shown."""
    _kill_a_writer(study)
    (study / "study.db-shm").unlink()
    before = _files(study)
    copies = set(Path(tempfile.gettempdir()).glob("symtuner-read-*"))
    seen = _read_everything(study, tmp_path)
    assert seen[1][2] == seen[2] == "after the last checkpoint"
    assert seen[4] is True
    assert _files(study) == before
    assert set(Path(tempfile.gettempdir()).glob("symtuner-read-*")) == copies  # the private copies are gone
