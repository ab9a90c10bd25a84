"""Text output for the terminal: live progress and the trial table."""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from symtuner.advisor import Advice
from symtuner.hypotheses import change_states, state_word
from symtuner.records import Trial
from symtuner.space import Categorical, Dimension, Integer
from symtuner.storage import ActionRecord, TuningVersion, Verdict


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e-3 or abs(value) >= 1e4 else f"{value:.{digits}f}"
    return str(value)


class ConsoleProgress:
    """Prints trial i of N, the epoch, the current and best objective, and each diagnosis."""

    def __init__(self, objective: str, stream: TextIO | None = None) -> None:
        self.objective = objective
        self.stream = stream or sys.stdout
        self._live = self.stream.isatty()
        self._best: float | None = None
        self._running: set[int] = set()

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def trial_started(self, number: int, index: int, total: int, params: dict[str, Any]) -> None:
        shown = ", ".join(f"{k}={_fmt(v, 3)}" for k, v in params.items())
        counted = f"{index}/{total}" if total else str(index)
        self._running.add(number)
        self._print(f"trial {counted} (#{number}): {shown}")

    def epoch_finished(self, number: int, epoch: int, epochs: int, logs: dict[str, float]) -> None:
        parallel = len(self._running) > 1  # several trials report: say whose epoch it is, one line each
        line = (f"  {'#' + str(number) + ' ' if parallel else ''}epoch {epoch + 1}/{epochs}  loss {_fmt(logs.get('loss'))}  acc {_fmt(logs.get('accuracy'))}"
                f"  val_loss {_fmt(logs.get('val_loss'))}  val_acc {_fmt(logs.get('val_accuracy'))}"
                f"  | best {self.objective} {_fmt(self._best)}")
        if self._live and not parallel:
            print("\r" + line, end="", file=self.stream, flush=True)
        else:
            self._print(line)

    def trial_finished(self, trial: Trial, best: Trial | None, advice: Advice | None) -> None:
        if self._live and len(self._running) <= 1:
            print(file=self.stream)
        self._running.discard(trial.number)
        self._best = best.objective if best else None
        self._print(f"  -> {self.objective} {_fmt(trial.objective)}  test acc {_fmt(trial.test_accuracy)}  "
                    f"({_fmt(trial.train_seconds, 3)} s)  best so far #{best.number if best else '-'} "
                    f"{_fmt(self._best)}")
        if trial.extra.get("stopped"):
            self._print(f"  stopped early: {trial.extra['stopped']}")
        if advice is not None:
            self._print(f"  diagnosis: {advice.diagnosis.explanation}")
            for record in advice.actions:
                mark = "applied" if record.applied else "skipped"
                self._print(f"  action {record.name} ({mark}): {record.detail}")

    def trial_failed(self, number: int, error: str) -> None:
        if self._live and len(self._running) <= 1:
            print(file=self.stream)
        self._running.discard(number)
        self._print(f"  -> trial #{number} failed: {error}")


def trial_table(trials: Sequence[Trial], actions: Sequence[ActionRecord], objective: str,
                states: Mapping[int, Verdict | None] | None = None) -> str:
    """The status table: one row per trial, with problems and applied actions (and their state)."""
    applied: dict[int, list[str]] = {}
    for record in actions:
        if record.applied:
            applied.setdefault(record.trial, []).append(record.name)
    for trial, verdict in (states or {}).items():
        if trial in applied:
            applied[trial][-1] += f" [{state_word(verdict)}]"
    header = ["#", "state", objective, "test_acc", "epochs", "secs", "problems", "actions applied"]
    rows = [header]
    for t in trials:
        problems = ",".join(t.diagnosis.problems) if t.diagnosis else ""
        if t.diagnosis and not t.diagnosis.problems:
            problems = "none"
        rows.append([str(t.number), t.state, _fmt(t.objective), _fmt(t.test_accuracy),
                     _fmt(t.extra.get("epochs_run")), _fmt(t.train_seconds, 3), problems,
                     ",".join(applied.get(t.number, [])) or ""])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def describe_trial(trial: Trial) -> str:
    lines = [f"trial #{trial.number}: {trial.state}"]
    lines.append("  params: " + ", ".join(f"{k}={_fmt(v, 4)}" for k, v in trial.params.items()))
    if trial.model_path:
        lines.append(f"  model: {trial.model_path}")
    if trial.log_dir:
        lines.append(f"  TensorBoard logs: {trial.log_dir}")
    if trial.error:
        lines.append(f"  error: {trial.error}")
    return "\n".join(lines)


def describe_dimension(dim: Dimension) -> str:
    """``learning_rate  real [5.4e-05, 0.00054] log-uniform`` and the like."""
    if isinstance(dim, Categorical):
        return f"{dim.name:<14} cat  {list(dim.categories)}"
    kind = "int " if isinstance(dim, Integer) else "real"
    prior = " log-uniform" if dim.prior == "log-uniform" else ""
    return f"{dim.name:<14} {kind} [{_fmt(dim.low, 3)}, {_fmt(dim.high, 3)}]{prior}"


def changes_summary(versions: Sequence[TuningVersion], verdicts: Mapping[int, Verdict]) -> str:
    """One line per change the actions made: applied after which trial, kept, reverted or under test."""
    states = change_states(versions, verdicts)
    reverts = {x.restored_by for x in verdicts.values()}
    by_trial = {v.after_trial: v for v in versions if v.after_trial in states and v.version not in reverts}
    lines = []
    for trial, verdict in sorted(states.items()):
        version = by_trial[trial]
        why = f": {verdict.reason}" if verdict is not None else ""
        when = f" after trial {verdict.after_trial}" if verdict is not None else ""
        lines.append(f"  version {version.version} ({version.reason}): {state_word(verdict)}{when}{why}")
    return "changes:\n" + "\n".join(lines) if lines else "changes: none"


def tuning_summary(versions: Sequence[TuningVersion]) -> str:
    latest = versions[-1]
    lines = [f"search space version {latest.version} ({latest.reason}):"]
    for dim in latest.space.dimensions:
        lines.append(f"  {describe_dimension(dim)}")
    changes = latest.architecture.describe()
    lines.append("architecture changes: " + (", ".join(changes) if changes else "none"))
    return "\n".join(lines)
