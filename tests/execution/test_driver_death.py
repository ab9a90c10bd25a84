"""A driver killed with SIGKILL leaves nothing running and nothing behind: its pool workers exit within a
second or two, and the copy of its data set is removed when the next pool starts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from symtuner.execution import ExecutionSettings
from symtuner.execution.pool import DRIVER_FILE, POOL_PREFIX, PoolDispatcher, remove_orphans
from symtuner.execution.simulate import SimulatedExecutor

HERE = Path(__file__).parent
DATA_PY = '''
import numpy as np

def tiny():
    rng = np.random.default_rng(0)
    x = rng.random((48, 28, 28, 1), dtype=np.float32)
    y = np.arange(48) % 3
    return x[:40], x[40:], y[:40], y[40:], 3
'''
DRIVER = '''
import sys
from parallel_helpers import SlowPidRecordingExecutor
from symtuner.execution import ExecutionSettings
from symtuner.tuner import Tuner
Tuner(sys.argv[1], dataset=sys.argv[2], executor_factory=SlowPidRecordingExecutor, quiet=True,
      execution=ExecutionSettings(workers=2)).run(4)
'''


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is dead, only not yet waited for
        return fh.read().split(")")[-1].split()[0] != "Z"


def _pool_dirs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob(POOL_PREFIX + "*"))


def test_pool_workers_exit_when_the_driver_is_killed_and_its_copy_goes_next_time(tmp_path):
    (tmp_path / "data.py").write_text(DATA_PY)
    pids = tmp_path / "pids"
    pids.mkdir()
    env = {**os.environ, "SYMTUNER_TEST_PID_DIR": str(pids), "SYMTUNER_TEST_EPOCH_SECONDS": "60",
           "PYTHONPATH": str(HERE / "workers") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    before = _pool_dirs()
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(tmp_path / "s"), f"{tmp_path / 'data.py'}:tiny"],
                              env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list(pids.glob("trial_*.pid"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    workers = [int(p.read_text()) for p in pids.glob("trial_*.pid")]
    assert len(workers) == 2, "both trials should be training (each epoch lasts a minute)"
    left = [d for d in _pool_dirs() - before if (d / DRIVER_FILE).read_text() == str(driver.pid)]
    assert len(left) == 1
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers), "the workers of a killed driver go on training"
    assert left[0].exists()  # the killed driver could not remove it ...
    PoolDispatcher(ExecutionSettings(workers=2), SimulatedExecutor).close()
    assert not left[0].exists()  # ... the next pool does


def test_only_the_directories_of_dead_drivers_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for name, pid in (("dead", dead.pid), ("alive", os.getpid())):
        (tmp_path / f"{POOL_PREFIX}{name}").mkdir()
        (tmp_path / f"{POOL_PREFIX}{name}" / DRIVER_FILE).write_text(str(pid))
    (tmp_path / f"{POOL_PREFIX}being-made").mkdir()  # no driver file yet, and recent
    assert remove_orphans(tmp_path) == [tmp_path / f"{POOL_PREFIX}dead"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{POOL_PREFIX}alive", f"{POOL_PREFIX}being-made"]
