"""HTML pieces of the dashboard built from a study snapshot: tables, the live status, the summary,
the diagnoses and the architecture view."""

from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import Any

from dash import html
from dash.dash_table.Format import Format, Scheme, Trim

from symtuner.app.dashboard.data import StudySnapshot, fmt, trial_label
from symtuner.app.dashboard.model_summary import read_layers, total_params
from symtuner.app.dashboard.netron_site import viewer_url
from symtuner.app.dashboard.tables import DiagnosisEntry, Records, Table, diagnosis_entries, layers_table
from symtuner.core.errors import StudyError


def table_component(table: Table, table_id: str | None = None, empty: str = "Nothing yet.",
                    compact: bool = False) -> Any:
    """An HTML table of ``table`` (as wide as its content if ``compact``), or a message when it has no rows."""
    if not table.rows:
        return html.P(empty, className="message")
    head = html.Thead(html.Tr([html.Th(c) for c in table.columns]))
    body = html.Tbody([html.Tr([html.Td(cell) for cell in row]) for row in table.rows])
    kind = "data compact" if compact else "data"
    if table_id:
        return html.Table([head, body], className=kind, id=table_id)
    return html.Table([head, body], className=kind)


def datatable_columns(records: Records) -> list[dict[str, Any]]:
    """DataTable column definitions: numbers sort and filter as numbers and show four significant digits."""
    columns: list[dict[str, Any]] = []
    for name in records.columns:
        column: dict[str, Any] = {"name": name, "id": name, "type": "text"}
        if name in records.numeric:
            column["type"] = "numeric"
            if any(isinstance(row.get(name), float) for row in records.rows):
                column["format"] = Format(precision=4, scheme=Scheme.decimal_or_exponent, trim=Trim.yes)
        columns.append(column)
    return columns


def live_status(running: tuple[Any, ...], planned_epochs: int | None) -> Any:
    """One line per running trial: the epochs it has finished and its latest validation metrics."""
    if not running:
        return html.P("No trial is running: the figure below fills in as soon as one finishes an epoch.",
                      id="live-idle")
    of = f" of {planned_epochs}" if planned_epochs else ""
    items = []
    for trial in running:
        curve = trial.curve
        if curve is None or curve.n_epochs == 0:
            done = "no epoch finished yet"
        else:
            done = (f"epoch {curve.n_epochs}{of} finished: val_accuracy {fmt(curve.val_accuracy[-1])}, "
                    f"val_loss {fmt(curve.val_loss[-1])}")
        since = f" (started {_ago(trial.started_at)})" if trial.started_at else ""
        items.append(html.Li(f"Trial {trial.number}: {done}{since}", id=f"live-trial-{trial.number}"))
    return [html.B(f"Running now: {len(running)} trial(s)"), html.Ul(items)]


def _ago(started_at: float) -> str:
    seconds = max(0, int(time.time() - started_at))
    return f"{seconds} s ago" if seconds < 120 else f"{seconds // 60} min ago"


def unreadable(study_dir: Path) -> html.Div:
    """The message shown in place of a page's content while the study cannot be read."""
    return html.Div(f"The study in {study_dir} cannot be read right now.", className="error")


def summary_text(snap: StudySnapshot) -> str:
    """The header's line: trials per state, the best objective and the number of search-space versions."""
    states: dict[str, int] = {}
    for trial in snap.trials:
        states[trial.state] = states.get(trial.state, 0) + 1
    counts = ", ".join(f"{n} {s}" for s, n in states.items()) or "no trials yet"
    best = snap.best()
    best_text = f" · best {snap.objective} {best.objective:.4f} (trial {best.number})" if best else ""
    return f"{counts}{best_text} · {len(snap.versions)} search-space version(s)"


def metrics_summary(snap: StudySnapshot, trial: Any) -> list[Any]:
    """The metrics page's first lines: the number of trials, the best one and the trial shown."""
    best = snap.best()
    summary: list[Any] = [html.B(f"{len(snap.trials)} trial(s). ")]
    if best is not None:
        summary.append(f"Best: trial {best.number}, {snap.objective} {best.objective:.4f}. ")
    if trial is not None:
        summary.append(f"Showing {trial_label(trial)}.")
    if trial is not None and trial.error:
        summary.append(html.Div(f"Trial {trial.number} {trial.state}: {trial.error}", className="error"))
    return summary


def diagnosis_component(snap: StudySnapshot, choice: Any = None) -> Any:
    """Per diagnosed trial: its problems and actions first, then why, the raw facts behind a toggle.

    The trial the picker names comes first and open (with a note when it has
    no diagnosis yet, such as a running trial, and then the newest trial with a
    problem is open); the others follow, newest first, closed.
    """
    entries = diagnosis_entries(snap.trials)
    if not entries:
        return html.P("No trial has been diagnosed yet.", className="message", id="diagnosis-empty")
    trial = snap.selected(choice)
    chosen = next((e for e in entries if trial is not None and e.trial == trial.number), None)
    out: list[Any] = []
    if chosen is None:
        if trial is not None:
            out.append(html.P(f"Trial {trial.number} has no diagnosis: it is {trial.state}.", className="message",
                              id="diagnosis-none"))
        chosen = next((e for e in entries if e.problems), entries[0])
    for entry in [chosen] + [e for e in entries if e is not chosen]:
        out.append(html.Details([html.Summary(entry.title), *_diagnosis_body(entry)], open=entry is chosen,
                                className="card", id=f"diagnosis-{entry.trial}"))
    return out


def _diagnosis_body(entry: DiagnosisEntry) -> list[Any]:
    body: list[Any] = [
        html.P([html.B("Problems: "), ", ".join(entry.problems) or entry.verdict]),
        html.B("Actions"), table_component(entry.actions, empty="No action chosen.", compact=True),
        html.P([html.B("Why: "), entry.explanation or "(no explanation)"], className="explanation"),
    ]
    if entry.skipped:
        body.append(html.P([html.B("Skipped: "), "; ".join(entry.skipped)]))
    body.append(html.Details([html.Summary(f"Facts the rules read ({len(entry.facts.rows)})"),
                              table_component(entry.facts, empty="No facts.", compact=True)],
                             className="facts"))
    return body


def architecture_components(snap: StudySnapshot, choice: Any, netron: bool) -> tuple[Any, Any, Any]:
    """The info line, the Netron view (or a message) and the layer table of the selected trial."""
    trial = snap.selected(choice)
    if trial is None:
        message = html.P("No trials yet: there is no network to show.", className="message", id="model-missing")
        return "", message, ""
    version = snap.version(trial.tuning_version)
    changes = ", ".join(version.architecture.describe()) if version else ""
    info = html.P([html.B(trial_label(trial)), f" · tuning version {trial.tuning_version}",
                   f" · architecture: {changes or 'base network'}"])
    path = snap.model_file(trial)
    if path is None or not path.is_file():
        where = f" (expected at {path})" if path else ""
        why = "it is still training" if trial.state == "running" else f"it is {trial.state}"
        text = f"No model file for trial {trial.number}{where}: {why}, or the file was removed."
        return info, html.P(text, className="message", id="model-missing"), ""
    return info, _network_view(trial.number, path, netron), _layers_view(path)


def _layers_view(path: Path) -> Any:
    """The layer table of the model file at ``path``, indented by nesting depth (or why it cannot be read)."""
    try:
        layers = read_layers(path)
    except StudyError as exc:
        return html.P(str(exc), className="error")
    total = total_params(layers)
    summary = f"{len(layers)} layers, {total:,} parameters in all" if total is not None else f"{len(layers)} layers"
    return [html.P(summary, id="model-total"), table_component(layers_table(layers), "model-layers")]


def _network_view(number: int, path: Path, netron: bool) -> Any:
    """Netron in a frame, or the command that opens the model when Netron is not served."""
    if netron:
        return html.Iframe(id="netron-frame", src=viewer_url(number, path), title=f"Netron: {path.name}")
    return html.Div(id="netron-off", className="message", children=[
        "Netron is not installed for this dashboard (pip install netron). Open the network with: ",
        html.Code(f"netron {shlex.quote(str(path))}")])


__all__ = ["table_component", "datatable_columns", "live_status", "unreadable", "summary_text",
           "metrics_summary", "diagnosis_component", "architecture_components"]
