"""Plotly figures of a study, as pure functions of stored data.

The live dashboard and the offline report call the same functions, so both
show the same plots. Every function accepts empty input and then returns a
figure that says there is nothing to show yet. The figures of the search
space are in :mod:`.space_figures`, the shared layout in :mod:`.figure_base`;
both are offered here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from symtuner.app.dashboard.data import is_number
from symtuner.app.dashboard.figure_base import (
    HIGHLIGHT,
    MUTED,
    PALETTE,
    TRAIN_COLOR,
    VAL_COLOR,
    VIRIDIS,
    base,
    clean,
    dtick,
    empty_figure,
    epochs_axis,
)
from symtuner.app.dashboard.space_figures import bounds_figure, importance_figure, parallel_figure
from symtuner.core.records import Trial, TrialState
from symtuner.storage import INITIAL_WEIGHTS_TRIAL, ActionRecord

#: The layout helper under the name other modules of the dashboard import.
_base = base


# -- metrics ----------------------------------------------------------------
@dataclass(frozen=True)
class Guides:
    """Lines drawn across learning curves: chance level (a uniform guess's accuracy and loss) and the best
    objective of the study (on the panel of its series: validation accuracy or loss)."""

    chance: tuple[float, float] | None = None
    objective: str = "val_accuracy"
    best: Trial | None = None


def _guide(fig: go.Figure, y: float, text: str, col: int, color: str, dash: str) -> None:
    fig.add_hline(y=y, row=1, col=col, line={"color": color, "dash": dash, "width": 1.5},
                  annotation_text=text, annotation_position="top left",
                  annotation_font={"size": 11, "color": color})


def _add_guides(fig: go.Figure, trials: Sequence[Trial], guides: Guides | None) -> None:
    """Chance level on both panels (the loss's only for symtuner's own loss), the study's best objective on its
    panel; the loss axis starts at 0 and the accuracy axis spans 0..1, so a flat curve looks flat."""
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    if guides is None:
        return
    if guides.chance is not None:
        accuracy, loss = guides.chance
        _guide(fig, accuracy, f"chance level {accuracy:.2f}", 2, MUTED, "dot")
        if all(t.extra.get("own_loss", True) for t in trials):
            _guide(fig, loss, f"chance level {loss:.2f}", 1, MUTED, "dot")
    best = guides.best
    panel = {"val_accuracy": 2, "val_loss": 1}.get(guides.objective)
    if best is not None and panel is not None and is_number(best.objective):
        value = float(best.objective)  # type: ignore[arg-type]
        _guide(fig, value, f"best: trial {best.number}, {guides.objective} {value:.4f}", panel, HIGHLIGHT, "dash")


def curves_figure(trial: Trial | None, height: int = 380, guides: Guides | None = None) -> go.Figure:
    """Training and validation loss and accuracy per epoch of one trial (it may be running), with the
    ``guides`` (chance level, the study's best objective)."""
    if trial is None:
        return empty_figure("Learning curves", "No trials yet")
    title = f"Trial {trial.number} ({trial.state}): learning curves"
    curve = trial.curve
    if curve is None or curve.n_epochs == 0:
        message = f"Trial {trial.number} failed: {trial.error}" if trial.error else \
            f"Trial {trial.number} has no finished epoch yet"
        return empty_figure(title, message, height=min(height, 300))
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"), horizontal_spacing=0.1)
    epochs = epochs_axis(curve.n_epochs)
    for col, (train, val) in enumerate((("loss", "val_loss"), ("accuracy", "val_accuracy")), start=1):
        for key, color, dash, label in ((train, TRAIN_COLOR, "solid", f"training {train}"),
                                        (val, VAL_COLOR, "dash", f"validation {train}")):
            fig.add_trace(go.Scatter(x=epochs, y=clean(getattr(curve, key)), name=label, meta=key,
                                     mode="lines+markers", line={"color": color, "dash": dash}), row=1, col=col)
        fig.update_xaxes(title_text="epoch", dtick=dtick(curve.n_epochs), row=1, col=col)
    _add_guides(fig, [trial], guides)
    return base(fig, title, height)


def side_by_side_figure(trials: Sequence[Trial], guides: Guides | None = None) -> go.Figure:
    """The training (solid) and validation (dashed) loss and accuracy of several trials, one colour each."""
    title = "Learning curves of the trials picked: training solid, validation dashed"
    shown = [t for t in trials if t.curve is not None and t.curve.n_epochs > 0]
    if not shown:
        return empty_figure(title, "Pick trials that have finished an epoch", height=320)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"), horizontal_spacing=0.1)
    colours = [c for c in PALETTE if c != HIGHLIGHT]  # red is the best objective's line
    for index, trial in enumerate(shown):
        color = colours[index % len(colours)]
        epochs = epochs_axis(trial.curve.n_epochs)  # type: ignore[union-attr]
        for col, (train, val) in enumerate((("loss", "val_loss"), ("accuracy", "val_accuracy")), start=1):
            for key, dash, label in ((train, "solid", "training"), (val, "dash", "validation")):
                fig.add_trace(go.Scatter(
                    x=epochs, y=clean(getattr(trial.curve, key)), mode="lines+markers", meta=[trial.number, key],
                    name=f"trial {trial.number}", legendgroup=f"trial {trial.number}",
                    showlegend=col == 1 and key == train, line={"color": color, "dash": dash},
                    hovertemplate=f"trial {trial.number} {label} {train}<br>epoch %{{x}}: %{{y:.4f}}<extra></extra>"),
                    row=1, col=col)
    longest = max(t.curve.n_epochs for t in shown)  # type: ignore[union-attr]
    for col in (1, 2):
        fig.update_xaxes(title_text="epoch", dtick=dtick(longest), row=1, col=col)
    _add_guides(fig, shown, guides)
    return base(fig, title, height=460)


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
    if not any(t.curve and t.curve.n_epochs for t in running):  # no axes without a point to draw
        return empty_figure("Running now: " + ", ".join(progress),
                            "The curves start when the first epoch ends", height=220)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"), horizontal_spacing=0.1)
    longest = max([t.curve.n_epochs for t in running if t.curve] + [planned_epochs or 1])
    for index, trial in enumerate(running):
        if trial.curve is None or trial.curve.n_epochs == 0:
            continue
        color = PALETTE[index % len(PALETTE)]
        epochs = epochs_axis(trial.curve.n_epochs)
        for col, (train, val) in enumerate((("loss", "val_loss"), ("accuracy", "val_accuracy")), start=1):
            for key, dash, label in ((train, "solid", "training"), (val, "dash", "validation")):
                fig.add_trace(go.Scatter(
                    x=epochs, y=clean(getattr(trial.curve, key)), mode="lines+markers", meta=[trial.number, key],
                    name=f"trial {trial.number} {label}", legendgroup=f"trial {trial.number}",
                    showlegend=col == 1, line={"color": color, "dash": dash},
                    hovertemplate=f"trial {trial.number} {label} {train}<br>epoch %{{x}}: %{{y:.4f}}<extra></extra>"),
                    row=1, col=col)
    for col in (1, 2):
        fig.update_xaxes(title_text="epoch", range=[0.5, longest + 0.5], dtick=dtick(longest), row=1, col=col)
    return base(fig, "Running now: " + ", ".join(progress))


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
            x=epochs_axis(len(values)), y=clean(values), mode="lines+markers", name=f"trial {trial.number}",
            line={"width": 4 if bold else 1.5, "color": HIGHLIGHT if bold else None},
            opacity=1.0 if bold or highlight is None else 0.55,
            hovertemplate=f"trial {trial.number} ({trial.state})<br>epoch %{{x}}: %{{y:.4f}}<extra></extra>"))
    longest = max(len(getattr(t.curve, metric)) for t in with_curves)
    fig.update_xaxes(title_text="epoch", dtick=dtick(longest))
    fig.update_yaxes(title_text=metric)
    return base(fig, title)


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
        floor = (min(values) if maximize else max(values)) if values else 0.0
        fig.add_trace(go.Scatter(
            x=[t.number for t in failed], y=[floor] * len(failed), mode="markers", name="failed / interrupted",
            marker={"symbol": "x", "size": 11, "color": MUTED},
            text=[f"trial {t.number} {t.state}: {t.error or ''}" for t in failed],
            hovertemplate="%{text}<extra></extra>"))
    if not scored:
        fig.add_annotation(text="No complete trial yet", showarrow=False, xref="paper", yref="paper",
                           x=0.5, y=0.5)
    fig.update_xaxes(title_text="trial", dtick=dtick(max(t.number for t in trials)))
    fig.update_yaxes(title_text=objective)
    return base(fig, title)


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
                                 line={"color": PALETTE[index % len(PALETTE)],
                                       "dash": ("solid", "dash", "dot")[index // len(PALETTE) % 3]}))
    fig.update_xaxes(title_text="after trial (0 = initial weights)", dtick=dtick(max(trials)))
    fig.update_yaxes(title_text="probability", range=[-0.02, 1.02])
    fig = base(fig, title, height=480)
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
            marker={"size": 14, "color": PALETTE[index % len(PALETTE)],
                    "symbol": ["circle" if a.applied else "circle-open" for a in chosen],
                    "line": {"width": 2}},
            text=[f"{a.name} for {a.problem}, p={a.probability:.3f}, "
                  f"{'applied' if a.applied else 'not applied'}<br>{a.detail}" for a in chosen],
            hovertemplate="trial %{x}: %{text}<extra></extra>"))
    fig.update_xaxes(title_text="after trial", dtick=dtick(max(a.trial for a in actions)))
    fig.update_yaxes(title_text="action", type="category")
    return base(fig, title, height=360)


__all__ = ["Guides", "empty_figure", "curves_figure", "side_by_side_figure", "live_figure", "compare_figure", "best_so_far_figure", "parallel_figure",
           "importance_figure", "bounds_figure", "weights_figure", "actions_figure", "TRAIN_COLOR", "VAL_COLOR",
           "HIGHLIGHT", "MUTED", "VIRIDIS"]
