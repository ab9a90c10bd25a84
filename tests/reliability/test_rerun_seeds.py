"""Reruns of interrupted trials train with the seed of the trial they rerun, however many were
interrupted together, so a resumed study equals the uninterrupted one seed by seed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from symtuner.core.records import Trial, TrialState
from symtuner.core.settings import StudySettings
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.storage import StudyStore
from symtuner.study.seeds import derived_seed, slot, trial_seed
from symtuner.tuner import Tuner


def _trial(number: int, state: str, retry_of: int | None = None) -> Trial:
    extra = {} if retry_of is None else {"retry_of": retry_of}
    return Trial(number=number, state=state, params={"x": number}, tuning_version=1, extra=extra)


def test_trials_interrupted_together_keep_their_own_slots():
    # trials 1 and 2 ran together and were interrupted; 3 reruns 1, 4 reruns 2, 5 is the next first run
    trials = [_trial(1, TrialState.INTERRUPTED), _trial(2, TrialState.INTERRUPTED),
              _trial(3, TrialState.COMPLETE, retry_of=1), _trial(4, TrialState.COMPLETE, retry_of=2),
              _trial(5, TrialState.COMPLETE)]
    assert [slot(trials, n) for n in (1, 2, 3, 4, 5)] == [1, 2, 1, 2, 3]
    assert trial_seed(0, trials, 4) == derived_seed(0, 2) != trial_seed(0, trials, 3)


def test_a_rerun_of_a_rerun_keeps_the_first_runs_seed():
    trials = [_trial(1, TrialState.COMPLETE), _trial(2, TrialState.INTERRUPTED), _trial(3, TrialState.INTERRUPTED),
              _trial(4, TrialState.INTERRUPTED, retry_of=2), _trial(5, TrialState.COMPLETE, retry_of=3),
              _trial(6, TrialState.COMPLETE, retry_of=4)]
    assert [slot(trials, n) for n in (4, 5, 6)] == [2, 3, 2]


def _rows(directory: Path) -> list[tuple[object, ...]]:
    with StudyStore.open(directory, readonly=True) as store:
        return [(t.number, t.state, t.params, t.seed, t.objective, t.retry_of) for t in store.trials()]


def test_two_trials_interrupted_together_rerun_with_their_own_seeds(tmp_path, tiny_dataset):
    """The store as a driver killed while trials 1 and 2 trained leaves it; the resumed study trains
    what the uninterrupted one trained, seed by seed and objective by objective."""
    plain = StudySettings(symbolic=False)  # no space changes: the rows below are all a killed study holds
    reference = tmp_path / "reference"
    Tuner(reference, dataset=tiny_dataset, settings=plain, executor_factory=SimulatedExecutor, quiet=True).run(4)
    killed = tmp_path / "killed"
    Tuner(killed, dataset=tiny_dataset, settings=plain, executor_factory=SimulatedExecutor, quiet=True).run(2)
    conn = sqlite3.connect(killed / "study.db")
    with conn:  # both trials were still training when the driver died: running, no results, no epochs
        conn.execute("UPDATE trials SET state='running', objective=NULL, finished_at=NULL, diagnosis=NULL")
        conn.execute("DELETE FROM epochs")
    conn.close()
    Tuner(killed, dataset=tiny_dataset, settings=plain, executor_factory=SimulatedExecutor, quiet=True).run(4)
    rows = _rows(killed)
    assert [(n, state, retry) for n, state, *_, retry in rows] == [
        (1, "interrupted", None), (2, "interrupted", None), (3, "complete", 1), (4, "complete", 2),
        (5, "complete", None), (6, "complete", None)]
    by_number = {row[0]: row for row in rows}
    assert by_number[3][2:4] == by_number[1][2:4] and by_number[4][2:4] == by_number[2][2:4]
    assert by_number[4][3] != by_number[3][3]
    finished = [(params, seed, objective) for _, state, params, seed, objective, _ in rows if state == "complete"]
    assert finished == [(params, seed, objective) for _, _, params, seed, objective, _ in _rows(reference)]


def test_a_rerun_trains_under_its_first_runs_space_and_architecture(tmp_path, tiny_dataset):
    """Trial 2 was interrupted; the space and architecture changed after trial 1 (stored as version 2)
    while it trained: its rerun trains what it trained, under version 1."""
    from symtuner.core.architecture import Architecture

    study = tmp_path / "s"
    Tuner(study, dataset=tiny_dataset, settings=StudySettings(symbolic=False),
          executor_factory=SimulatedExecutor).run(2)
    with StudyStore.open(study) as store:
        first = store.tuning(1)
        store.add_tuning_version(first.space, Architecture(l2=True, batch_norm=True), 1, "changed meanwhile")
    conn = sqlite3.connect(study / "study.db")
    with conn:
        conn.execute("UPDATE trials SET state='running', objective=NULL WHERE number=2")
        conn.execute("DELETE FROM epochs WHERE trial=2")
    conn.close()
    Tuner(study, dataset=tiny_dataset, settings=StudySettings(symbolic=False),
          executor_factory=SimulatedExecutor).run(2)
    with StudyStore.open(study, readonly=True) as store:
        rerun = store.trial(3)
        assert rerun.retry_of == 2 and rerun.tuning_version == store.trial(2).tuning_version == 1
