"""What every figure of the dashboard and the report shares: colours, the layout, an empty figure."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.colors import sequential

from symtuner.app.dashboard.data import is_number

#: Per-series colours, kept the same across figures.
TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#ff7f0e"
HIGHLIGHT = "#d62728"
MUTED = "#9aa5b1"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")

#: Plotly's Viridis as (position, colour) stops: dark purple (worst) to yellow (best).
VIRIDIS = tuple((i / (len(sequential.Viridis) - 1), colour) for i, colour in enumerate(sequential.Viridis))

#: Kept in every figure so that a refresh does not reset the user's zoom.
UIREVISION = "symtuner"


def base(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    """``fig`` with the common layout: title, height, white template, legend below."""
    fig.update_layout(title=title, height=height, template="plotly_white", uirevision=UIREVISION,
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
    return base(fig, title, height)


def dtick(last: float) -> int | None:
    """Tick every integer on short axes; let plotly choose on long ones."""
    return 1 if last <= 25 else None


def epochs_axis(n: int) -> list[int]:
    """The epoch numbers 1..n."""
    return list(range(1, n + 1))


def clean(values: Sequence[float]) -> list[float | None]:
    """``values`` with non-finite entries as gaps."""
    return [v if is_number(v) else None for v in values]


__all__ = ["TRAIN_COLOR", "VAL_COLOR", "HIGHLIGHT", "MUTED", "PALETTE", "VIRIDIS", "UIREVISION", "base",
           "empty_figure", "dtick", "epochs_axis", "clean"]
