"""Table contents of a study, as plain rows of text shared by the app and the report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from symtuner.app.dashboard.data import StudySnapshot, fmt, is_number
from symtuner.app.dashboard.layer_shapes import count_text
from symtuner.app.dashboard.model_summary import LayerInfo, total_params
from symtuner.core.formatting import param_text
from symtuner.core.records import Trial
from symtuner.core.space import Categorical
from symtuner.storage import ActionRecord, TuningVersion, Verdict
from symtuner.symbolic.explain import NOT_JUDGED
from symtuner.tuning.hypotheses import state_word


@dataclass(frozen=True)
class Table:
    """Column names and rows of cell text."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


_TRIAL_COLUMNS = ("trial", "state", "version", "objective", "val_accuracy", "val_loss", "test_accuracy",
                  "epochs", "seconds", "problems", "actions applied")


def trials_table(snapshot: StudySnapshot) -> Table:
    """One row per trial: its state, results, diagnosis and every hyper-parameter."""
    names: list[str] = []
    for version in snapshot.versions:
        names += [n for n in version.space.names if n not in names]
    for trial in snapshot.trials:
        names += [n for n in trial.params if n not in names]
    applied: dict[int, list[str]] = {}
    for action in snapshot.actions:
        if action.applied:
            applied.setdefault(action.trial, []).append(action.name)
    rows = []
    for trial in snapshot.trials:
        problems = ", ".join(trial.diagnosis.problems) if trial.diagnosis else ""
        state = trial.state + (f" ({trial.error})" if trial.error else "")
        rows.append((str(trial.number), state, str(trial.tuning_version), fmt(trial.objective),
                     fmt(trial.val_accuracy), fmt(trial.extra.get("val_loss")), fmt(trial.test_accuracy),
                     fmt(trial.extra.get("epochs_run") or (trial.curve.n_epochs if trial.curve else None)),
                     fmt(trial.train_seconds, 3), problems or "-", ", ".join(applied.get(trial.number, [])) or "-")
                    + tuple(fmt(trial.params.get(name)) for name in names))
    return Table(_TRIAL_COLUMNS + tuple(names), tuple(rows))


@dataclass(frozen=True)
class Records:
    """Rows as column-to-value maps with the raw values, for a table that sorts and filters them.

    ``numeric`` names the columns whose values are numbers (or None), which
    sort and filter as numbers (``> 0.9``); the other columns hold text.
    """

    columns: tuple[str, ...]
    numeric: frozenset[str]
    rows: tuple[dict[str, Any], ...]


_NUMERIC_TRIAL_COLUMNS = frozenset({"trial", "version", "objective", "val_accuracy", "val_loss", "test_accuracy",
                                    "epochs", "seconds"})


def trials_records(snapshot: StudySnapshot) -> Records:
    """:func:`trials_table`'s rows with numbers kept as numbers; an HP column is numeric if all its values are."""
    table = trials_table(snapshot)
    names = table.columns[len(_TRIAL_COLUMNS):]
    params = {name: [t.params.get(name) for t in snapshot.trials] for name in names}
    numeric_params = {name for name, values in params.items()
                      if all(v is None or is_number(v) for v in values)}
    rows = []
    for index, (trial, cells) in enumerate(zip(snapshot.trials, table.rows)):
        row: dict[str, Any] = dict(zip(table.columns, cells))
        epochs = trial.extra.get("epochs_run") or (trial.curve.n_epochs if trial.curve else None)
        row.update({"trial": trial.number, "version": trial.tuning_version, "objective": _number(trial.objective),
                    "val_accuracy": _number(trial.val_accuracy), "val_loss": _number(trial.extra.get("val_loss")),
                    "test_accuracy": _number(trial.test_accuracy), "epochs": _number(epochs),
                    "seconds": _number(trial.train_seconds)})
        row.update({name: _number(params[name][index]) for name in numeric_params})
        rows.append(row)
    return Records(table.columns, _NUMERIC_TRIAL_COLUMNS | frozenset(numeric_params), tuple(rows))


def _number(value: Any) -> float | int | None:
    return value if is_number(value) else None


def versions_table(versions: Sequence[TuningVersion]) -> Table:
    """One row per tuning version: when it started, why, its bounds and architecture changes."""
    rows = []
    for version in versions:
        bounds = []
        for dim in version.space.dimensions:
            if isinstance(dim, Categorical):
                bounds.append(f"{dim.name} ∈ {{{', '.join(str(c) for c in dim.categories)}}}")
            else:
                own = "".join(f"; {getattr(dim, 'given', '')} {choice}: [{param_text(low)}, {param_text(high)}]"
                              for choice, low, high in getattr(dim, "ranges", ()))
                bounds.append(f"{dim.name} ∈ [{param_text(dim.low)}, {param_text(dim.high)}]"
                              + (f" ({own[2:]})" if own else ""))
        after = "start" if version.after_trial is None else f"after trial {version.after_trial}"
        rows.append((str(version.version), after, version.reason, "; ".join(bounds),
                     ", ".join(version.architecture.describe()) or "base network"))
    return Table(("version", "made", "reason", "search space", "architecture"), tuple(rows))


def actions_table(actions: Sequence[ActionRecord], states: Mapping[int, Verdict | None] | None = None,
                  notes: Mapping[tuple[int, str, str], str] | None = None) -> Table:
    """One row per chosen action; an applied one shows its change's state (kept, reverted, under test),
    and ``notes`` (:func:`~symtuner.tuning.hypotheses.kept_weight_notes`) why a kept one's rule weighs less."""
    states, notes = states or {}, notes or {}

    def state(a: ActionRecord) -> str:
        if not a.applied:
            return "not applied"
        if a.trial not in states:
            return "applied"
        verdict = states[a.trial]
        text = state_word(verdict) + (f" after trial {verdict.after_trial}: {verdict.reason}" if verdict else "")
        note = notes.get((a.trial, a.name, a.problem))
        return f"{text}; {note}" if note else text

    rows = tuple((str(a.trial), a.problem, a.name, f"{a.probability:.3f}", state(a), a.detail) for a in actions)
    return Table(("after trial", "problem", "action", "probability", "state", "detail"), rows)


def study_actions_table(snapshot: StudySnapshot) -> Table:
    """:func:`actions_table` of a study: states and weight notes from its verdicts, weights and trials."""
    from symtuner.tuning.evidence import next_trial_outcomes, stored_task_facts
    from symtuner.tuning.hypotheses import change_states, kept_weight_notes

    states = change_states(snapshot.versions, snapshot.verdicts)
    now = snapshot.weights[max(snapshot.weights)] if snapshot.weights else {}
    outcomes = next_trial_outcomes(snapshot.trials, snapshot.maximize, stored_task_facts(snapshot.data, snapshot.settings),
                                   snapshot.versions, snapshot.verdicts)
    notes = kept_weight_notes(snapshot.actions, states, now, outcomes)
    return actions_table(snapshot.actions, states, notes)


@dataclass(frozen=True)
class DiagnosisEntry:
    """What the symbolic component said about one trial."""

    trial: int
    title: str
    problems: tuple[str, ...]
    facts: Table
    actions: Table
    explanation: str
    skipped: tuple[str, ...]
    #: "no problem found", or "not judged" (a curve too short to judge), for a trial without problems
    verdict: str = "no problem found"


def diagnosis_entries(trials: Sequence[Trial]) -> list[DiagnosisEntry]:
    """The diagnosed trials, newest first."""
    out = []
    for trial in reversed(trials):
        diagnosis = trial.diagnosis
        if diagnosis is None:
            continue
        verdict = NOT_JUDGED if diagnosis.explanation.startswith(NOT_JUDGED) else "no problem found"
        problems = ", ".join(diagnosis.problems) or verdict
        chosen = ", ".join(a.name for a in diagnosis.actions) or "no action"
        facts = Table(("fact", "value"), tuple((k, _cut(fmt(v))) for k, v in diagnosis.facts.items()))
        actions = Table(("action", "problem", "probability"),
                        tuple((a.name, a.problem, f"{a.probability:.3f}") for a in diagnosis.actions))
        out.append(DiagnosisEntry(trial.number, f"Trial {trial.number}: {problems} → {chosen}",
                                  diagnosis.problems, facts, actions, diagnosis.explanation, diagnosis.skipped,
                                  verdict))
    return out


def layers_table(layers: Sequence[LayerInfo]) -> Table:
    """A saved model's layers (indented by nesting depth) with their output shapes and parameter counts,
    and a last row with the total."""
    rows = [("\u00a0\u00a0" * layer.depth + layer.name, layer.kind, layer.output,
             count_text(layer.params) if layer.output else "", layer.settings) for layer in layers]
    total = total_params(list(layers))
    rows.append(("total", "", "", count_text(total), "weights and moving statistics"))
    return Table(("layer", "type", "output shape", "parameters", "settings"), tuple(rows))


def _cut(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


__all__ = ["Table", "Records", "trials_table", "trials_records", "versions_table", "actions_table",
           "study_actions_table", "layers_table", "DiagnosisEntry",
           "diagnosis_entries"]
