"""Figures of the search space: every trial's hyper-parameters, their importance, and how actions changed
the space over the trials."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from symtuner.app.dashboard.data import fmt, is_number
from symtuner.app.dashboard.figure_base import (
    HIGHLIGHT,
    MUTED,
    PALETTE,
    TRAIN_COLOR,
    VAL_COLOR,
    VIRIDIS,
    base,
    dtick,
    empty_figure,
)
from symtuner.app.dashboard.importance import Importance, param_names
from symtuner.core.records import Trial
from symtuner.core.space import Categorical, Real
from symtuner.storage import ActionRecord, TuningVersion


# -- hyper-parameters --------------------------------------------------------
def parallel_figure(trials: Sequence[Trial], versions: Sequence[TuningVersion] = (),
                    objective: str = "objective", maximize: bool = True) -> go.Figure:
    """Parallel coordinates of every trial's hyper-parameters and objective, lines coloured by the objective.

    The colour bar names the objective; better trials are drawn brighter
    whichever way the objective points, and a trial without an objective
    (failed, interrupted, running) is grey, at the bar's ``n/a``. Numeric
    axes span the newest search-space bounds, so the plot shows where trials
    sit in the space. A categorical HP becomes an axis of its category
    positions; a value a trial does not have (an HP added later) sits at an
    ``n/a`` tick below the axis, as does the objective of a trial without one.
    """
    direction = "higher" if maximize else "lower"
    title = f"Hyper-parameters of every trial, coloured by {objective} ({direction} is better)"
    rows = [t for t in trials if t.params]
    if not rows:
        return empty_figure(title, "No trials yet", height=420)
    latest = versions[-1].space if versions else None
    dims = []
    for name in param_names(rows, versions):
        values = [t.params.get(name) for t in rows]
        dim = latest[name] if latest is not None and name in latest else None
        if isinstance(dim, Categorical) or any(isinstance(v, str) or isinstance(v, bool) for v in values):
            dims.append(_categorical_axis(name, values, dim.categories if isinstance(dim, Categorical) else ()))
        else:
            bounds = (float(dim.low), float(dim.high)) if dim is not None else None
            dims.append(_numeric_axis(name, values, bounds,
                                      log=isinstance(dim, Real) and dim.prior == "log-uniform"))
    dims.append(_numeric_axis(objective, [t.objective for t in rows]))
    fig = go.Figure(go.Parcoords(line=_objective_colours([t.objective for t in rows], objective, maximize),
                                 dimensions=dims, labelangle=-20))
    fig = base(fig, title, height=460)
    fig.update_layout(margin={"l": 70, "r": 110, "t": 110, "b": 40})
    return fig


def _objective_colours(values: Sequence[object], objective: str, maximize: bool) -> dict[str, object]:
    """Parcoords line colours: a Viridis bar over the objective (bright = better), grey ``n/a`` below it."""
    numbers = [float(v) for v in values if is_number(v)]  # type: ignore[arg-type]
    low, high = (min(numbers), max(numbers)) if numbers else (0.0, 1.0)
    if high == low:  # one value: a bar around it
        pad = abs(high) * 0.05 or 0.05
        high, low = high + pad, low - pad
    scale = [list(pair) for pair in VIRIDIS] if maximize else [[1 - at, c] for at, c in reversed(VIRIDIS)]
    colorbar: dict[str, object] = {"title": {"text": objective, "side": "right"}, "thickness": 14, "len": 0.9}
    if len(numbers) == len(values):
        return {"color": numbers, "colorscale": scale, "cmin": low, "cmax": high, "showscale": True,
                "colorbar": colorbar}
    # one colour scale for both: the lowest tenth grey (no objective), the rest Viridis over [low, high]
    missing = low - (high - low) / 9
    gap = 0.1
    scale = [[0.0, MUTED], [gap * 0.999, MUTED]] + [[gap + (1 - gap) * at, c] for at, c in scale]
    ticks = [low + (high - low) * i / 4 for i in range(5)]
    colorbar.update(tickvals=[missing] + ticks, ticktext=["n/a"] + [fmt(t, 3) for t in ticks])
    return {"color": [float(v) if is_number(v) else missing for v in values],  # type: ignore[arg-type]
            "colorscale": scale, "cmin": missing, "cmax": high, "showscale": True, "colorbar": colorbar}


def _numeric_axis(name: str, values: Sequence[object], bounds: tuple[float, float] | None = None,
                  log: bool = False) -> dict[str, object]:
    """An axis spanning the search-space ``bounds`` (and every value); log-uniform HPs on a log scale."""
    numbers = [float(v) for v in values if is_number(v)]  # type: ignore[arg-type]
    low, high = bounds if bounds is not None else ((min(numbers), max(numbers)) if numbers else (0.0, 1.0))
    low, high = min([low] + numbers), max([high] + numbers)
    log = log and low > 0

    def place(value: float) -> float:
        return math.log10(value) if log else value

    shown = [place(float(v)) if is_number(v) else None for v in values]  # type: ignore[arg-type]
    top, bottom = place(high), place(low)
    if top == bottom:
        pad = abs(top) * 0.1 or 0.5
        top, bottom = top + pad, bottom - pad
    ticks = [bottom + (top - bottom) * i / 4 for i in range(5)]
    texts = [fmt(10 ** t if log else t, 3) for t in ticks]
    if any(v is None for v in shown):
        missing = bottom - 0.12 * (top - bottom)
        shown = [missing if v is None else v for v in shown]
        ticks, texts, bottom = [missing] + ticks, ["n/a"] + texts, missing
    return {"label": f"{name} (log)" if log else name, "values": shown, "range": [bottom, top],
            "tickvals": ticks, "ticktext": texts}


def _categorical_axis(name: str, values: Sequence[object], categories: Sequence[object]) -> dict[str, object]:
    order = list(categories)
    order += [v for v in dict.fromkeys(values) if v is not None and v not in order]
    labels = [str(c) for c in order]
    codes: list[int | None] = [order.index(v) if v in order else None for v in values]
    if any(code is None for code in codes):  # an ``n/a`` position below the categories
        labels = ["n/a"] + labels
        codes = [0 if code is None else code + 1 for code in codes]
    return {"label": name, "values": codes, "tickvals": list(range(len(labels))), "ticktext": labels,
            "range": [0, max(len(labels) - 1, 1)]}


def bounds_figure(versions: Sequence[TuningVersion], trials: Sequence[Trial] = (),
                  actions: Sequence[ActionRecord] = ()) -> go.Figure:
    """Every dimension an action changed, one panel each, drawn where it changed: a numeric one's bounds,
    a categorical one's choices (each a bar that ends where it was taken out). The dimensions no action
    changed are named below the panels instead of drawn as flat lines.

    A tuning version made after trial *t* applies from trial *t + 1*; its
    reason and the actions applied after *t* show on hover at that step.
    """
    title = "How the actions changed the search space over the trials"
    if not versions:
        return empty_figure(title, "No search space stored yet")
    names: list[str] = []
    for version in versions:
        names += [d.name for d in version.space.dimensions if d.name not in names]
    changed = [name for name in names if _changes(name, versions)]
    if not changed:
        return empty_figure(title, f"No action has changed the search space yet: its {len(names)} dimension(s) "
                                   "are as at the start", height=220)
    starts = [1 if v.after_trial is None else v.after_trial + 1 for v in versions]
    end = max([t.number for t in trials] + starts + [1]) + 0.5
    hover = _bounds_hover(versions, starts, actions)
    cols = min(3, len(changed))
    rows = math.ceil(len(changed) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=changed, vertical_spacing=min(0.18, 0.6 / rows),
                        horizontal_spacing=0.1)
    shown_moves = False
    for index, name in enumerate(changed):
        row, col = index // cols + 1, index % cols + 1
        if any(isinstance(v.space[name], Categorical) for v in versions if name in v.space):
            shown_moves = _add_choices_panel(fig, name, versions, starts, hover, end, (row, col), shown_moves)
        else:
            steps = _bounds_steps(name, versions, starts, hover, end)
            shown_moves = _add_bounds_panel(fig, steps, row, col, first=index == 0,  # type: ignore[arg-type]
                                            shown_moves=shown_moves)
            _add_choice_ranges(fig, name, versions, starts, end, row, col)
            newest = versions[-1].space[name] if name in versions[-1].space else None
            if isinstance(newest, Real) and newest.prior == "log-uniform":
                fig.update_yaxes(type="log", row=row, col=col)
        fig.update_xaxes(range=[0.5, end], dtick=dtick(end), title_text="trial", row=row, col=col)
    unchanged = [name for name in names if name not in changed]
    fig = base(fig, title, height=max(320, 260 * rows + 100))
    if unchanged:
        fig.add_annotation(text=f"Unchanged since the start: {', '.join(unchanged)}", showarrow=False,
                           xref="paper", yref="paper", x=0, y=1.0, yshift=36, xanchor="left",
                           font={"size": 12, "color": "#555"})
    fig.update_layout(legend={"y": -0.12 if rows > 2 else -0.3}, margin={"t": 100})
    return fig


def _changes(name: str, versions: Sequence[TuningVersion]) -> bool:
    """Whether ``name`` differs between two versions (bounds, choices, prior; added or taken out)."""
    forms = [v.space[name] if name in v.space else None for v in versions]
    return any(a != b for a, b in zip(forms, forms[1:]))


def _add_choices_panel(fig: go.Figure, name: str, versions: Sequence[TuningVersion], starts: Sequence[int],
                       hover: Sequence[str], end: float, at: tuple[int, int], shown_moves: bool) -> bool:
    """A categorical dimension's choices: one bar per choice while it is offered, a marker where the
    choices changed; True once a marker is in the legend."""
    row, col = at
    sets = [list(v.space[name].categories) if name in v.space else [] for v in versions]  # type: ignore[union-attr]
    order = list(dict.fromkeys(c for choices in sets for c in choices))
    limits = list(starts[1:]) + [end]
    for choice in order:
        xs: list[float | None] = []
        for index, choices in enumerate(sets):
            if choice in choices:
                xs += [starts[index], limits[index], None]
        fig.add_trace(go.Scatter(x=xs, y=[str(choice) if x is not None else None for x in xs], mode="lines",
                                 line={"color": TRAIN_COLOR, "width": 8}, showlegend=False, name=str(choice),
                                 hovertemplate=f"{name} = {choice}<extra></extra>"), row=row, col=col)
    moves = [i for i in range(1, len(sets)) if sets[i] != sets[i - 1]]
    if moves:
        gone = [next((str(c) for c in sets[i - 1] if c not in sets[i]), str(sets[i][0]) if sets[i] else "")
                for i in moves]
        fig.add_trace(go.Scatter(x=[starts[i] for i in moves], y=gone, mode="markers", name="changed",
                                 legendgroup="changed", showlegend=not shown_moves, text=[hover[i] for i in moves],
                                 marker={"symbol": "diamond", "size": 11, "color": HIGHLIGHT},
                                 hovertemplate="%{text}<extra></extra>"), row=row, col=col)
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=[str(c) for c in order], row=row, col=col)
    return shown_moves or bool(moves)


def _bounds_hover(versions: Sequence[TuningVersion], starts: Sequence[int],
                  actions: Sequence[ActionRecord]) -> list[str]:
    """Per version: the trial it applies from, its reason and the actions applied just before it."""
    applied: dict[int, list[str]] = {}
    for action in actions:
        if action.applied:
            applied.setdefault(action.trial, []).append(f"{action.name} ({action.problem}): {action.detail}")
    hover = []
    for version, start in zip(versions, starts):
        moved = applied.get(version.after_trial, []) if version.after_trial is not None else []
        hover.append("<br>".join([f"version {version.version} from trial {start}", version.reason] + moved))
    return hover


#: One HP's bounds as steps: the trials they start at, the lows, the highs and the hover texts.
_Steps = tuple[list[float], list[float], list[float], list[str]]


def _bounds_steps(name: str, versions: Sequence[TuningVersion], starts: Sequence[int], hover: Sequence[str],
                  end: float) -> _Steps | None:
    """The bounds of ``name`` in every version that has it, held until ``end``; None if none has it."""
    xs: list[float] = []
    lows: list[float] = []
    highs: list[float] = []
    texts: list[str] = []
    for version, start, text in zip(versions, starts, hover):
        if name not in version.space:
            continue
        bounded = version.space[name]
        xs.append(start)
        lows.append(bounded.low)  # type: ignore[union-attr]
        highs.append(bounded.high)  # type: ignore[union-attr]
        texts.append(text)
    if not xs:
        return None
    return xs + [end], lows + [lows[-1]], highs + [highs[-1]], texts + [texts[-1]]


def _add_choice_ranges(fig: go.Figure, name: str, versions: Sequence[TuningVersion], starts: Sequence[int],
                       end: float, row: int, col: int) -> None:
    """Dotted low and high lines of every choice that has a range of its own (a learning rate per optimizer,
    :class:`symtuner.core.space.Real`), from the version where it got it; the solid lines are the shared range."""
    choices: list[Any] = []
    given = ""
    for version in versions:
        dim = version.space[name] if name in version.space else None
        if isinstance(dim, Real):
            choices += [c for c, _, _ in dim.ranges if c not in choices]
            given = dim.given or given
    for number, choice in enumerate(choices):
        xs: list[float] = []
        lows: list[float] = []
        highs: list[float] = []
        for version, start in zip(versions, starts):
            dim = version.space[name] if name in version.space else None
            if isinstance(dim, Real) and dim.has_range(choice):
                low, high = dim.bounds(choice)
                xs.append(start)
                lows.append(low)
                highs.append(high)
        if not xs:
            continue
        color = PALETTE[(number + 2) % len(PALETTE)]
        for values, bound in ((lows, "low"), (highs, "high")):
            fig.add_trace(go.Scatter(x=xs + [end], y=values + [values[-1]], mode="lines",
                                     line={"shape": "hv", "color": color, "dash": "dot"},
                                     name=f"{given} {choice}".strip(),
                                     legendgroup=f"choice-{choice}", showlegend=bound == "low",
                                     hovertemplate=f"{choice} {bound} %{{y}}<extra></extra>"), row=row, col=col)


def _add_bounds_panel(fig: go.Figure, steps: _Steps, row: int, col: int, first: bool, shown_moves: bool) -> bool:
    """The low and high lines of one HP, with a marker where they moved; True once a marker is in the legend."""
    xs, lows, highs, texts = steps
    fig.add_trace(go.Scatter(x=xs, y=lows, mode="lines", line={"shape": "hv", "color": TRAIN_COLOR},
                             name="low", legendgroup="low", showlegend=first, text=texts,
                             hovertemplate="low %{y}<br>%{text}<extra></extra>"), row=row, col=col)
    fig.add_trace(go.Scatter(x=xs, y=highs, mode="lines", line={"shape": "hv", "color": VAL_COLOR},
                             fill="tonexty", fillcolor="rgba(31,119,180,0.12)", name="high",
                             legendgroup="high", showlegend=first, text=texts,
                             hovertemplate="high %{y}<br>%{text}<extra></extra>"), row=row, col=col)
    moves = [i for i in range(len(xs) - 1)
             if (i == 0 and xs[0] > 1) or (i > 0 and (lows[i], highs[i]) != (lows[i - 1], highs[i - 1]))]
    if not moves:
        return shown_moves
    marks = [lows[i] if i > 0 and lows[i] != lows[i - 1] else highs[i] for i in moves]
    fig.add_trace(go.Scatter(
        x=[xs[i] for i in moves], y=marks, mode="markers", name="changed",
        legendgroup="changed", showlegend=not shown_moves, text=[texts[i] for i in moves],
        marker={"symbol": "diamond", "size": 10, "color": HIGHLIGHT},
        hovertemplate="%{text}<extra></extra>"), row=row, col=col)
    return True


def importance_figure(result: Importance, objective: str = "objective") -> go.Figure:
    """A bar per hyper-parameter: how much of the objective it explains (or why that is not known yet)."""
    title = f"Which hyper-parameters explain {objective}"
    if result.message:
        return empty_figure(title, result.message, height=260)
    names = list(reversed(result.names))  # most important on top
    fig = go.Figure(go.Bar(
        x=list(reversed(result.scores)), y=names, orientation="h", marker={"color": TRAIN_COLOR},
        error_x={"type": "data", "array": list(reversed(result.spreads)), "color": MUTED},
        hovertemplate="%{y}: R² falls by %{x:.3f} when shuffled<extra></extra>"))
    note = f"Random forest on {result.n_trials} completed trials; bar: fall of its R² when the HP is shuffled"
    if result.constant:
        note += f". Did not vary: {', '.join(result.constant)}"
    fig.add_annotation(text=note, showarrow=False, xref="paper", yref="paper", x=0, y=0, xanchor="left",
                       yanchor="top", yshift=-48, font={"size": 12, "color": "#555"})
    fig.update_xaxes(title_text="importance (fall of R²)", rangemode="tozero")
    fig = base(fig, title, height=max(260, 28 * len(names) + 150))
    fig.update_layout(margin={"l": 120, "b": 90})
    return fig



__all__ = ["parallel_figure", "bounds_figure", "importance_figure"]
