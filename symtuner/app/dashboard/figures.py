"""Plotly figures of a study, as pure functions of stored data.

The live dashboard and the offline report call the same functions, so both
show the same plots. Every function accepts empty input and then returns a
figure that says there is nothing to show yet.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.colors import sequential
from plotly.subplots import make_subplots

from symtuner.app.dashboard.data import fmt, is_number
from symtuner.app.dashboard.importance import Importance, param_names
from symtuner.core.records import Trial, TrialState
from symtuner.core.space import Categorical, Real
from symtuner.storage import INITIAL_WEIGHTS_TRIAL, ActionRecord, TuningVersion

#: Per-series colours, kept the same across figures.
TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#ff7f0e"
HIGHLIGHT = "#d62728"
MUTED = "#9aa5b1"
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
            "#bcbd22", "#17becf")

#: Plotly's Viridis as (position, colour) stops: dark purple (worst) to yellow (best).
VIRIDIS = tuple((i / (len(sequential.Viridis) - 1), colour) for i, colour in enumerate(sequential.Viridis))

#: Kept in every figure so that a refresh does not reset the user's zoom.
_UIREVISION = "symtuner"


def _base(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(title=title, height=height, template="plotly_white", uirevision=_UIREVISION,
                      margin={"l": 60, "r": 20, "t": 60, "b": 50},
                      legend={"orientation": "h", "yanchor": "bottom", "y": -0.35, "x": 0})
    return fig


def empty_figure(title: str, message: str, height: int = 300) -> go.Figure:
    """A figure holding only ``message``, for data that does not exist yet."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                       font={"size": 15, "color": "#555"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _base(fig, title, height)


def _dtick(last: float) -> int | None:
    """Tick every integer on short axes; let plotly choose on long ones."""
    return 1 if last <= 25 else None


def _epochs(n: int) -> list[int]:
    return list(range(1, n + 1))


def _clean(values: Sequence[float]) -> list[float | None]:
    return [v if is_number(v) else None for v in values]


# -- metrics ----------------------------------------------------------------
def curves_figure(trial: Trial | None, height: int = 380) -> go.Figure:
    """Training and validation loss and accuracy per epoch of one trial (it may be running)."""
    if trial is None:
        return empty_figure("Learning curves", "No trials yet")
    title = f"Trial {trial.number} ({trial.state}): learning curves"
    curve = trial.curve
    if curve is None or curve.n_epochs == 0:
        message = f"Trial {trial.number} failed: {trial.error}" if trial.error else \
            f"Trial {trial.number} has no finished epoch yet"
        return empty_figure(title, message, height=min(height, 300))
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"), horizontal_spacing=0.1)
    epochs = _epochs(curve.n_epochs)
    for col, (train, val) in enumerate((("loss", "val_loss"), ("accuracy", "val_accuracy")), start=1):
        for key, color, dash, label in ((train, TRAIN_COLOR, "solid", f"training {train}"),
                                        (val, VAL_COLOR, "dash", f"validation {train}")):
            fig.add_trace(go.Scatter(x=epochs, y=_clean(getattr(curve, key)), name=label, meta=key,
                                     mode="lines+markers", line={"color": color, "dash": dash}), row=1, col=col)
        fig.update_xaxes(title_text="epoch", dtick=_dtick(curve.n_epochs), row=1, col=col)
    return _base(fig, title, height)


def live_figure(running: Sequence[Trial], planned_epochs: int | None = None) -> go.Figure:
    """The epochs every running trial has finished so far, one colour per trial, against the planned epochs.

    With trials running in parallel all of them are shown, each drawing its
    next point as soon as its epoch is stored.
    """
    if not running:
        return empty_figure("Running now", "No trial is running", height=220)
    of = f" of {planned_epochs}" if planned_epochs else ""
    progress = [f"trial {t.number} " + (f"epoch {t.curve.n_epochs}{of}" if t.curve and t.curve.n_epochs
                                         else "no epoch finished yet") for t in running]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"), horizontal_spacing=0.1)
    longest = max([t.curve.n_epochs for t in running if t.curve] + [planned_epochs or 1])
    for index, trial in enumerate(running):
        if trial.curve is None or trial.curve.n_epochs == 0:
            continue
        color = _PALETTE[index % len(_PALETTE)]
        epochs = _epochs(trial.curve.n_epochs)
        for col, (train, val) in enumerate((("loss", "val_loss"), ("accuracy", "val_accuracy")), start=1):
            for key, dash, label in ((train, "solid", "training"), (val, "dash", "validation")):
                fig.add_trace(go.Scatter(
                    x=epochs, y=_clean(getattr(trial.curve, key)), mode="lines+markers", meta=[trial.number, key],
                    name=f"trial {trial.number} {label}", legendgroup=f"trial {trial.number}",
                    showlegend=col == 1, line={"color": color, "dash": dash},
                    hovertemplate=f"trial {trial.number} {label} {train}<br>epoch %{{x}}: %{{y:.4f}}<extra></extra>"),
                    row=1, col=col)
    for col in (1, 2):
        fig.update_xaxes(title_text="epoch", range=[0.5, longest + 0.5], dtick=_dtick(longest), row=1, col=col)
    return _base(fig, "Running now: " + ", ".join(progress))


def compare_figure(trials: Sequence[Trial], metric: str = "val_accuracy",
                   highlight: int | None = None) -> go.Figure:
    """One per-epoch ``metric`` line per trial, the ``highlight`` trial drawn bold."""
    title = f"{metric} per epoch, all trials"
    with_curves = [t for t in trials if t.curve is not None and t.curve.n_epochs > 0]
    if not with_curves:
        return empty_figure(title, "No epochs recorded yet")
    fig = go.Figure()
    for trial in with_curves:
        bold = trial.number == highlight
        values = getattr(trial.curve, metric)
        fig.add_trace(go.Scatter(
            x=_epochs(len(values)), y=_clean(values), mode="lines+markers", name=f"trial {trial.number}",
            line={"width": 4 if bold else 1.5, "color": HIGHLIGHT if bold else None},
            opacity=1.0 if bold or highlight is None else 0.55,
            hovertemplate=f"trial {trial.number} ({trial.state})<br>epoch %{{x}}: %{{y:.4f}}<extra></extra>"))
    longest = max(len(getattr(t.curve, metric)) for t in with_curves)
    fig.update_xaxes(title_text="epoch", dtick=_dtick(longest))
    fig.update_yaxes(title_text=metric)
    return _base(fig, title)


def best_so_far_figure(trials: Sequence[Trial], maximize: bool = True,
                       objective: str = "objective") -> go.Figure:
    """The objective of each trial and the best value so far, over the trial number."""
    direction = "higher" if maximize else "lower"
    title = f"{objective} per trial and best so far ({direction} is better)"
    scored = [t for t in trials if t.is_complete and is_number(t.objective)]
    if not trials:
        return empty_figure(title, "No trials yet")
    fig = go.Figure()
    best: list[float | None] = []
    current: float | None = None
    for trial in scored:
        value = float(trial.objective)  # type: ignore[arg-type]
        if not trial.infeasible and (current is None or (value > current if maximize else value < current)):
            current = value
        best.append(current)
    fig.add_trace(go.Scatter(x=[t.number for t in scored], y=[t.objective for t in scored], mode="markers",
                             name="trial", marker={"size": 9, "color": TRAIN_COLOR}))
    fig.add_trace(go.Scatter(x=[t.number for t in scored], y=best, mode="lines", name="best so far",
                             line={"shape": "hv", "color": HIGHLIGHT, "width": 2.5}))
    failed = [t for t in trials if t.state in (TrialState.FAILED, TrialState.INTERRUPTED)]
    if failed:
        values = [float(t.objective) for t in scored]  # type: ignore[arg-type]
        base = (min(values) if maximize else max(values)) if values else 0.0
        fig.add_trace(go.Scatter(
            x=[t.number for t in failed], y=[base] * len(failed), mode="markers", name="failed / interrupted",
            marker={"symbol": "x", "size": 11, "color": MUTED},
            text=[f"trial {t.number} {t.state}: {t.error or ''}" for t in failed],
            hovertemplate="%{text}<extra></extra>"))
    if not scored:
        fig.add_annotation(text="No complete trial yet", showarrow=False, xref="paper", yref="paper",
                           x=0.5, y=0.5)
    fig.update_xaxes(title_text="trial", dtick=_dtick(max(t.number for t in trials)))
    fig.update_yaxes(title_text=objective)
    return _base(fig, title)


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
    fig = _base(fig, title, height=460)
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
    """The bounds of every numeric HP over the trials, one panel each, with the actions that moved them.

    A tuning version made after trial *t* applies from trial *t + 1*; its
    reason and the actions applied after *t* show on hover at that step.
    """
    title = "Search-space bounds over time (per tuning version)"
    if not versions:
        return empty_figure(title, "No search space stored yet")
    names: list[str] = []
    for version in versions:
        names += [d.name for d in version.space.dimensions if not isinstance(d, Categorical)
                  and d.name not in names]
    if not names:
        return empty_figure(title, "The search space has no numeric dimension")
    starts = [1 if v.after_trial is None else v.after_trial + 1 for v in versions]
    end = max([t.number for t in trials] + starts + [1]) + 0.5
    hover = _bounds_hover(versions, starts, actions)
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=names, vertical_spacing=min(0.12, 0.6 / rows),
                        horizontal_spacing=0.08)
    shown_moves = False
    for index, name in enumerate(names):
        row, col = index // cols + 1, index % cols + 1
        steps = _bounds_steps(name, versions, starts, hover, end)
        if steps is None:
            continue
        shown_moves = _add_bounds_panel(fig, steps, row, col, first=index == 0, shown_moves=shown_moves)
        newest = versions[-1].space[name] if name in versions[-1].space else None
        if isinstance(newest, Real) and newest.prior == "log-uniform":
            fig.update_yaxes(type="log", row=row, col=col)
        fig.update_xaxes(range=[0.5, end], dtick=_dtick(end), row=row, col=col)
    fig = _base(fig, title, height=max(320, 250 * rows + 80))
    fig.update_layout(legend={"y": -0.08 if rows > 2 else -0.2})
    return fig


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
    fig = _base(fig, title, height=max(260, 28 * len(names) + 150))
    fig.update_layout(margin={"l": 120, "b": 90})
    return fig


# -- rule weights ----------------------------------------------------------
def weights_figure(history: dict[int, dict[tuple[str, str], float]]) -> go.Figure:
    """The probability of every tuning rule (problem -> action) after each trial; 0 = the initial weights."""
    title = "Tuning-rule probabilities after each trial"
    if not history:
        return empty_figure(title, "No rule weights stored yet")
    trials = sorted(history)
    rules = sorted({key for weights in history.values() for key in weights}, key=lambda k: (k[1], k[0]))
    fig = go.Figure()
    for index, (action, problem) in enumerate(rules):
        xs = [0 if t == INITIAL_WEIGHTS_TRIAL else t for t in trials if (action, problem) in history[t]]
        ys = [history[t][(action, problem)] for t in trials if (action, problem) in history[t]]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=f"{problem} → {action}",
                                 line={"color": _PALETTE[index % len(_PALETTE)],
                                       "dash": ("solid", "dash", "dot")[index // len(_PALETTE) % 3]}))
    fig.update_xaxes(title_text="after trial (0 = initial weights)", dtick=_dtick(max(trials)))
    fig.update_yaxes(title_text="probability", range=[-0.02, 1.02])
    fig = _base(fig, title, height=480)
    fig.update_layout(legend={"orientation": "v", "y": 1, "x": 1.02, "yanchor": "top"},
                      margin={"r": 230})
    return fig


def actions_figure(actions: Sequence[ActionRecord]) -> go.Figure:
    """Which action was chosen after which trial, for which problem; hollow = chosen but not applied."""
    title = "Tuning actions chosen after each trial (hollow: not applied)"
    if not actions:
        return empty_figure(title, "No action chosen yet")
    problems = list(dict.fromkeys(a.problem for a in actions))
    fig = go.Figure()
    for index, problem in enumerate(problems):
        chosen = [a for a in actions if a.problem == problem]
        fig.add_trace(go.Scatter(
            x=[a.trial for a in chosen], y=[a.name for a in chosen], mode="markers", name=problem,
            marker={"size": 14, "color": _PALETTE[index % len(_PALETTE)],
                    "symbol": ["circle" if a.applied else "circle-open" for a in chosen],
                    "line": {"width": 2}},
            text=[f"{a.name} for {a.problem}, p={a.probability:.3f}, "
                  f"{'applied' if a.applied else 'not applied'}<br>{a.detail}" for a in chosen],
            hovertemplate="trial %{x}: %{text}<extra></extra>"))
    fig.update_xaxes(title_text="after trial", dtick=_dtick(max(a.trial for a in actions)))
    fig.update_yaxes(title_text="action", type="category")
    return _base(fig, title, height=360)


__all__ = ["empty_figure", "curves_figure", "live_figure", "compare_figure", "best_so_far_figure", "parallel_figure",
           "importance_figure", "bounds_figure", "weights_figure", "actions_figure"]
