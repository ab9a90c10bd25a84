"""Progress of a run: live bars with ETAs on a terminal, today's plain lines elsewhere, nothing when quiet."""

from __future__ import annotations

import io
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from symtuner.app import progress as progress_module
from symtuner.app.display import ConsoleProgress, PlainProgress, QuietProgress, auto_progress
from symtuner.app.progress import RichProgress, format_seconds, remaining_seconds
from symtuner.core.records import Trial

CONTROL = re.compile(r"(\x1b\[[0-9;?]*[A-Za-z]|\r|\n)")
SHOW_CURSOR = "\x1b[?25h"


def screen(raw: str) -> list[str]:
    """What a terminal shows after ``raw``: the text, carriage returns, newlines, rich's cursor-up
    and erase-line codes (colours and cursor visibility change nothing shown)."""
    lines, row, col = [""], 0, 0
    for token in CONTROL.split(raw):
        if not token:
            continue
        if token == "\n":
            row, col = row + 1, 0
            lines.extend([""] * (row + 1 - len(lines)))
        elif token == "\r":
            col = 0
        elif token.startswith("\x1b["):
            if token.endswith("A"):
                row = max(0, row - int(token[2:-1] or 1))
            elif token == "\x1b[2K":
                lines[row] = ""
        else:
            line = lines[row].ljust(col)
            lines[row] = line[:col] + token + line[col + len(token):]
            col += len(token)
    return [line.rstrip() for line in lines if line.strip()]


class Clock:
    """A clock the test moves by hand, so elapsed times and ETAs are exact."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def terminal():
    return io.StringIO()


@pytest.fixture
def bars(terminal, clock):
    display = RichProgress("val_accuracy", Console(file=terminal, force_terminal=True, width=100), clock=clock,
                           auto_refresh=False)
    yield display
    display.close()  # also gives back sys.stdout, which the live display redirects


def _trial(number: int, objective: float, epochs: int = 4, **extra) -> Trial:
    return Trial(number, "complete", {"learning_rate": 0.001}, 1, objective=objective, test_accuracy=objective - 0.01,
                 train_seconds=2.0 * epochs, extra={"epochs_run": epochs, **extra})


def _run_trial(display, clock: Clock, number: int, index: int, total: int, objective: float, best: Trial | None,
               epochs: int = 4, seconds: float = 2.0) -> Trial:
    display.trial_started(number, index, total, {"learning_rate": 0.001, "optimizer": "Adam"})
    for epoch in range(epochs):
        clock.now += seconds
        display.epoch_finished(number, epoch, epochs, {"val_accuracy": objective - 0.1 + epoch * 0.1 / epochs})
    done = _trial(number, objective, epochs)
    display.trial_finished(done, done if best is None or objective > (best.objective or 0) else best, None)
    return done


def _line(shown: list[str], start: str) -> str:
    found = [line for line in shown if line.startswith(start)]
    assert found, f"no line starts with {start!r} in {shown}"
    return found[-1]


def test_study_bar_shows_trials_done_of_the_target_the_eta_and_the_best(bars, terminal, clock):
    first = _run_trial(bars, clock, 1, 1, 5, 0.8, None)
    bars.trial_started(2, 2, 5, {"learning_rate": 0.002})
    clock.now += 3
    bars.epoch_finished(2, 0, 4, {"val_accuracy": 0.6})
    shown = screen(terminal.getvalue())
    study = _line(shown, "study ")
    # 1 trial and a quarter in 11 s: 3.75 trials left at that rate
    assert "1/5 trials" in study and "0:00:11" in study and "ETA 0:00:33" in study
    assert "best val_accuracy 0.8000 (#1)" in study
    trial = _line(shown, "trial #2")
    assert "1/4 epochs" in trial and "0:00:03" in trial and "ETA 0:00:09" in trial and "val_accuracy 0.6000" in trial
    # the trial lines print above the bars, as in the plain output
    assert shown.index("trial 1/5 (#1): learning_rate=0.001, optimizer=Adam") < shown.index(study)
    assert any(line.startswith("  #1 -> val_accuracy 0.8000  test acc 0.7900") for line in shown)
    assert not any(line.startswith("trial #1") for line in shown)  # its bar went when it finished
    assert first.number == 1


def test_the_eta_counts_down_between_updates(bars, terminal, clock):
    bars.trial_started(1, 1, 2, {})
    clock.now += 5
    bars.epoch_finished(1, 0, 5, {"val_accuracy": 0.5})
    assert "ETA 0:00:45" in _line(screen(terminal.getvalue()), "study ")  # 0.1 of the study in 5 s
    clock.now += 20
    bars._bars.refresh()  # what the refresh thread does a few times a second
    shown = screen(terminal.getvalue())
    assert "ETA 0:00:25" in _line(shown, "study ") and "0:00:25" in _line(shown, "study ")
    assert "ETA 0:00:00" in _line(shown, "trial #1")  # past its estimate: never negative


def test_an_epoch_budget_is_the_bar_when_the_run_has_one(bars, terminal, clock):
    bars.study_started(None, 40, 4, finished=0, epochs_used=0)
    _run_trial(bars, clock, 1, 1, 0, 0.7, None)
    bars.trial_started(2, 2, 0, {})
    clock.now += 2
    bars.epoch_finished(2, 0, 4, {"val_accuracy": 0.5})
    study = _line(screen(terminal.getvalue()), "study ")
    assert "5/40 epochs, 1 trial " in study and "ETA 0:01:10" in study  # 35 epochs left at 2 s each


def test_a_trial_stopped_early_counts_the_epochs_it_ran(bars, terminal, clock):
    bars.study_started(None, 20, 10, finished=0, epochs_used=0)
    bars.trial_started(1, 1, 0, {})
    for epoch in range(3):
        clock.now += 1
        bars.epoch_finished(1, epoch, 10, {"val_accuracy": 0.2})
    bars.trial_finished(_trial(1, 0.2, epochs=3, stopped="the network died"), None, None)
    shown = screen(terminal.getvalue())
    assert "3/20 epochs, 1 trial " in _line(shown, "study ")
    assert "  #1 stopped early: the network died" in shown


def test_a_resumed_study_estimates_from_this_run_only(bars, terminal, clock):
    bars.study_started(10, None, 4, finished=6, epochs_used=24)
    assert "6/10 trials" in _line(screen(terminal.getvalue()), "study ")
    assert "ETA -:--:--" in _line(screen(terminal.getvalue()), "study ")
    bars.trial_started(7, 7, 10, {})
    clock.now += 2
    bars.epoch_finished(7, 0, 4, {"val_accuracy": 0.5})
    study = _line(screen(terminal.getvalue()), "study ")
    # a quarter of a trial in 2 s, 3.75 trials left: the six earlier trials took no time in this run
    assert "6/10 trials" in study and "ETA 0:00:30" in study and "0:00:02" in study


def test_running_trials_have_a_bar_each_removed_when_they_finish(bars, terminal, clock):
    bars.trial_started(1, 1, 4, {})
    bars.trial_started(2, 2, 4, {})
    clock.now += 1
    bars.epoch_finished(2, 0, 4, {"val_accuracy": 0.4})
    bars.epoch_finished(1, 0, 4, {"val_accuracy": 0.3})
    clock.now += 1
    bars.epoch_finished(1, 1, 4, {"val_accuracy": 0.35})
    shown = screen(terminal.getvalue())
    assert "2/4 epochs" in _line(shown, "trial #1") and "val_accuracy 0.3500" in _line(shown, "trial #1")
    assert "1/4 epochs" in _line(shown, "trial #2") and "val_accuracy 0.4000" in _line(shown, "trial #2")
    bars.trial_failed(1, "worker process died")
    shown = screen(terminal.getvalue())
    assert not any(line.startswith("trial #1") for line in shown) and _line(shown, "trial #2")
    assert "  #1 -> failed: worker process died" in shown
    assert "1/4 trials" in _line(shown, "study ")
    bars.trial_started(3, 2, 4, {})  # the loop's index: a failure to rerun does not count as finished
    assert "0/4 trials" in _line(screen(terminal.getvalue()), "study ")


def test_epoch_lines_print_above_the_bars_when_asked(terminal, clock):
    display = RichProgress("val_loss", Console(file=terminal, force_terminal=True, width=100), clock=clock,
                           auto_refresh=False, epoch_lines=True)
    try:
        display.trial_started(1, 1, 2, {})
        display.epoch_finished(1, 0, 3, {"loss": 1.0, "val_loss": 1.25})
    finally:
        display.close()
    shown = screen(terminal.getvalue())
    assert "  #1 epoch 1/3  loss 1.0000  val_loss 1.2500  | best val_loss -" in shown  # no accuracy logged: none shown


def test_the_display_stops_by_itself_when_the_target_is_reached(bars, terminal, clock):
    stdout = sys.stdout
    best = _run_trial(bars, clock, 1, 1, 2, 0.7, None)
    assert sys.stdout is not stdout  # prints go above the bars meanwhile
    _run_trial(bars, clock, 2, 2, 2, 0.6, best)
    assert sys.stdout is stdout
    assert terminal.getvalue().endswith(SHOW_CURSOR)
    study = _line(screen(terminal.getvalue()), "study ")
    assert "2/2 trials" in study and "ETA 0:00:00" in study and "best val_accuracy 0.7000 (#1)" in study


def test_close_takes_down_an_interrupted_run_and_may_be_called_again(bars, terminal, clock):
    stdout = sys.stdout
    bars.trial_started(1, 1, 5, {})
    clock.now += 1
    bars.epoch_finished(1, 0, 4, {"val_accuracy": 0.5})
    bars.close()  # what a Ctrl-C or SIGTERM leads to
    written = terminal.getvalue()
    assert written.endswith(SHOW_CURSOR) and sys.stdout is stdout
    shown = screen(written)
    assert not any(line.startswith("trial #1") for line in shown)  # no bar left for a trial no longer running
    assert "0/5 trials" in _line(shown, "study ")
    bars.close()
    with bars:
        pass
    assert terminal.getvalue() == written


def test_after_close_the_same_object_shows_another_run(bars, terminal, clock):
    _run_trial(bars, clock, 1, 1, 3, 0.5, None)
    bars.close()
    before = len(terminal.getvalue())
    bars.trial_started(2, 2, 3, {})
    clock.now += 4
    bars.epoch_finished(2, 0, 4, {"val_accuracy": 0.6})
    study = _line(screen(terminal.getvalue()[before:]), "study ")
    # a new run: its own start, and no best until a trial of it finishes
    assert "1/3 trials" in study and "0:00:04" in study and "ETA 0:00:28" in study and "best" not in study


def test_the_estimates():
    assert remaining_seconds(10, 2, 5) == 15
    assert remaining_seconds(10, 7, 10, done_at_start=6) == 30
    assert remaining_seconds(10, 6, 10, done_at_start=6) is None
    assert remaining_seconds(0, 1, 5) is None
    assert format_seconds(65.2) == "0:01:06" and format_seconds(None) == "-:--:--"
    assert format_seconds(-3) == "0:00:00" and format_seconds(float("inf")) == "-:--:--"


# -- choosing the display -------------------------------------------------------------------------

class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _events(display) -> None:
    display.trial_started(1, 1, 2, {"learning_rate": 0.00123, "optimizer": "Adam"})
    display.epoch_finished(1, 0, 2, {"loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.45})
    display.epoch_finished(1, 1, 2, {"loss": 0.5, "accuracy": 0.6, "val_loss": 0.55, "val_accuracy": 0.55})
    advice = SimpleNamespace(diagnosis=SimpleNamespace(explanation="overfitting -> reg_l2", skipped=()),
                             actions=[SimpleNamespace(name="reg_l2", applied=True, detail="l2 on")])
    first = Trial(1, "complete", {}, 1, objective=0.55, test_accuracy=0.5, train_seconds=3.21)
    display.trial_finished(first, first, advice)
    display.trial_started(2, 2, 2, {"learning_rate": 0.1})
    display.trial_failed(2, "boom")
    display.close()


PLAIN = """\
trial 1/2 (#1): learning_rate=0.00123, optimizer=Adam
  #1 epoch 1/2  loss 1.0000  acc 0.5000  val_loss 1.1000  val_acc 0.4500  | best val_accuracy -
  #1 epoch 2/2  loss 0.5000  acc 0.6000  val_loss 0.5500  val_acc 0.5500  | best val_accuracy -
  #1 -> val_accuracy 0.5500  test acc 0.5000  (3.210 s)  best so far #1 0.5500
  #1 diagnosis: overfitting -> reg_l2
  #1 action reg_l2 (applied): l2 on
trial 2/2 (#2): learning_rate=0.1
  #2 -> failed: boom
"""


def test_a_pipe_or_a_file_gets_the_plain_lines_unchanged():
    out = io.StringIO()
    display = auto_progress("val_accuracy", stream=out)
    assert isinstance(display, ConsoleProgress) and isinstance(display.display, PlainProgress)
    _events(display)
    assert out.getvalue() == PLAIN


def test_a_terminal_gets_the_bars_and_the_same_trial_lines(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "100")
    out = _Terminal()
    display = auto_progress("val_accuracy", stream=out)
    assert isinstance(display, ConsoleProgress) and isinstance(display.display, RichProgress)
    _events(display)
    shown = screen(out.getvalue())
    wanted = [line for line in PLAIN.splitlines() if "epoch" not in line]
    assert [line for line in shown if not line.startswith("study ")] == wanted
    assert "2/2 trials" in _line(shown, "study ") and "━" in _line(shown, "study ")


def test_a_dumb_terminal_gets_plain_lines(monkeypatch):
    monkeypatch.setenv("TERM", "dumb")
    assert isinstance(auto_progress("val_accuracy", stream=_Terminal()).display, PlainProgress)


def test_forcing_plain_lines_on_a_terminal_keeps_the_carriage_return_epoch_line():
    out = _Terminal()
    display = auto_progress("val_accuracy", stream=out, live=False)
    display.trial_started(1, 1, 1, {})
    display.epoch_finished(1, 0, 2, {"loss": 1.0})
    display.close()  # ends the line a stopped run left open
    assert out.getvalue().endswith("| best val_accuracy -\n") and "\r  #1 epoch 1/2" in out.getvalue()
    display.close()
    assert out.getvalue().count("\n") == 2


def test_quiet_shows_nothing(capsys):
    display = auto_progress("val_accuracy", quiet=True)
    assert isinstance(display, QuietProgress)
    with display:
        _events(display)
    assert capsys.readouterr() == ("", "")


def test_a_notebook_gets_the_bars_when_it_can_show_widgets(monkeypatch):
    assert not progress_module.in_notebook()  # this process is no Jupyter kernel
    monkeypatch.setattr(progress_module, "in_notebook", lambda: True)
    monkeypatch.setattr(progress_module, "notebook_widgets", lambda: True)
    assert isinstance(auto_progress("val_accuracy").display, RichProgress)
    assert isinstance(auto_progress("val_accuracy", stream=io.StringIO()).display, PlainProgress)
    monkeypatch.setattr(progress_module, "notebook_widgets", lambda: False)  # rich would only warn
    assert isinstance(auto_progress("val_accuracy").display, PlainProgress)


# -- `symtuner run` in a pseudo-terminal -----------------------------------------------------------

DATA_PY = '''
import numpy as np

def tiny():
    rng = np.random.default_rng(0)
    x = rng.random((60, 28, 28, 1), dtype=np.float32)
    y = np.arange(60) % 3
    return x[:48], x[48:], y[:48], y[48:], 3
'''

#: ``symtuner run`` with the simulated trainer in place of Keras training (and no Keras import).
DRIVER = '''
import functools, sys
import symtuner.execution.inprocess
import symtuner.training.quiet
from symtuner.execution.simulate import SimulatedExecutor
symtuner.training.quiet.import_keras_quietly = lambda show=False: None
symtuner.execution.inprocess.InProcessExecutor = functools.partial(SimulatedExecutor, epoch_seconds=float(sys.argv[1]))
from symtuner.app.cli import main
sys.exit(main(sys.argv[2:]))
'''


def _in_terminal(tmp_path: Path, epoch_seconds: float, args: list[str], stop_when: str | None = None,
                 timeout: float = 90) -> tuple[int, str]:
    """Run the command line in a 100-column pseudo-terminal; with ``stop_when``, send SIGTERM once
    that text has been shown. Returns the exit status and everything written to the terminal."""
    import fcntl
    import pty
    import struct
    import termios

    (tmp_path / "data.py").write_text(DATA_PY)
    (tmp_path / "driver.py").write_text(DRIVER)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "40"}
    process = subprocess.Popen([sys.executable, "driver.py", str(epoch_seconds), *args], cwd=tmp_path,
                               stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    signalled = False
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the terminal's other side closed
                    break
                if not data:
                    break
                chunks.append(data)
            if stop_when and not signalled and stop_when in b"".join(chunks).decode("utf-8", "replace"):
                time.sleep(0.1)  # into the next simulated epoch, as a signal at a random moment mostly is
                process.send_signal(signal.SIGTERM)
                signalled = True
        code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_symtuner_run_in_a_terminal_shows_bars_with_an_eta(tmp_path):
    code, written = _in_terminal(tmp_path, 0.05, ["run", "--study-dir", "s", "--dataset", "data.py:tiny",
                                                  "--trials", "3", "--epochs", "4"])
    assert code == 0, written[-2000:]
    shown = screen(written)
    study = _line(shown, "study ")
    assert "3/3 trials" in study and "━" in study and re.search(r"ETA \d+:\d\d:\d\d", study), study
    assert re.search(r"best val_accuracy \d\.\d{4} \(#\d\)", study)
    assert re.search(r"^trial #\d .*\d/4 epochs .*ETA \d+:\d\d:\d\d", written.replace("\r", "\n"), re.M)
    for number in (1, 2, 3):
        assert _line(shown, f"trial {number}/3 (#{number}): unit_c1=")
    assert shown.index(study) < shown.index(_line(shown, "best trial #"))  # the bar is done before the summary
    assert written.count(SHOW_CURSOR) >= 1 and written.rfind(SHOW_CURSOR) > written.rfind("\x1b[?25l")


def test_sigterm_in_a_terminal_takes_the_bars_down(tmp_path):
    code, written = _in_terminal(tmp_path, 0.4, ["run", "--study-dir", "s", "--dataset", "data.py:tiny",
                                                 "--trials", "5", "--epochs", "4"], stop_when="1/4 epochs")
    assert code == 143, written[-2000:]
    shown = screen(written)
    assert "symtuner: stopped by SIGTERM; resume it with 'symtuner resume s'" in shown
    assert "0/5 trials" in _line(shown, "study ")
    assert not any(line.startswith("trial #") for line in shown)  # no bar left for the stopped trial
    assert written.rfind(SHOW_CURSOR) > written.rfind("\x1b[?25l")  # the cursor is back
