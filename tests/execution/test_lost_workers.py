"""A trial whose worker process is lost runs again: it is shown as retried, not as failed, until its
retries are used up."""

from __future__ import annotations

import io
import os
import signal
from pathlib import Path

from symtuner.app.display import PlainProgress
from symtuner.execution import ExecutionSettings
from symtuner.storage import StudyStore
from symtuner.tuner import Tuner

HERE = Path(__file__).parent
DATA_PY = '''
import numpy as np

def tiny():
    rng = np.random.default_rng(0)
    x = rng.random((60, 28, 28, 1), dtype=np.float32)
    y = np.arange(60) % 3
    return x[:48], x[48:], y[:48], y[48:], 3
'''


def test_a_lost_worker_is_shown_as_retried_then_failed_when_no_retry_is_left(tmp_path, monkeypatch):
    (tmp_path / "data.py").write_text(DATA_PY)
    pids = tmp_path / "pids"
    pids.mkdir()
    monkeypatch.setenv("SYMTUNER_TEST_PID_DIR", str(pids))
    monkeypatch.setenv("PYTHONPATH", str(HERE / "workers") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.syspath_prepend(str(HERE / "workers"))
    from parallel_helpers import PidRecordingExecutor

    class KillTrialTwoTwice(PlainProgress):
        """Kills the worker of trial 2, then the worker of its rerun (trial 2's retries: 1)."""

        killed: list[int] = []
        targets: list[int] = [2]
        params: dict = {}

        def trial_started(self, number, index, total, params):
            super().trial_started(number, index, total, params)
            if number == 2:
                self.params = params
            elif self.killed and params == self.params:  # the rerun of trial 2
                self.targets.append(number)

        def epoch_finished(self, number, epoch, epochs, logs):
            super().epoch_finished(number, epoch, epochs, logs)
            if number in self.targets and number not in self.killed:
                os.kill(int((pids / f"trial_{number}.pid").read_text()), signal.SIGKILL)
                self.killed.append(number)

    out = io.StringIO()
    progress = KillTrialTwoTwice("val_accuracy", out)
    Tuner(tmp_path / "s", dataset=f"{tmp_path / 'data.py'}:tiny", executor_factory=PidRecordingExecutor,
          progress=progress, execution=ExecutionSettings(workers=2, retries=1)).run(3)
    first, rerun = progress.killed
    lines = out.getvalue().splitlines()
    assert any(line.startswith(f"  #{first} -> lost its worker") and "it will run again" in line for line in lines)
    assert not any(line.startswith(f"  #{first} -> failed") for line in lines)
    assert any(line.startswith(f"  #{rerun} -> failed") for line in lines)  # no retry left
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        states = {t.number: t.state for t in store.trials()}
    assert states[first] == "interrupted" and states[rerun] == "failed"
