"""The trade-off between what a network scores and what it costs: the dashboard's Trade-off page and the
report's section.

For every complete trial that measured its costs: its objective (the measured one, not the soft mode's
penalised value) against its parameters and against its FLOPs, the Pareto front (the trials no other trial
beats on both), the study's limit as a line, and a table of every cost. Pure functions of a
:class:`~symtuner.app.dashboard.data.StudySnapshot`, like the other figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from symtuner.app.dashboard.data import StudySnapshot
from symtuner.app.dashboard.figures import HIGHLIGHT, MUTED, TRAIN_COLOR, _base, empty_figure
from symtuner.app.dashboard.tables import Table
from symtuner.core.costs import (
    COST_LABELS,
    COSTS,
    LIMIT_SETTINGS,
    TradePoint,
    format_amount,
    format_cost,
    over_text,
    pareto_front,
    trade_points,
    trial_costs,
)

#: The costs the trade-off is drawn against, with their figure's element id.
FIGURES = (("params", "fig-tradeoff-params"), ("flops", "fig-tradeoff-flops"))
LIMIT_COLOR = "#6c757d"


def snapshot_limits(snap: StudySnapshot) -> dict[str, float]:
    """Cost name -> the study's limit, read from its stored settings (those that are numbers)."""
    out = {}
    for cost, setting in LIMIT_SETTINGS.items():
        value = snap.settings.get(setting)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
            out[cost] = float(value)
    return out


def tradeoff_figure(snap: StudySnapshot, cost: str) -> go.Figure:
    """Every measured trial's objective against ``cost`` (log axis), the Pareto front and the limit."""
    objective, maximize = snap.objective, snap.maximize
    title = f"{objective} against {COST_LABELS[cost]} ({'higher' if maximize else 'lower'} is better)"
    points = [p for p in trade_points(snap.trials, maximize) if cost in p.costs and p.costs[cost] > 0]
    if not points:
        return empty_figure(title, "No complete trial has measured its costs yet")

    def shown(point: TradePoint) -> float:
        return point.score if maximize else -point.score

    fig = go.Figure()
    for feasible, name, marker in ((True, "within the limits", {"color": TRAIN_COLOR, "size": 10}),
                                   (False, "over the limits", {"color": MUTED, "size": 11, "symbol": "x"})):
        group = [p for p in points if p.feasible is feasible]
        if group:
            fig.add_trace(go.Scatter(
                x=[p.costs[cost] for p in group], y=[shown(p) for p in group], mode="markers", name=name,
                marker=marker, text=[f"trial {p.number}: {format_cost(cost, p.costs[cost])}" for p in group],
                hovertemplate="%{text}<br>" + objective + " %{y:.4f}<extra></extra>"))
    front = pareto_front(points, cost)
    fig.add_trace(go.Scatter(x=[p.costs[cost] for p in front], y=[shown(p) for p in front], mode="lines+markers",
                             name="Pareto front", line={"shape": "hv", "color": HIGHLIGHT, "width": 2},
                             marker={"size": 6, "color": HIGHLIGHT},
                             text=[f"trial {p.number}" for p in front], hovertemplate="%{text}<extra></extra>"))
    limit = snapshot_limits(snap).get(cost)
    if limit is not None:  # a trace, not a shape: shapes on a log axis take log10 coordinates
        values = [shown(p) for p in points]
        fig.add_trace(go.Scatter(x=[limit, limit], y=[min(values), max(values)], mode="lines",
                                 name=f"limit {format_amount(cost, limit)}",
                                 line={"dash": "dash", "color": LIMIT_COLOR, "width": 2},
                                 hovertemplate=f"limit {format_cost(cost, limit)}<extra></extra>"))
    fig.update_xaxes(title_text=f"{COST_LABELS[cost]} (log scale)", type="log")
    fig.update_yaxes(title_text=objective)
    return _base(fig, title, height=420)


def tradeoff_summary(snap: StudySnapshot) -> str:
    """``limits (hard): 100 k parameters · 9 of 12 measured trials within them · best within: trial 7 ...``."""
    limits = snapshot_limits(snap)
    measured = [t for t in snap.trials if t.is_complete and trial_costs(t)]
    if not measured:
        return "No complete trial has measured its costs yet."
    parts = []
    if limits:
        mode = str(snap.settings.get("limit_mode", "hard"))
        parts.append(f"limits ({mode}): " + ", ".join(format_cost(n, v) for n, v in limits.items()))
        within = sum(not t.extra.get("over_limits") for t in measured)
        parts.append(f"{within} of {len(measured)} measured trials within them")
    else:
        parts.append(f"{len(measured)} measured trial(s); the study sets no limit")
    best = snap.best()
    if best is not None:
        parts.append(f"best{' within them' if limits else ''}: trial {best.number}, {snap.objective} "
                     f"{best.objective:.4f}" + (f", {format_cost('params', trial_costs(best)['params'])}"
                                                if "params" in trial_costs(best) else ""))
    return " · ".join(parts)


def costs_table(snap: StudySnapshot) -> Table:
    """One row per measured complete trial: its objective, every cost, and where it stands against the limits."""
    limits = snapshot_limits(snap)
    rows = []
    for trial in snap.trials:
        costs = trial_costs(trial)
        if not trial.is_complete or not costs:
            continue
        value = trial.extra.get("raw_objective", trial.objective)
        over = over_text(trial.extra)
        standing = ("infeasible: " if trial.infeasible else "penalised: ") + over if over else "within"
        rows.append((str(trial.number), f"{value:.4f}" if isinstance(value, float) and math.isfinite(value) else "-",
                     *(format_amount(n, costs[n]) if n in costs else "-" for n in COSTS),
                     *((standing,) if limits else ())))
    columns = ("trial", snap.objective, *(COST_LABELS[n] for n in COSTS), *(("limits",) if limits else ()))
    return Table(columns, tuple(rows))


# -- the dashboard page -----------------------------------------------------------------------------
def page() -> list[Any]:
    """The Trade-off page: a summary line, the two figures and the table of costs."""
    from dash import dcc, html

    graphs = [html.Div(dcc.Graph(id=ident, config={"displaylogo": False, "responsive": True},
                                 figure=empty_figure("", "Loading…")), className="card") for _, ident in FIGURES]
    return [html.Div(html.Div(id="tradeoff-summary"), className="card"), *graphs,
            html.Div([html.H3("What each network costs"), html.Div(id="tradeoff-table", className="scroll")],
                     className="card")]


def register(app: Any, study_dir: Path, snapshot: Callable[[], StudySnapshot | None],
             table: Callable[[Table, str, str], Any], unreadable: Callable[[Path], Any]) -> None:
    """The page's callback: everything redrawn whenever the study changes."""
    from dash import Input, Output

    @app.callback(Output("tradeoff-summary", "children"), *(Output(ident, "figure") for _, ident in FIGURES),
                  Output("tradeoff-table", "children"), Input("stamp", "data"))
    def tradeoff(_: str | None) -> tuple[Any, ...]:
        snap = snapshot()
        if snap is None:
            empty = empty_figure("", "Study unreadable")
            return (unreadable(study_dir), *(empty for _ in FIGURES), "")
        return (tradeoff_summary(snap), *(tradeoff_figure(snap, cost) for cost, _ in FIGURES),
                table(costs_table(snap), "tradeoff-table-rows", "No complete trial has measured its costs yet."))


def report_section(snap: StudySnapshot, plot: Callable[[go.Figure], str], table: Callable[..., str],
                   escape: Callable[[str], str]) -> list[str]:
    """The report's Trade-off section: the summary, the two figures and the table."""
    return [f"<p id=\"tradeoff-summary\">{escape(tradeoff_summary(snap))}</p>",
            *(plot(tradeoff_figure(snap, cost)) for cost, _ in FIGURES),
            table(costs_table(snap), "tradeoff-table", "No complete trial has measured its costs yet.")]


__all__ = ["FIGURES", "costs_table", "page", "register", "report_section", "snapshot_limits", "tradeoff_figure",
           "tradeoff_summary"]
