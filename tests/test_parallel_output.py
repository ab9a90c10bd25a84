"""A run with two workers on a terminal: every line a trial prints names that trial, and says what the
store holds of it."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from symtuner.storage import StudyStore

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")

CHILD = textwrap.dedent('''
    import functools, sys
    import numpy as np
    from symtuner.app.display import auto_progress
    from symtuner.core.settings import StudySettings
    from symtuner.data import validate_dataset
    from symtuner.execution import ExecutionSettings
    from symtuner.execution.simulate import SimulatedExecutor
    from symtuner.tuner import Tuner

    rng = np.random.default_rng(0)
    x, y = rng.random((60, 28, 28, 1), dtype=np.float32), np.arange(60) % 3
    data = validate_dataset(x[:48], x[48:], y[:48], y[48:], 3, name="tiny")
    assert sys.stdout.isatty()
    with auto_progress("val_accuracy", verbose=True) as progress:  # a terminal: the bars, and epoch lines
        Tuner(sys.argv[1], dataset=data, settings=StudySettings(epochs=4, n_initial=3),
              executor_factory=functools.partial(SimulatedExecutor, epoch_seconds=0.15), progress=progress,
              execution=ExecutionSettings(workers=2)).run(6)
''')
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
#: The lines of one trial: its result, why it stopped, its diagnosis and actions, its epochs.
TRIAL_LINE = re.compile(r"^  #(\d+) (->|stopped early:|diagnosis:|skipped:|action |epoch |ignored )")


def _run_in_pty(args: list[str], timeout: float = 120) -> str:
    import pty

    main, child = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160"}
    process = subprocess.Popen(args, stdin=child, stdout=child, stderr=child, env=env, close_fds=True)
    os.close(child)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([main], [], [], timeout)
            if not ready:
                raise AssertionError("the run printed nothing for too long")
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(main)
        process.wait(timeout=30)
    assert process.returncode == 0, b"".join(chunks).decode(errors="replace")[-3000:]
    return b"".join(chunks).decode(errors="replace")


def test_every_line_of_a_two_worker_run_names_its_trial(tmp_path: Path) -> None:
    output = _run_in_pty([sys.executable, "-c", CHILD, str(tmp_path / "study")])
    lines = [line.rstrip() for part in ANSI.sub("", output).split("\n") for line in part.split("\r")]
    with StudyStore.open(tmp_path / "study", readonly=True) as store:
        trials = {t.number: t for t in store.trials()}
    assert len(trials) == 6
    results = {}
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(("->", "diagnosis:", "action ", "epoch ", "stopped early:", "skipped:")):
            raise AssertionError(f"a line that names no trial: {line!r}")
        match = TRIAL_LINE.match(line)
        if match and match.group(2) == "->":
            results[int(match.group(1))] = line
    assert sorted(results) == sorted(trials)
    for number, line in results.items():  # each result line says what the store holds of that trial
        assert f"val_accuracy {trials[number].objective:.4f}" in line, (number, line)
    for trial in trials.values():
        if trial.diagnosis is not None:
            assert f"  #{trial.number} diagnosis: {trial.diagnosis.explanation}" in lines
    epochs = {int(m.group(1)) for line in lines if (m := TRIAL_LINE.match(line)) and m.group(2) == "epoch "}
    assert epochs == set(trials)
