"""Ctrl-C or SIGTERM while a finished trial is handled (diagnosed, stored) waits until it is stored: the
trial is complete, and the study stops after it as it would have stopped during training."""

from __future__ import annotations

import os
import signal

import pytest

import symtuner.study.tuner as tuner_module
from symtuner.app.cli import main
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.storage import StudyStore
from symtuner.study.interrupts import deferred_interrupts
from symtuner.tuner import Tuner
from symtuner.tuning.advisor import Advisor

from .bad_inputs import DATA_PY


@pytest.fixture
def signal_while_diagnosing(monkeypatch):
    """Advisor.after_trial sends the signal the test names to this process while it handles trial 1."""
    sent: list[int] = []
    original = Advisor.after_trial

    def after_trial(self, view, done, *args, **kwargs):
        if done.number == 1 and not sent:
            sent.append(sent_signal[0])
            os.kill(os.getpid(), sent_signal[0])
        return original(self, view, done, *args, **kwargs)

    sent_signal = [signal.SIGTERM]
    monkeypatch.setattr(Advisor, "after_trial", after_trial)
    return sent_signal


def test_sigterm_while_a_finished_trial_is_handled_keeps_it(tmp_path, monkeypatch, signal_while_diagnosing, capfd):
    original = tuner_module.Tuner.__init__

    def simulated(self, *args, **kwargs):
        kwargs["executor_factory"] = SimulatedExecutor
        original(self, *args, **kwargs)

    monkeypatch.setattr(tuner_module.Tuner, "__init__", simulated)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.py").write_text(DATA_PY)
    code = main(["run", "--study-dir", "s", "--dataset", "data.py:tiny", "--trials", "3", "--epochs", "2",
                 "--quiet"])
    assert code == 143
    assert "stopped by SIGTERM" in capfd.readouterr().err
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        trials = store.trials()
    assert [t.state for t in trials] == ["complete"]
    assert trials[0].diagnosis is not None and trials[0].curve is not None


def test_ctrl_c_while_a_finished_trial_is_handled_keeps_it(tmp_path, tiny_dataset, signal_while_diagnosing):
    signal_while_diagnosing[0] = signal.SIGINT
    # Python's own Ctrl-C handler, as in a terminal: a shell's background job starts with SIGINT ignored
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            Tuner(tmp_path / "s", dataset=tiny_dataset, executor_factory=SimulatedExecutor, quiet=True).run(3)
    finally:
        signal.signal(signal.SIGINT, previous)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        assert [t.state for t in store.trials()] == ["complete"]


def test_a_held_signal_reaches_the_handler_that_was_in_place():
    seen: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda number, frame: seen.append(number))
    try:
        with deferred_interrupts():
            os.kill(os.getpid(), signal.SIGTERM)
            assert seen == []
        assert seen == [signal.SIGTERM]
        with deferred_interrupts():
            pass
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)
