"""``reproducible = true``: a parallel study handles finished trials in the order they started (a rerun in
its first run's place) and proposes nothing ahead, so it is the same study whatever the timing."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

from symtuner.execution import ExecutionSettings
from symtuner.storage import StudyStore
from symtuner.study.scheduler import Scheduler, Target
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


def _scheduler(running: list[int], ordered: bool = True) -> Scheduler:
    loop = SimpleNamespace(running=dict.fromkeys(running), proposer=None)
    return Scheduler(loop, SimpleNamespace(capacity=len(running)), Target(10, None), ordered=ordered)  # type: ignore[arg-type]


def test_finished_trials_wait_for_those_that_started_before_them():
    scheduler = _scheduler([3, 4, 5])
    assert scheduler.release([(5, "five"), (4, "four")]) == []  # trial 3 still trains
    assert scheduler.release([(3, "three")]) == [(3, "three"), (4, "four"), (5, "five")]


def test_a_rerun_takes_the_place_of_the_trial_it_reruns():
    scheduler = _scheduler([6, 7])
    scheduler.first_runs[7] = 2  # 7 reruns trial 2, which started before 6
    assert scheduler.release([(6, "six")]) == []
    assert scheduler.release([(7, "seven")]) == [(7, "seven"), (6, "six")]


def test_without_order_every_finished_trial_is_told_at_once():
    scheduler = _scheduler([3, 4], ordered=False)
    assert scheduler.release([(4, "four")]) == [(4, "four")]


def test_a_reproducible_parallel_study_is_the_same_whatever_the_timing(tmp_path, monkeypatch):
    (tmp_path / "data.py").write_text(DATA_PY)
    monkeypatch.setenv("PYTHONPATH", str(HERE / "workers") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.syspath_prepend(str(HERE / "workers"))
    from parallel_helpers import JitteredExecutor

    studies = []
    for name in ("a", "b"):
        Tuner(tmp_path / name, dataset=f"{tmp_path / 'data.py'}:tiny", executor_factory=JitteredExecutor,
              quiet=True, execution=ExecutionSettings(workers=2, reproducible=True)).run(7)
        with StudyStore.open(tmp_path / name, readonly=True) as store:
            studies.append([(t.number, json.dumps(t.params, sort_keys=True), t.seed, t.objective, t.tuning_version)
                            for t in store.trials()])
    assert studies[0] == studies[1]
