"""Live progress bars of a study: trials done of the target, each running trial's epochs, ETAs.

:class:`RichProgress` draws them with ``rich.progress`` on a terminal and in
a Jupyter notebook, and prints the same trial lines as the plain output
(:mod:`symtuner.app.console`) above the bars, so the screen stays a readable log.
:func:`auto_progress` picks what suits where the output goes: bars, plain
lines, or nothing.

The ETAs are the rate since the run started (not since the study started:
a resumed study's earlier trials took no time in this run), counted in
epochs, so a running trial's epochs move the study's bar and its estimate
between trials. Each estimate is a finishing time, so it counts down
between updates instead of freezing.
"""

from __future__ import annotations

import atexit
import importlib.util
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn
from rich.table import Column
from rich.text import Text

from symtuner.app.console import epoch_line, failed_line, result_lines, retried_line, started_line

if TYPE_CHECKING:
    from symtuner.core.records import Trial
    from symtuner.tuning.advisor import Advice

Clock = Callable[[], float]

#: Shown where an estimate cannot be made yet (no epoch finished in this run).
UNKNOWN = "-:--:--"


def live_display_suits(stream: TextIO) -> bool:
    """Whether bars suit ``stream``: a terminal that can move its cursor, or stdout in a notebook
    that can show widgets (rich updates a notebook's bars through ipywidgets)."""
    if _isatty(stream):
        return os.environ.get("TERM", "") != "dumb"
    return stream is sys.stdout and in_notebook() and notebook_widgets()


def notebook_widgets() -> bool:
    """Whether ipywidgets can be imported (without it rich warns on every refresh and draws nothing)."""
    return importlib.util.find_spec("ipywidgets") is not None


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (rich's own test, so bars and detection agree)."""
    if "IPython" not in sys.modules:  # no kernel without IPython: skip building a console
        return False
    return Console().is_jupyter


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False


def format_seconds(seconds: float | None) -> str:
    """``0:01:05``, as rich writes durations; :data:`UNKNOWN` for no estimate."""
    if seconds is None or not math.isfinite(seconds):
        return UNKNOWN
    return str(timedelta(seconds=max(0, math.ceil(seconds))))


def remaining_seconds(elapsed: float, done: float, total: float, done_at_start: float = 0.0) -> float | None:
    """Seconds until ``total`` at the rate since the start (None before any progress)."""
    made = done - done_at_start
    if made <= 0 or elapsed <= 0:
        return None
    return max(0.0, total - done) * elapsed / made


class _ElapsedColumn(ProgressColumn):
    """Time since the task's ``since`` field, on the display's clock (frozen once it is ``done``)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        super().__init__(table_column=Column(no_wrap=True))

    def render(self, task: Task) -> Text:
        end = task.fields.get("ended") or self._clock()
        return Text(format_seconds(end - task.fields["since"]), style="progress.elapsed")


class _EtaColumn(ProgressColumn):
    """``ETA 0:00:12``: the time left until the task's estimated ``finish_at``."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        super().__init__(table_column=Column(no_wrap=True))

    def render(self, task: Task) -> Text:
        finish_at = task.fields.get("finish_at")
        left = None if finish_at is None else finish_at - self._clock()
        return Text(f"ETA {format_seconds(left)}", style="progress.remaining")


@dataclass
class _Running:
    """A trial on a bar: its task, when it started, epochs done of how many."""

    task: TaskID
    since: float
    done: int = 0
    epochs: int = 0


class _Ticker(threading.Thread):
    """Refreshes the bars every ``interval`` seconds (their clocks and ETAs), holding the write lock."""

    def __init__(self, bars: Progress, lock: Any, interval: float) -> None:
        super().__init__(name="symtuner-progress", daemon=True)
        self.bars, self.lock, self.interval = bars, lock, interval
        self._halted = threading.Event()

    def run(self) -> None:
        while not self._halted.wait(self.interval):
            with self.lock:
                if not self._halted.is_set():
                    self.bars.refresh()

    def halt(self) -> None:
        self._halted.set()
        if self is not threading.current_thread():
            self.join(timeout=5)


class RichProgress:
    """A study's bar and one bar per running trial, with the trial lines printed above them.

    Implements the loop's ``Progress`` protocol, plus :meth:`study_started`
    (the targets and what earlier runs did; without it the bar's total comes
    from ``trial_started``'s ``total``) and :meth:`close`. The display starts
    at the first event and stops by itself once the target is reached;
    :meth:`close` stops it in every other case (a failure, Ctrl-C, SIGTERM)
    and may be called any number of times. After a close the object can show
    another run. ``clock`` and ``auto_refresh`` are for tests.
    """

    def __init__(self, objective: str, console: Console | None = None, *, epoch_lines: bool = False,
                 clock: Clock = time.monotonic, auto_refresh: bool = True, refresh_per_second: float = 4) -> None:
        self.objective = objective
        self.console = console or Console()
        self.epoch_lines = epoch_lines
        self._clock = clock
        self._auto_refresh = auto_refresh
        self._refresh_per_second = refresh_per_second
        self._bars: Progress | None = None
        self._study: TaskID | None = None
        # every write to the terminal (a printed line, a refresh of the bars) holds this lock: rich's own
        # refresh thread renders the bars concurrently with console.print, and the two then disagree about
        # where the bars are (a line above them overwritten, a stale bar left between the lines)
        self._writing = threading.RLock()
        self._ticker: _Ticker | None = None
        self._reset()

    def _reset(self) -> None:
        """Forget the run: targets, counts and the start of the rate."""
        self._target_trials: int | None = None
        self._budget: int | None = None
        self._epochs = 0  # epochs per trial, once known
        self._finished = 0  # finished trials (complete or failed) in the study
        self._epochs_used = 0  # epochs the finished trials ran, counted for an epoch budget
        self._best: Trial | None = None
        self._running: dict[int, _Running] = {}
        self._since: float | None = None  # when this run started
        self._done_at_start: float | None = None  # the study's fraction done then
        self._warned: set[str] = set()  # HPs the network never read, already named

    def set_objective(self, objective: str) -> None:
        """Name the objective shown (a study's ``auto`` objective is resolved when its data is loaded)."""
        self.objective = objective

    # -- the Progress protocol --------------------------------------------
    def study_started(self, target_trials: int | None, budget_epochs: int | None, epochs: int, finished: int,
                      epochs_used: int) -> None:
        """The run's targets (either may be None) and what the study had done before it."""
        self._target_trials = target_trials or None
        self._budget = budget_epochs or None
        self._epochs = epochs
        self._finished = finished
        self._epochs_used = epochs_used
        self._start_rate()
        self._update_study()

    def trial_started(self, number: int, index: int, total: int, params: dict[str, Any]) -> None:
        # the loop counts ``index`` from the finished and running trials: the finished count resyncs
        # here (a failure reported with trial_failed may have been one to rerun)
        self._finished = max(0, index - 1 - len(self._running))
        if self._target_trials is None and self._budget is None and total:
            self._target_trials = total
        self._start_rate()
        self._print(started_line(number, index, total, params))
        self._trial(number)
        self._update_study()

    def epoch_finished(self, number: int, epoch: int, epochs: int, logs: dict[str, float]) -> None:
        self._epochs = self._epochs or epochs
        trial = self._trial(number)
        self._epochs_used += epoch + 1 - trial.done
        trial.done, trial.epochs = epoch + 1, epochs
        if self.epoch_lines:
            best = self._best.objective if self._best is not None else None
            self._print(epoch_line(number, epoch, epochs, logs, self.objective, best))
        bars = self._display()
        elapsed = self._clock() - trial.since
        left = remaining_seconds(elapsed, trial.done, epochs)
        bars.update(trial.task, completed=trial.done, total=epochs, count=f"{trial.done}/{epochs} epochs",
                    note=f"{self.objective} {_short(logs.get(self.objective))}",
                    finish_at=None if left is None else self._clock() + left)
        self._update_study()

    def trial_finished(self, trial: Trial, best: Trial | None, advice: Advice | None) -> None:
        self._best = best
        self._end_trial(trial.number, trial.extra.get("epochs_run"))
        for line in result_lines(trial, best, advice, self.objective, self._warned):
            self._print(line)
        self._update_study()
        self._stop_when_done()

    def trial_failed(self, number: int, error: str) -> None:
        self._end_trial(number, None)
        self._print(failed_line(number, error))
        self._update_study()
        self._stop_when_done()

    def trial_retried(self, number: int, error: str) -> None:
        """A trial whose worker was lost: it runs again, so it is not one more finished trial."""
        self._end_trial(number, None)
        self._finished -= 1
        self._print(retried_line(number, error))
        self._update_study()

    def close(self) -> None:
        """Take the display down (the study's bar stays as the last line) and forget the run."""
        self._stop()
        self._reset()

    def __enter__(self) -> RichProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the display --------------------------------------------------------
    def _display(self) -> Progress:
        """The live display, started at the first use (and again after a stop)."""
        if self._bars is None:
            bars = Progress(TextColumn("{task.description}", table_column=Column(no_wrap=True, min_width=9)),
                            BarColumn(bar_width=24),
                            TextColumn("{task.fields[count]}", table_column=Column(no_wrap=True)),
                            _ElapsedColumn(self._clock), _EtaColumn(self._clock),
                            TextColumn("{task.fields[note]}", markup=False, table_column=Column(no_wrap=True)),
                            console=self.console, get_time=self._clock, auto_refresh=False)
            self._start_rate()
            self._study = bars.add_task("study", total=None, count="", note="", since=self._since,
                                        finish_at=None, ended=None)
            for number, trial in self._running.items():
                trial.task = bars.add_task(f"trial #{number}", total=trial.epochs or None, count="", note="",
                                           since=trial.since, finish_at=None, ended=None)
            with self._writing:
                bars.start()
            atexit.register(self._stop)  # a process that ends without close() gets its cursor back
            self._bars = bars
            if self._auto_refresh:
                self._ticker = _Ticker(bars, self._writing, 1.0 / self._refresh_per_second)
                self._ticker.start()
        return self._bars

    def _stop(self) -> None:
        bars, self._bars = self._bars, None
        if bars is None:
            return
        atexit.unregister(self._stop)
        ticker, self._ticker = self._ticker, None
        if ticker is not None:
            ticker.halt()
        for trial in self._running.values():
            bars.remove_task(trial.task)
        if self._study is not None:
            bars.update(self._study, ended=self._clock())
        with self._writing:
            bars.stop()

    def _stop_when_done(self) -> None:
        """Stop once the target is reached and nothing runs, so what follows prints below the bar."""
        if self._running or self._fraction() < 1:
            return
        self._stop()

    def _print(self, line: str) -> None:
        bars = self._display()
        with self._writing:
            bars.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def _trial(self, number: int) -> _Running:
        """The running trial's bar (made here when its start was not seen)."""
        trial = self._running.get(number)
        if trial is None:
            bars = self._display()
            now = self._clock()
            trial = _Running(bars.add_task(f"trial #{number}", total=self._epochs or None,
                                           count=f"0/{self._epochs} epochs" if self._epochs else "",
                                           note="", since=now, finish_at=None, ended=None), now)
            self._running[number] = trial
        return trial

    def _end_trial(self, number: int, epochs_run: Any) -> None:
        trial = self._running.pop(number, None)
        if trial is not None:
            if isinstance(epochs_run, int):  # what the trial really ran (the last epochs may not have reported)
                self._epochs_used += max(0, epochs_run - trial.done)
            if self._bars is not None:
                self._bars.remove_task(trial.task)
        self._finished += 1

    # -- the study's bar ----------------------------------------------------
    def _start_rate(self) -> None:
        if self._since is None:
            self._since = self._clock()
        if self._done_at_start is None:
            self._done_at_start = self._fraction()

    def _fraction(self) -> float:
        """How much of the target is done, 0 to 1 (the nearer of the trial count and the epoch
        budget, since the run ends at whichever comes first); 0 without a target."""
        parts = []
        if self._target_trials:
            partial = sum(t.done / t.epochs for t in self._running.values() if t.epochs)
            parts.append((self._finished + partial) / self._target_trials)
        if self._budget:
            parts.append(self._epochs_used / self._budget)
        return min(1.0, max(parts, default=0.0))

    def _counts(self) -> str:
        """``3/10 trials``, ``37/150 epochs, 4 trials`` or ``4 trials``."""
        shown = []
        if self._budget:
            shown.append(f"{self._epochs_used}/{self._budget} epochs")
        trials = f"{self._finished}/{self._target_trials}" if self._target_trials else str(self._finished)
        shown.append(f"{trials} trial{'' if trials == '1' else 's'}")
        return ", ".join(shown)

    def _update_study(self) -> None:
        bars = self._display()
        assert self._study is not None and self._since is not None and self._done_at_start is not None
        fraction = self._fraction()
        has_target = bool(self._target_trials or self._budget)
        left = remaining_seconds(self._clock() - self._since, fraction, 1.0, self._done_at_start) \
            if has_target else None
        best = self._best
        note = f"best {self.objective} {_short(best.objective)} (#{best.number})" \
            if best is not None and best.objective is not None else ""
        bars.update(self._study, completed=fraction if has_target else 0, total=1.0 if has_target else None,
                    count=self._counts(), note=note, since=self._since,
                    finish_at=None if left is None else self._clock() + left)
        with self._writing:
            bars.refresh()  # show the event now, not at the next tick


def _short(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.4f}"
