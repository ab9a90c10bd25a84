"""The dashboard's layout: the frame (header, navigation, trial picker) and one function per page.

The pages hold empty placeholders (graphs, tables) with fixed ids; the
callbacks of :mod:`symtuner.app.dashboard.callbacks` fill them in.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dash import dcc, html
from dash.dash_table.DataTable import DataTable

from symtuner.app.dashboard import figures, tradeoff
from symtuner.app.dashboard.data import LATEST
from symtuner.storage.layout import LOGS_DIR

#: (path, title) of every page; element ids use the path without its slash.
PAGES: tuple[tuple[str, str], ...] = (
    ("/metrics", "Metrics"),
    ("/compare", "Compare trials"),
    ("/hyperparameters", "Hyper-parameters"),
    ("/weights", "Rule weights"),
    ("/diagnosis", "Diagnosis"),
    ("/architecture", "Architecture"),
    ("/tradeoff", "Trade-off"),
    ("/tensorboard", "TensorBoard"),
)

COMPARE_METRICS = ("val_accuracy", "val_loss", "accuracy", "loss")

#: The picker's first entry: the running trial while one runs, else the best (a finished study opens on it).
LIVE_LABEL = "Running trial, else the best"

_GRAPH_CONFIG: Any = {"displaylogo": False, "responsive": True}


def app_layout(study_dir: Path, refresh_ms: int) -> html.Div:
    """The frame of every page: the header with the navigation and the trial picker, and the page."""
    nav = [dcc.Link(title, href=path, id=f"nav-{path[1:]}") for path, title in PAGES]
    return html.Div(id="app", children=[
        dcc.Location(id="url", refresh=False),
        dcc.Interval(id="refresh", interval=refresh_ms, n_intervals=0),
        dcc.Store(id="stamp"),
        html.Div(id="header", children=[
            html.H1(f"symtuner · {study_dir.name}", id="study-title"),
            html.Nav(nav, id="nav"),
            html.Span(id="study-summary"),
            html.Div(id="trial-picker", children=dcc.Dropdown(
                id="trial-select", options=[{"label": LIVE_LABEL, "value": LATEST}], value=LATEST,
                clearable=False, searchable=False)),
        ]),
        html.Main(id="page"),
    ])


def page_layout(path: str, study_dir: Path, tensorboard_url: str | None) -> html.Div:
    """The page at ``path`` (``/`` is the metrics page), or a message naming a path with no page."""
    if path in ("", "/"):
        path = "/metrics"
    if path == "/tensorboard":
        return html.Div(id="page-tensorboard", children=[_card(*tensorboard_content(study_dir, tensorboard_url))])
    build = _PAGE_BUILDERS.get(path)
    if build is None:
        return html.Div(id="page-missing", className="message",
                        children=f"No page at {path}. Pick one of the pages above.")
    return html.Div(id=f"page-{path[1:]}", children=build())


def _graph(graph_id: str) -> dcc.Graph:
    return dcc.Graph(id=graph_id, config=_GRAPH_CONFIG, figure=figures.empty_figure("", "Loading…"))


def _card(*children: Any, **kwargs: Any) -> html.Div:
    return html.Div(list(children), className="card", **kwargs)


def _metrics_page() -> list[Any]:
    return [
        _card(html.Div(id="metrics-summary")),
        _card(html.Div(id="live-status"), _graph("fig-live"), id="live-view"),
        _card(_graph("fig-curves")),
        _card(html.Label("Compare trials by "),
              dcc.RadioItems(id="compare-metric", options=list(COMPARE_METRICS), value="val_accuracy",
                             inline=True, inputStyle={"marginLeft": "12px", "marginRight": "4px"}),
              _graph("fig-compare")),
        _card(_graph("fig-best")),
    ]


def _compare_page() -> list[Any]:
    return [_card(html.Label("Trials to compare", htmlFor="compare-select"),
                  dcc.Dropdown(id="compare-select", multi=True, options=[], value=None,
                               placeholder="pick trials"),
                  _graph("fig-side-by-side"))]


def _hyperparameters_page() -> list[Any]:
    return [
        _card(_graph("fig-parallel")),
        _card(_graph("fig-importance")),
        _card(html.H3("Trials"), html.Div(id="trials-table", children=trials_datatable())),
        _card(_graph("fig-bounds")),
        _card(html.H3("Search-space versions"), html.Div(id="versions-table", className="scroll")),
    ]


def _weights_page() -> list[Any]:
    return [
        _card(_graph("fig-weights")),
        _card(_graph("fig-actions")),
        _card(html.H3("Chosen actions"), html.Div(id="actions-table", className="scroll")),
    ]


def _diagnosis_page() -> list[Any]:
    return [html.Div(id="diagnosis-list")]


def _architecture_page() -> list[Any]:
    return [
        _card(html.Div(id="architecture-info")),
        _card(html.Div(id="netron-view")),
        _card(html.H3("Layers"), html.Div(id="model-summary", className="scroll")),
    ]


_PAGE_BUILDERS: dict[str, Callable[[], list[Any]]] = {
    "/metrics": _metrics_page,
    "/compare": _compare_page,
    "/hyperparameters": _hyperparameters_page,
    "/weights": _weights_page,
    "/diagnosis": _diagnosis_page,
    "/architecture": _architecture_page,
    "/tradeoff": tradeoff.page,
}


def tensorboard_content(study_dir: Path, tensorboard_url: str | None) -> list[Any]:
    """The TensorBoard page: a link to the running TensorBoard, or the command that starts one."""
    logdir = study_dir / LOGS_DIR
    command = f"tensorboard --logdir {shlex.quote(str(logdir))}"
    content: list[Any] = [html.H3("TensorBoard")]
    if tensorboard_url:
        content += [html.P(["TensorBoard is running on this study's logs: ",
                            html.A(tensorboard_url, href=tensorboard_url, target="_blank",
                                   id="tensorboard-link")])]
    else:
        content += [html.P("Every training writes TensorBoard logs. Open them with:"),
                    html.Pre(command, id="tensorboard-command"),
                    html.P("or start the dashboard with --tensorboard to have it started for you.")]
    if not logdir.is_dir():
        content.append(html.P(f"({logdir} does not exist yet: no training has written logs.)",
                              id="tensorboard-nologs", className="message"))
    return content


def trials_datatable() -> list[Any]:
    """The trial table: sorted by clicking a header's arrows, filtered by typing under the headers.

    Its rows and columns are replaced on every refresh while its sort and
    filter stay as the user set them.
    """
    return [
        html.P(["Sort by clicking the arrows of a column header (several columns: click more headers). "
                "Filter by typing in the row under the headers: ", html.Code("> 0.9"), " or ", html.Code("<= 3"),
                " in a number column, any text (", html.Code("overfitting"), ") in the others."],
               className="hint"),
        html.P(id="trials-table-message"),
        DataTable(
            id="trials-table-rows", columns=[], data=[], sort_action="native", sort_mode="multi",
            filter_action="native", filter_options={"placeholder_text": "filter"}, page_action="none",
            style_table={"overflowX": "auto", "maxHeight": "520px", "overflowY": "auto"},
            style_cell={"fontSize": "13px", "textAlign": "left", "padding": "4px 8px", "whiteSpace": "normal",
                        "height": "auto", "maxWidth": "360px", "fontFamily": "inherit"},
            style_header={"backgroundColor": "#eef2f6", "fontWeight": "600"},
            style_filter={"backgroundColor": "#fbfcfd"}),
    ]


__all__ = ["PAGES", "COMPARE_METRICS", "LIVE_LABEL", "app_layout", "page_layout", "tensorboard_content", "trials_datatable"]
