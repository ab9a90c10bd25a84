"""The store is not trusted, read-only opens write nothing, signals stop a run cleanly."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symtuner.app.cli import main
from symtuner.app.dashboard.data import inside_study, load_snapshot
from symtuner.core.errors import DamagedStoreError
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.storage import StudyStore
from symtuner.storage.doctor import examine, repair
from symtuner.tuner import Tuner

DATA_PY = '''
import numpy as np

def tiny():
    rng = np.random.default_rng(0)
    x = rng.random((48, 28, 28, 1), dtype=np.float32)
    y = np.arange(48) % 3
    return x[:40], x[40:], y[:40], y[40:], 3
'''


@pytest.fixture
def study(tmp_path: Path) -> Path:
    (tmp_path / "data.py").write_text(DATA_PY)
    directory = tmp_path / "study"
    Tuner(directory, dataset=f"{tmp_path / 'data.py'}:tiny", executor_factory=SimulatedExecutor).run(3)
    return directory


def test_a_model_path_outside_the_study_is_never_served(study, tmp_path):
    secret = tmp_path / "secret.keras"
    secret.write_text("not yours")
    (study / "models").mkdir(exist_ok=True)
    (study / "models" / "link.keras").symlink_to(secret)
    conn = sqlite3.connect(study / "study.db")
    conn.execute("UPDATE trials SET model_path=? WHERE number=1", (str(secret),))
    conn.execute("UPDATE trials SET model_path=? WHERE number=2", ("../secret.keras",))
    conn.execute("UPDATE trials SET model_path=? WHERE number=3", (str(study / "models" / "link.keras"),))
    conn.commit()
    conn.close()
    snap = load_snapshot(study)
    assert [snap.model_file(snap.trial(n)) for n in (1, 2, 3)] == [None, None, None]
    inside = study / "models" / "trial_0001.keras"
    assert inside_study(study, inside) == inside.resolve()
    assert inside_study(study, Path("models/trial_0001.keras")) is None  # as the store gives it: never joined again


def test_read_only_opens_leave_no_files_and_work_without_write_access(study, monkeypatch):
    names = sorted(p.name for p in study.iterdir())
    db = (study / "study.db").read_bytes()
    for _ in range(3):
        assert main(["status", str(study)]) == 0
    with StudyStore.open(study, readonly=True) as store:
        assert len(store.trials()) == 3
    assert sorted(p.name for p in study.iterdir()) == names
    assert (study / "study.db").read_bytes() == db
    # a directory the reader cannot write (a read-only mount): SQLite must not need a -shm file
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if mode == os.W_OK else real_access(path, mode))
    (study / "study.db-wal").write_bytes(b"")  # as if a writer had left one
    with StudyStore.open(study, readonly=True, live=True) as store:
        assert len(store.trials()) == 3


def test_a_damaged_store_is_refused_before_any_write_and_doctor_repairs_it(study, capsys):
    conn = sqlite3.connect(study / "study.db")
    conn.execute("UPDATE trials SET extra='{broken' WHERE number=2")
    conn.commit()
    conn.close()
    before = (study / "study.db").read_bytes()
    with pytest.raises(DamagedStoreError, match="trial 2"):
        Tuner(study, executor_factory=SimulatedExecutor).run(5)
    assert (study / "study.db").read_bytes() == before
    assert main(["doctor", str(study)]) == 1
    assert "trial 2" in capsys.readouterr().out
    checkup = examine(study)
    assert [row["number"] for row in checkup.completed_trials()] == [1, 3]
    repair(study, checkup)
    assert (study / "study.db.damaged").read_bytes() == before
    assert examine(study).healthy
    Tuner(study, executor_factory=SimulatedExecutor).run(4)
    with StudyStore.open(study, readonly=True) as store:
        assert [t.number for t in store.trials() if t.is_complete] == [1, 3, 4, 5]


def test_doctor_exports_the_completed_trials(study, tmp_path, capsys):
    out = tmp_path / "trials.json"
    assert main(["doctor", str(study), "--export", str(out)]) == 0
    import json

    exported = json.loads(out.read_text())["trials"]
    assert [t["number"] for t in exported] == [1, 2, 3]
    assert all(t["params"] and t["objective"] is not None for t in exported)


def test_a_non_loopback_host_is_warned_about(study, monkeypatch, capsys):
    import symtuner.app.dashboard.app as app

    served = {}
    monkeypatch.setattr(app, "serve", lambda *a, **kw: served.update(kw))
    monkeypatch.setattr(app, "check_port_free", lambda host, port: None)
    assert main(["dashboard", str(study), "--host", "0.0.0.0", "--port", "8123"]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "0.0.0.0" in err and "no authentication" in err
    assert served["host"] == "0.0.0.0"
    assert main(["dashboard", str(study), "--host", "127.0.0.1", "--port", "8123"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_a_port_in_use_is_one_clear_line(study, capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["dashboard", str(study), "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(port) in err[0]


def test_sigterm_stops_a_run_with_a_message_and_the_trial_reruns(tmp_path):
    (tmp_path / "data.py").write_text(DATA_PY)
    script = '''
import sys, time
from symtuner.app.cli import main
from symtuner.execution.simulate import SimulatedExecutor
import symtuner.study.tuner as tuner

class Slow(SimulatedExecutor):
    def run(self, spec, on_epoch=None):
        def slow(epoch, logs):
            print("epoch", flush=True)
            time.sleep(0.3)
            return on_epoch(epoch, logs)
        return super().run(spec, slow)

original = tuner.Tuner.__init__
def init(self, *a, **kw):
    kw["executor_factory"] = Slow
    original(self, *a, **kw)
tuner.Tuner.__init__ = init
sys.exit(main(["run", "--study-dir", "s", "--dataset", "data.py:tiny", "--trials", "3", "--epochs", "4"]))
'''
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("epoch"):
            break
    time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert "Traceback" not in err
    assert "stopped by SIGTERM" in err and "symtuner resume s" in err
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        assert [t.state for t in store.trials()] == ["interrupted"]


def test_a_plain_resume_continues_to_the_stored_target(tmp_path, monkeypatch):
    import symtuner.study.tuner as tuner_module

    (tmp_path / "data.py").write_text(DATA_PY)
    directory = tmp_path / "s"
    Tuner(directory, dataset=f"{tmp_path / 'data.py'}:tiny", executor_factory=SimulatedExecutor).run(3)
    with StudyStore.open(directory, readonly=True) as store:
        assert store.target() == {"trials": 3, "budget_epochs": None}
    original = tuner_module.Tuner.__init__

    def simulated(self, *args, **kwargs):
        kwargs["executor_factory"] = SimulatedExecutor
        original(self, *args, **kwargs)

    monkeypatch.setattr(tuner_module.Tuner, "__init__", simulated)
    assert main(["resume", str(directory)]) == 0
    with StudyStore.open(directory, readonly=True) as store:
        assert len(store.trials()) == 3
    assert main(["resume", str(directory), "--trials", "4"]) == 0
    assert main(["resume", str(directory)]) == 0
    with StudyStore.open(directory, readonly=True) as store:
        assert len(store.trials()) == 4


@pytest.mark.parametrize("kwargs, named", [
    ({"space": "unit_c1 16-64"}, "space"), ({"settings": {"epochs": 3}}, "settings"),
    ({"execution": 4}, "execution"), ({"dataset": 5}, "dataset"), ({"network": 3.5}, "network"),
])
def test_bad_python_api_arguments_are_config_errors(tmp_path, kwargs, named):
    from symtuner.core.errors import ConfigError

    with pytest.raises(ConfigError, match=named):
        Tuner(tmp_path / "s", **kwargs)
    assert not (tmp_path / "s").exists()
