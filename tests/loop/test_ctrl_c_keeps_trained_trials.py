"""Ctrl-C in a parallel run: a trial that has trained all its epochs (it is being evaluated and saved) is
kept; the trials still training are interrupted, to run again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from symtuner.storage import StudyStore

HERE = Path(__file__).parent
DRIVER = textwrap.dedent('''
    import signal
    import sys
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, also when run in the background
    from evaluating_helpers import SlowToSaveExecutor
    from symtuner.core.settings import StudySettings
    from symtuner.execution import ExecutionSettings
    from symtuner.tuner import Tuner
    Tuner(sys.argv[1], dataset="digits-small", settings=StudySettings(epochs=2, dataset="digits-small"),
          executor_factory=SlowToSaveExecutor, quiet=True, execution=ExecutionSettings(workers=2)).run(4)
''')


def _trials(directory: Path) -> dict:
    if not StudyStore.exists(directory):
        return {}
    with StudyStore.open(directory, readonly=True, live=True) as store:
        return {t.number: t for t in store.trials(with_curves=True)}


@pytest.mark.skipif(sys.platform == "win32", reason="process groups")
def test_ctrl_c_keeps_a_trial_that_trained_all_its_epochs(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(HERE / "workers") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    # its own process group, as a terminal's foreground job: Ctrl-C reaches the driver and every worker
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(tmp_path / "s")], env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            trials = _trials(tmp_path / "s")
            first = trials.get(1)
            if first is not None and first.curve is not None and first.curve.n_epochs == 2 and 2 in trials:
                break  # trial 1 trained both epochs and is being "saved"; trial 2 is training
            assert time.monotonic() < deadline and driver.poll() is None
            time.sleep(0.1)
        os.killpg(driver.pid, signal.SIGINT)
        driver.wait(timeout=120)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
    trials = _trials(tmp_path / "s")
    assert trials[1].state == "complete" and trials[1].diagnosis is not None
    assert trials[2].state == "interrupted"
