"""Text output for the terminal: the progress lines of a run and the trial table.

The live bars are in :mod:`symtuner.app.progress`; both print the same trial lines.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from symtuner.core.costs import over_text
from symtuner.core.formatting import fmt as _fmt
from symtuner.core.formatting import param_text
from symtuner.core.records import ActionRecord, Trial, TuningVersion, Verdict
from symtuner.core.space import describe_dimension
from symtuner.symbolic.explain import NOT_JUDGED
from symtuner.tuning.advisor import Advice
from symtuner.tuning.hypotheses import change_states, state_word


def started_line(number: int, index: int, total: int, params: Mapping[str, Any]) -> str:
    """``trial 3/10 (#3): unit_c1=56, ...``: the line a trial's start prints (``total`` 0: no target count)."""
    shown = ", ".join(f"{k}={param_text(v)}" for k, v in params.items())
    counted = f"{index}/{total}" if total else str(index)
    return f"trial {counted} (#{number}): {shown}"


def epoch_line(number: int, epoch: int, epochs: int, logs: Mapping[str, float], objective: str,
               best: float | None) -> str:
    """``  #3 epoch 2/4  loss ...``: one epoch's metrics and the best objective so far, with its trial's number
    (with several workers, the epochs of different trials come in any order)."""
    scores = f"loss {_fmt(logs.get('loss'))}"
    if "accuracy" in logs or "val_accuracy" in logs:
        scores += f"  acc {_fmt(logs.get('accuracy'))}"
    scores += f"  val_loss {_fmt(logs.get('val_loss'))}"
    if "accuracy" in logs or "val_accuracy" in logs:
        scores += f"  val_acc {_fmt(logs.get('val_accuracy'))}"
    if objective not in ("val_loss", "val_accuracy"):
        scores += f"  {objective} {_fmt(logs.get(objective))}"
    return f"  #{number} epoch {epoch + 1}/{epochs}  {scores}  | best {objective} {_fmt(best)}"


def result_lines(trial: Trial, best: Trial | None, advice: Advice | None, objective: str,
                 warned: set[str] | None = None) -> list[str]:
    """What a finished trial prints: its result, why it stopped early, its diagnosis and actions.

    Every line starts with the trial's number: with several workers, a trial
    finishes under the lines of the trials started after it. HPs the network
    never read are warned about once: ``warned`` holds those already named
    (and is updated).
    """
    test = f"test acc {_fmt(trial.test_accuracy)}" if trial.test_accuracy is not None and \
        math.isfinite(trial.test_accuracy) else f"test loss {_fmt(trial.test_loss)}"
    lines = [f"-> {objective} {_fmt(trial.objective)}  {test}  "
             f"({_fmt(trial.train_seconds, 3)} s)  best so far #{best.number if best else '-'} "
             f"{_fmt(best.objective if best else None)}"]
    if trial.extra.get("stopped"):
        lines.append(f"stopped early: {trial.extra['stopped']}")
    if trial.extra.get("over_limits"):
        what = "infeasible, never the best" if trial.infeasible else "objective penalised"
        lines.append(f"over the limits ({what}): {over_text(trial.extra)}")
    if trial.extra.get("ignored_changes"):
        lines.append(f"ignored by the network (undone, not applied again): "
                     f"{'; '.join(trial.extra['ignored_changes'])}")
    unread = [name for name in trial.extra.get("unread_params", ()) if warned is None or name not in warned]
    if unread:
        lines.append(f"warning: the network never read {', '.join(unread)}: tuned for nothing (read them in the "
                     "network function, or take them out of the search space)")
        if warned is not None:
            warned.update(unread)
    if advice is not None:
        lines.append(f"diagnosis: {advice.diagnosis.explanation}")
        if advice.diagnosis.skipped:
            lines.append(f"skipped: {'; '.join(advice.diagnosis.skipped)}")
        for record in advice.actions:
            mark = "applied" if record.applied else "skipped"
            lines.append(f"action {record.name} ({mark}): {record.detail}")
    return [f"  #{trial.number} {line}" for line in lines]


def failed_line(number: int, error: str) -> str:
    return f"  #{number} -> failed: {error}"


def retried_line(number: int, error: str) -> str:
    """A trial whose worker was lost: it is not failed, it runs again."""
    return f"  #{number} -> lost its worker ({error}); it will run again"


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
    accuracies = any(t.test_accuracy is not None and math.isfinite(t.test_accuracy) for t in trials)
    has_loss = any(t.test_loss is not None for t in trials)
    test_column = "test_acc" if accuracies or not has_loss else "test_loss"
    header = ["#", "state", objective, test_column, "epochs", "secs", "problems", "actions applied"]
    rows = [header]
    for t in trials:
        problems = ",".join(t.diagnosis.problems) if t.diagnosis else ""
        if t.diagnosis and not t.diagnosis.problems:
            problems = NOT_JUDGED if t.diagnosis.explanation.startswith(NOT_JUDGED) else "none"
        rows.append([str(t.number), t.state, _fmt(t.objective),
                     _fmt(t.test_accuracy if test_column == "test_acc" else t.test_loss),
                     _fmt(t.extra.get("epochs_run")), _fmt(t.train_seconds, 3), problems,
                     ",".join(applied.get(t.number, [])) or ""])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def describe_trial(trial: Trial) -> str:
    lines = [f"trial #{trial.number}: {trial.state}"]
    lines.append("  params: " + ", ".join(f"{k}={param_text(v)}" for k, v in trial.params.items()))
    if trial.model_path:
        lines.append(f"  model: {trial.model_path}")
    if trial.log_dir:
        lines.append(f"  TensorBoard logs: {trial.log_dir}")
    if trial.error:
        lines.append(f"  error: {trial.error}")
    if trial.extra.get("ignored_changes"):
        lines.append(f"  ignored by the network: {'; '.join(trial.extra['ignored_changes'])}")
    return "\n".join(lines)


def changes_summary(versions: Sequence[TuningVersion], verdicts: Mapping[int, Verdict],
                    notes: Mapping[tuple[int, str, str], str] | None = None) -> str:
    """One line per change the actions made: applied after which trial, kept, reverted, undecided or under test;
    under it the ``notes`` on its actions (:func:`~symtuner.tuning.hypotheses.kept_weight_notes`)."""
    states = change_states(versions, verdicts)
    reverts = {x.restored_by for x in verdicts.values()}
    by_trial = {v.after_trial: v for v in versions if v.after_trial in states and v.version not in reverts}
    lines = []
    for trial, verdict in sorted(states.items()):
        version = by_trial[trial]
        why = f": {verdict.reason}" if verdict is not None else ""
        when = f" after trial {verdict.after_trial}" if verdict is not None else ""
        lines.append(f"  version {version.version} ({version.reason}): {state_word(verdict)}{when}{why}")
        lines += [f"    {name}: {note}" for (after, name, _), note in (notes or {}).items() if after == trial]
    return "changes:\n" + "\n".join(lines) if lines else "changes: none"


def tuning_summary(versions: Sequence[TuningVersion]) -> str:
    latest = versions[-1]
    lines = [f"search space version {latest.version} ({latest.reason}):"]
    for dim in latest.space.dimensions:
        lines.append(f"  {describe_dimension(dim, width=14)}")
    changes = latest.architecture.describe()
    lines.append("architecture changes: " + (", ".join(changes) if changes else "none"))
    return "\n".join(lines)
