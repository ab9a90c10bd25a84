"""A shareable, self-contained HTML report of a study.

One file with the dashboard's plots and tables, and the learning curves of
every trial, that opens offline: plotly.js is inlined once, and nothing
refers to a script, style sheet or font on the network. It is meant to be
sent to others, so it names files relative to the study directory and holds
no path of this machine (:class:`~symtuner.app.dashboard.redact.PathRedactor`).
"""

from __future__ import annotations

import html
import shlex
import time
from collections.abc import Callable
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from symtuner.app.dashboard import figures, tradeoff
from symtuner.app.dashboard.data import StudySnapshot, fmt, load_snapshot, trial_label
from symtuner.app.dashboard.importance import param_importance
from symtuner.app.dashboard.model_summary import read_layers
from symtuner.app.dashboard.redact import PathRedactor
from symtuner.app.dashboard.tables import (
    Table,
    diagnosis_entries,
    layers_table,
    study_actions_table,
    trials_table,
    versions_table,
)
from symtuner.core.errors import StudyError
from symtuner.core.records import Trial

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
       max-width: 1280px; padding: 0 20px 40px; color: #1d2733; background: #f5f7fa; }
header { padding: 18px 0 6px; }
nav a { margin-right: 14px; color: #1f5fa8; }
section { background: #fff; border-radius: 6px; box-shadow: 0 1px 3px rgba(0,0,0,.12); padding: 12px 16px;
          margin: 16px 0; }
table.data { border-collapse: collapse; font-size: 13px; width: 100%; }
table.data th, table.data td { border-bottom: 1px solid #e3e8ee; padding: 4px 8px; text-align: left;
                               vertical-align: top; }
table.data th { background: #eef2f6; }
table.data.compact { width: auto; min-width: 420px; }
.scroll { overflow: auto; max-height: 560px; }
.message { padding: 10px; background: #fff8e1; border-left: 4px solid #f0ad4e; }
pre { background: #f0f3f7; padding: 10px; overflow: auto; font-size: 13px; }
details summary { cursor: pointer; font-weight: 600; padding: 4px 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 8px 16px; }
"""

_CONFIG = {"displaylogo": False, "responsive": True}

_SECTIONS = (("metrics", "Metrics"), ("trials", "Every trial"), ("hyperparameters", "Hyper-parameters"),
             ("weights", "Rule weights"), ("diagnosis", "Diagnosis"), ("architecture", "Architecture"),
             ("tradeoff", "Trade-off"), ("tensorboard", "TensorBoard"))


def write_report(study_dir: Path, out: Path) -> Path:
    """Write the report of the study in ``study_dir`` to ``out`` (a file path) and return it.

    The study is only read. Raises :class:`StudyError` if ``study_dir`` holds
    no study or ``out`` cannot be written.
    """
    snapshot = load_snapshot(Path(study_dir))
    text = render_report(snapshot)
    out = Path(out)
    if out.is_dir():
        raise StudyError(f"report path {out} is a directory; give a file name such as {out / 'report.html'}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise StudyError(f"cannot write the report to {out}: {exc}") from None
    return out


def render_report(snap: StudySnapshot) -> str:
    """The report of ``snap`` as one HTML document, with no path of this machine in it."""
    best = snap.best()
    shown = best or snap.selected(None)
    guides = figures.Guides(snap.chance_levels(), snap.objective, best)
    counter = iter(range(1_000_000))

    def plot(fig: go.Figure) -> str:
        return pio.to_html(fig, full_html=False, include_plotlyjs=False, config=_CONFIG,
                           div_id=f"plot-{next(counter)}")

    sections = {
        "metrics": [
            _summary(snap),
            plot(figures.curves_figure(shown, guides=guides)),
            plot(figures.compare_figure(snap.trials, "val_accuracy", shown.number if shown else None)),
            plot(figures.best_so_far_figure(snap.trials, snap.maximize, snap.objective)),
        ],
        "trials": [_every_trial(snap, plot, guides)],
        "hyperparameters": [
            plot(figures.parallel_figure(snap.trials, snap.versions, snap.objective, snap.maximize)),
            plot(figures.importance_figure(param_importance(snap.trials, snap.versions), snap.objective)),
            "<h3>Trials</h3>", _table(trials_table(snap), "trials-table", "No trials yet."),
            plot(figures.bounds_figure(snap.versions, snap.trials, snap.actions)),
            "<h3>Search-space versions</h3>",
            _table(versions_table(snap.versions), "versions-table", "No search space stored yet."),
        ],
        "weights": [
            plot(figures.weights_figure(snap.weights)),
            plot(figures.actions_figure(snap.actions)),
            _table(study_actions_table(snap), "actions-table",
                   "No action chosen yet."),
        ],
        "diagnosis": [_diagnoses(snap)],
        "architecture": [_architecture(snap, shown)],
        "tradeoff": tradeoff.report_section(snap, plot, _table, _e),
        "tensorboard": [
            "<p>The TensorBoard logs of every training are in the study directory. In it, run:</p>",
            "<pre>tensorboard --logdir logs</pre>",
        ],
    }
    body = "\n".join(f'<section id="{key}"><h2>{title}</h2>\n' + "\n".join(sections[key]) + "</section>"
                     for key, title in _SECTIONS)
    nav = " ".join(f'<a href="#{key}">{title}</a>' for key, title in _SECTIONS)
    created = time.strftime("%Y-%m-%d %H:%M", time.localtime())
    title = f"symtuner report: {snap.directory.name}"
    page = (f"<body>\n<header><h1>{_e(title)}</h1><p>Study {_e(snap.directory.name)}; report written {created}. "
            "File names are relative to the study directory.</p>"
            f"<nav>{nav}</nav></header>\n{body}\n</body>\n</html>\n")
    head = (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{_e(title)}</title>\n"
            f"<style>{_CSS}</style>\n")
    redact = PathRedactor(snap.directory)
    # plotly.js is added after redaction: it is not the study's text and must stay byte for byte as shipped
    return redact(head) + f"<script type=\"text/javascript\">{get_plotlyjs()}</script>\n</head>\n" + redact(page)


def _every_trial(snap: StudySnapshot, plot: Callable[[go.Figure], str], guides: figures.Guides) -> str:
    """The learning curves of every trial that has any, newest first, in a grid."""
    with_curves = [t for t in reversed(snap.trials) if t.curve is not None and t.curve.n_epochs > 0]
    if not with_curves:
        return '<p class="message">No trial has finished an epoch yet.</p>'
    cells = [f'<div id="curves-trial-{t.number}">{plot(figures.curves_figure(t, height=300, guides=guides))}</div>'
             for t in with_curves]
    return '<div class="grid">' + "\n".join(cells) + "</div>"


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _table(table: Table, table_id: str | None = None, empty: str = "Nothing yet.", compact: bool = False) -> str:
    if not table.rows:
        return f'<p class="message">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(c)}</th>" for c in table.columns)
    rows = "\n".join("<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>" for row in table.rows)
    ident = f' id="{_e(table_id)}"' if table_id else ""
    kind = "data compact" if compact else "data"
    return f'<div class="scroll"><table class="{kind}"{ident}><thead><tr>{head}</tr></thead>' \
           f"<tbody>\n{rows}\n</tbody></table></div>"


def _summary(snap: StudySnapshot) -> str:
    best = snap.best()
    settings = Table(("setting", "value"), tuple((k, fmt(v)) for k, v in sorted(snap.settings.items())))
    line = f"{len(snap.trials)} trial(s); objective {snap.objective} " \
           f"({'higher' if snap.maximize else 'lower'} is better)"
    if best is not None:
        line += f"; best: {trial_label(best)}, test accuracy {fmt(best.test_accuracy)}"
    return f"<p>{_e(line)}.</p><details><summary>Settings</summary>{_table(settings)}</details>"


def _diagnoses(snap: StudySnapshot) -> str:
    entries = diagnosis_entries(snap.trials)
    if not entries:
        return '<p class="message">No trial has been diagnosed yet.</p>'
    parts = []
    for entry in entries:  # the trials with a problem open; problems and actions first, the facts closed
        skipped = f"<p><b>Skipped:</b> {_e('; '.join(entry.skipped))}</p>" if entry.skipped else ""
        parts.append(
            f'<details{" open" if entry.problems else ""} id="diagnosis-{entry.trial}"><summary>{_e(entry.title)}'
            f"</summary><p><b>Problems:</b> {_e(', '.join(entry.problems) or entry.verdict)}</p>"
            f"<b>Actions</b>{_table(entry.actions, empty='No action chosen.', compact=True)}"
            f"<p><b>Why:</b> {_e(entry.explanation or '(no explanation)')}</p>{skipped}"
            f"<details><summary>Facts the rules read ({len(entry.facts.rows)})</summary>"
            f"{_table(entry.facts, empty='No facts.', compact=True)}</details></details>")
    return "\n".join(parts)


def _architecture(snap: StudySnapshot, trial: Trial | None) -> str:
    if trial is None:
        return '<p class="message">No trials yet: there is no network to show.</p>'
    version = snap.version(trial.tuning_version)
    changes = ", ".join(version.architecture.describe()) if version else ""
    head = f"<p>{_e(trial_label(trial))}; architecture: {_e(changes or 'base network')}.</p>"
    path = snap.model_file(trial)
    if path is None or not path.is_file():
        return head + f'<p class="message">No model file for trial {trial.number}.</p>'
    try:
        layers = read_layers(path)
    except StudyError as exc:
        return head + f'<p class="message">{_e(str(exc))}</p>'
    table = layers_table(layers)
    relative = path.relative_to(Path(snap.directory).resolve())
    return head + _table(table, "model-layers") + \
        f"<p>Open the network interactively, in the study directory, with " \
        f"<code>{_e('netron ' + shlex.quote(relative.as_posix()))}</code>.</p>"


__all__ = ["write_report", "render_report"]
