"""The progress display of a run: plain lines, or live bars (:mod:`symtuner.app.progress`) where the
stream suits them, or nothing; :func:`auto_progress` picks."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from symtuner.app.console import epoch_line, failed_line, result_lines, retried_line, started_line
from symtuner.app.progress import RichProgress, live_display_suits
from symtuner.core.records import Trial
from symtuner.study.observer import SilentProgress
from symtuner.tuning.advisor import Advice


class PlainProgress:
    """Prints trial i of N, each epoch, the current and best objective, and each diagnosis, as lines.

    The output for a pipe, a log file or CI: one line per event, nothing
    redrawn. On a terminal (without the live display) a single running
    trial's epoch line is rewritten in place with a carriage return.
    """

    def __init__(self, objective: str, stream: TextIO | None = None) -> None:
        self.objective = objective
        self.stream = stream or sys.stdout
        self._live = self.stream.isatty()
        self._best: float | None = None
        self._running: set[int] = set()
        self._line_open = False  # an epoch line written with \r and no newline yet
        self._warned: set[str] = set()  # HPs the network never read, already named

    def set_objective(self, objective: str) -> None:
        """Name the objective shown (a study's ``auto`` objective is resolved when its data is loaded)."""
        self.objective = objective

    def _print(self, text: str) -> None:
        self._end_open_line()
        print(text, file=self.stream, flush=True)

    def _end_open_line(self) -> None:
        if self._line_open:
            print(file=self.stream, flush=True)
            self._line_open = False

    def study_started(self, target_trials: int | None, budget_epochs: int | None, epochs: int, finished: int,
                      epochs_used: int) -> None:
        """Nothing to print: the trial lines say ``trial i/N`` already."""

    def trial_started(self, number: int, index: int, total: int, params: dict[str, Any]) -> None:
        self._running.add(number)
        self._print(started_line(number, index, total, params))

    def epoch_finished(self, number: int, epoch: int, epochs: int, logs: dict[str, float]) -> None:
        parallel = len(self._running) > 1  # several trials report: one line each, none rewritten
        line = epoch_line(number, epoch, epochs, logs, self.objective, self._best)
        if self._live and not parallel:
            print("\r" + line, end="", file=self.stream, flush=True)
            self._line_open = True
        else:
            self._print(line)

    def trial_finished(self, trial: Trial, best: Trial | None, advice: Advice | None) -> None:
        self._running.discard(trial.number)
        self._best = best.objective if best else None
        for line in result_lines(trial, best, advice, self.objective, self._warned):
            self._print(line)

    def trial_failed(self, number: int, error: str) -> None:
        self._running.discard(number)
        self._print(failed_line(number, error))

    def trial_retried(self, number: int, error: str) -> None:
        self._running.discard(number)
        self._print(retried_line(number, error))

    def close(self) -> None:
        """End an epoch line left open (a run stopped mid-trial); safe to call again."""
        self._end_open_line()

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ConsoleProgress:
    """The progress of a study on ``stream`` (stdout by default), shown the way the stream suits.

    ``live=None`` chooses: progress bars with ETAs (:class:`symtuner.app.progress.RichProgress`) on a
    terminal or in a Jupyter notebook, the plain lines of :class:`PlainProgress` anywhere else (a
    pipe, a log file, CI), so logs and tests that read the lines see the same text as always.
    ``live=True`` / ``False`` decide instead. ``epoch_lines`` also prints one line per epoch above
    the bars (plain lines always have them). Call :meth:`close` (or use it as a context manager)
    when the run ends, however it ends, to take the live display down.
    """

    def __init__(self, objective: str, stream: TextIO | None = None, live: bool | None = None,
                 epoch_lines: bool = False) -> None:
        self.objective = objective
        self.stream = stream or sys.stdout
        self.live = live_display_suits(self.stream) if live is None else live
        self.display: RichProgress | PlainProgress
        if self.live:
            from rich.console import Console

            console = Console(file=None if self.stream is sys.stdout else self.stream)
            self.display = RichProgress(objective, console, epoch_lines=epoch_lines)
        else:
            self.display = PlainProgress(objective, self.stream)

    def set_objective(self, objective: str) -> None:
        """Name the objective shown (a study's ``auto`` objective is resolved when its data is loaded)."""
        self.objective = objective
        self.display.set_objective(objective)

    def study_started(self, target_trials: int | None, budget_epochs: int | None, epochs: int, finished: int,
                      epochs_used: int) -> None:
        self.display.study_started(target_trials, budget_epochs, epochs, finished, epochs_used)

    def trial_started(self, number: int, index: int, total: int, params: dict[str, Any]) -> None:
        self.display.trial_started(number, index, total, params)

    def epoch_finished(self, number: int, epoch: int, epochs: int, logs: dict[str, float]) -> None:
        self.display.epoch_finished(number, epoch, epochs, logs)

    def trial_finished(self, trial: Trial, best: Trial | None, advice: Advice | None) -> None:
        self.display.trial_finished(trial, best, advice)

    def trial_failed(self, number: int, error: str) -> None:
        self.display.trial_failed(number, error)

    def trial_retried(self, number: int, error: str) -> None:
        self.display.trial_retried(number, error)

    def close(self) -> None:
        self.display.close()

    def __enter__(self) -> ConsoleProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class QuietProgress(SilentProgress):
    """Shows nothing (``--quiet``); a context manager like the displays, so callers need not tell them apart."""

    def __enter__(self) -> QuietProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def auto_progress(objective: str, *, quiet: bool = False, verbose: bool = False, live: bool | None = None,
                  stream: TextIO | None = None) -> ConsoleProgress | QuietProgress:
    """The progress display for a run of ``symtuner run`` or a notebook cell.

    ``quiet``: nothing. Otherwise bars on a terminal or in a notebook and plain
    lines elsewhere (``live`` True or False forces one); ``verbose`` adds a line
    per epoch above the bars. Use it as a context manager, or call ``close()``
    when the run ends, however it ends.
    """
    if quiet:
        return QuietProgress()
    return ConsoleProgress(objective, stream, live=live, epoch_lines=verbose)
