"""The live dashboard of a study (Dash): metrics, HPs, rule weights, diagnoses, network, logs.

It only reads the study store (opened read-only on every refresh), so it can
watch a study that another process is running. Pages live at
``/metrics`` (also ``/``), ``/hyperparameters``, ``/weights``, ``/diagnosis``,
``/architecture`` and ``/tensorboard``; Netron, which draws the networks,
is served under ``/netron/`` by the same server (see
:mod:`symtuner.app.dashboard.netron_site`).
"""

from __future__ import annotations

import shlex
import signal
import threading
import time
from pathlib import Path
from typing import Any

import dash
from dash import Input, Output, State, dcc, html
from dash.dash_table.DataTable import DataTable
from dash.dash_table.Format import Format, Scheme, Trim

from symtuner.app.dashboard import figures
from symtuner.app.dashboard.data import (
    LATEST,
    StudySnapshot,
    fmt,
    load_snapshot,
    study_stamp,
    trial_label,
    trial_model_file,
)
from symtuner.app.dashboard.importance import Importance, param_importance
from symtuner.app.dashboard.model_summary import read_layers
from symtuner.app.dashboard.netron_site import netron_blueprint, netron_files, viewer_url
from symtuner.app.dashboard.tables import (
    Records,
    Table,
    actions_table,
    diagnosis_entries,
    trials_records,
    versions_table,
)
from symtuner.core.errors import ConfigError, StudyError
from symtuner.storage import StudyStore
from symtuner.tuning.hypotheses import change_states

#: (path, title) of every page; element ids use the path without its slash.
PAGES: tuple[tuple[str, str], ...] = (
    ("/metrics", "Metrics"),
    ("/hyperparameters", "Hyper-parameters"),
    ("/weights", "Rule weights"),
    ("/diagnosis", "Diagnosis"),
    ("/architecture", "Architecture"),
    ("/tensorboard", "TensorBoard"),
)

COMPARE_METRICS = ("val_accuracy", "val_loss", "accuracy", "loss")

_GRAPH_CONFIG: Any = {"displaylogo": False, "responsive": True}

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1d2733;
       background: #f5f7fa; }
#header { background: #1d2733; color: #fff; padding: 10px 20px; display: flex; flex-wrap: wrap;
          align-items: center; gap: 18px; }
#header h1 { font-size: 20px; margin: 0; }
#study-summary { font-size: 14px; opacity: 0.85; }
#nav a { color: #cfe0f5; margin-right: 14px; text-decoration: none; font-weight: 500; }
#nav a:hover { text-decoration: underline; }
#nav a.current { color: #fff; border-bottom: 2px solid #ff7f0e; }
#trial-picker { min-width: 280px; color: #1d2733; margin-left: auto; }
#page { padding: 16px 20px; }
.card { background: #fff; border-radius: 6px; box-shadow: 0 1px 3px rgba(0,0,0,.12); padding: 12px;
        margin-bottom: 16px; }
table.data { border-collapse: collapse; font-size: 13px; width: 100%; }
table.data th, table.data td { border-bottom: 1px solid #e3e8ee; padding: 4px 8px; text-align: left;
                               vertical-align: top; }
table.data th { background: #eef2f6; position: sticky; top: 0; }
table.data.compact { width: auto; min-width: 420px; }
.scroll { overflow: auto; max-height: 480px; }
.message { padding: 14px; background: #fff8e1; border-left: 4px solid #f0ad4e; }
.error { padding: 14px; background: #fdecea; border-left: 4px solid #d62728; }
pre { background: #f0f3f7; padding: 10px; overflow: auto; font-size: 13px; }
details summary { cursor: pointer; font-weight: 600; padding: 4px 0; }
.hint { font-size: 13px; color: #555; margin: 0 0 8px; }
iframe#netron-frame { width: 100%; height: 640px; border: 1px solid #d0d7de; border-radius: 4px;
                      background: #fff; }
"""

_INDEX = """<!DOCTYPE html>
<html>
<head>{%metas%}<title>{%title%}</title>{%favicon%}{%css%}<style>""" + _CSS + """</style></head>
<body>{%app_entry%}<footer>{%config%}{%scripts%}{%renderer%}</footer></body>
</html>"""

def create_app(study_dir: Path, tensorboard_url: str | None = None, *, netron: bool = True,
               refresh_ms: int = 3000) -> dash.Dash:
    """The dashboard of the study in ``study_dir``, not yet serving.

    With ``netron`` (and the netron package installed) the Architecture page
    draws the selected trial's network with Netron, served by this app under
    ``/netron/``; otherwise it shows the layer summary and the command that
    opens Netron. ``tensorboard_url`` is linked from the TensorBoard page
    when given. Raises :class:`StudyError` if ``study_dir`` holds no study.
    """
    study_dir = Path(study_dir)
    StudyStore.open(study_dir, readonly=True).close()
    if refresh_ms < 250:
        raise ConfigError(f"refresh interval {refresh_ms} ms is too short (minimum 250 ms)")
    app = dash.Dash(__name__, title=f"symtuner: {study_dir.name}", suppress_callback_exceptions=True,
                    update_title="", serve_locally=True, index_string=_INDEX)
    files = netron_files() if netron else None
    if files is not None:
        app.server.register_blueprint(netron_blueprint(files, lambda number: trial_model_file(study_dir, number)))
    app.layout = _layout(study_dir, refresh_ms)
    _register(app, study_dir, files is not None, tensorboard_url)
    return app


# -- layout ----------------------------------------------------------------
def _layout(study_dir: Path, refresh_ms: int) -> html.Div:
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
                id="trial-select", options=[{"label": "Latest trial (live)", "value": LATEST}], value=LATEST,
                clearable=False, searchable=False)),
        ]),
        html.Main(id="page"),
    ])


def _graph(graph_id: str) -> dcc.Graph:
    return dcc.Graph(id=graph_id, config=_GRAPH_CONFIG, figure=figures.empty_figure("", "Loading…"))


def _card(*children: Any, **kwargs: Any) -> html.Div:
    return html.Div(list(children), className="card", **kwargs)


def _page_layout(path: str, study_dir: Path, tensorboard_url: str | None) -> html.Div:
    if path in ("/", "", "/metrics"):
        return html.Div(id="page-metrics", children=[
            _card(html.Div(id="metrics-summary")),
            _card(html.Div(id="live-status"), _graph("fig-live"), id="live-view"),
            _card(_graph("fig-curves")),
            _card(html.Label("Compare trials by "),
                  dcc.RadioItems(id="compare-metric", options=list(COMPARE_METRICS), value="val_accuracy",
                                 inline=True, inputStyle={"marginLeft": "12px", "marginRight": "4px"}),
                  _graph("fig-compare")),
            _card(_graph("fig-best")),
        ])
    if path == "/hyperparameters":
        return html.Div(id="page-hyperparameters", children=[
            _card(_graph("fig-parallel")),
            _card(_graph("fig-importance")),
            _card(html.H3("Trials"), html.Div(id="trials-table", children=_trials_datatable())),
            _card(_graph("fig-bounds")),
            _card(html.H3("Search-space versions"), html.Div(id="versions-table", className="scroll")),
        ])
    if path == "/weights":
        return html.Div(id="page-weights", children=[
            _card(_graph("fig-weights")),
            _card(_graph("fig-actions")),
            _card(html.H3("Chosen actions"), html.Div(id="actions-table", className="scroll")),
        ])
    if path == "/diagnosis":
        return html.Div(id="page-diagnosis", children=[html.Div(id="diagnosis-list")])
    if path == "/architecture":
        return html.Div(id="page-architecture", children=[
            _card(html.Div(id="architecture-info")),
            _card(html.Div(id="netron-view")),
            _card(html.H3("Layers"), html.Div(id="model-summary", className="scroll")),
        ])
    if path == "/tensorboard":
        return html.Div(id="page-tensorboard", children=[_card(*_tensorboard_content(study_dir,
                                                                                      tensorboard_url))])
    return html.Div(id="page-missing", className="message",
                    children=f"No page at {path}. Pick one of the pages above.")


def _tensorboard_content(study_dir: Path, tensorboard_url: str | None) -> list[Any]:
    logdir = study_dir / "logs"
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


def _trials_datatable() -> list[Any]:
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


# -- callbacks ---------------------------------------------------------------
def _register(app: dash.Dash, study_dir: Path, netron: bool, tensorboard_url: str | None) -> None:
    importances = _ImportanceCache()

    def snapshot() -> StudySnapshot | None:
        try:
            return load_snapshot(study_dir, live=True)
        except StudyError:
            return None

    @app.callback(Output("page", "children"), Input("url", "pathname"))
    def render_page(pathname: str | None) -> Any:
        return _page_layout(pathname or "/", study_dir, tensorboard_url)

    @app.callback([Output(f"nav-{path[1:]}", "className") for path, _ in PAGES], Input("url", "pathname"))
    def mark_current(pathname: str | None) -> list[str]:
        current = "/metrics" if pathname in (None, "", "/") else pathname
        return ["current" if path == current else "" for path, _ in PAGES]

    @app.callback(Output("stamp", "data"), Input("refresh", "n_intervals"), State("stamp", "data"))
    def poll(_: int | None, previous: str | None) -> Any:
        stamp = study_stamp(study_dir)
        return dash.no_update if stamp == previous else stamp

    @app.callback(Output("trial-select", "options"), Output("study-summary", "children"),
                  Input("stamp", "data"))
    def header(_: str | None) -> tuple[list[dict[str, Any]], Any]:
        snap = snapshot()
        options: list[dict[str, Any]] = [{"label": "Latest trial (live)", "value": LATEST}]
        if snap is None:
            return options, html.Span(f"cannot read the study in {study_dir}", className="error")
        options += [{"label": trial_label(t), "value": t.number} for t in reversed(snap.trials)]
        return options, _summary_text(snap)

    @app.callback(Output("metrics-summary", "children"), Output("fig-curves", "figure"),
                  Output("fig-compare", "figure"), Output("fig-best", "figure"),
                  Input("stamp", "data"), Input("trial-select", "value"), Input("compare-metric", "value"))
    def metrics(_: str | None, choice: Any, metric: str | None) -> tuple[Any, ...]:
        snap = snapshot()
        if snap is None:
            return (_unreadable(study_dir),) + (figures.empty_figure("", "Study unreadable"),) * 3
        trial = snap.selected(choice)
        best = snap.best()
        summary: list[Any] = [html.B(f"{len(snap.trials)} trial(s). ")]
        if best is not None:
            summary.append(f"Best: trial {best.number}, {snap.objective} {best.objective:.4f}. ")
        if trial is not None:
            summary.append(f"Showing {trial_label(trial)}.")
        if trial is not None and trial.error:
            summary.append(html.Div(f"Trial {trial.number} {trial.state}: {trial.error}", className="error"))
        return (summary, figures.curves_figure(trial),
                figures.compare_figure(snap.trials, metric or "val_accuracy",
                                       trial.number if trial else None),
                figures.best_so_far_figure(snap.trials, snap.maximize, snap.objective))

    @app.callback(Output("live-status", "children"), Output("fig-live", "figure"), Input("stamp", "data"))
    def live(_: str | None) -> tuple[Any, Any]:
        snap = snapshot()
        if snap is None:
            return _unreadable(study_dir), figures.empty_figure("Running now", "Study unreadable")
        running = snap.running()
        return live_status(running, snap.planned_epochs), figures.live_figure(running, snap.planned_epochs)

    @app.callback(Output("fig-parallel", "figure"), Output("fig-importance", "figure"),
                  Output("trials-table-rows", "data"), Output("trials-table-rows", "columns"),
                  Output("trials-table-message", "children"),
                  Output("fig-bounds", "figure"), Output("versions-table", "children"),
                  Input("stamp", "data"))
    def hyperparameters(_: str | None) -> tuple[Any, ...]:
        snap = snapshot()
        if snap is None:
            empty = figures.empty_figure("", "Study unreadable")
            return empty, empty, [], [], _unreadable(study_dir), empty, ""
        records = trials_records(snap)
        message = "" if records.rows else html.Span("No trials yet.", className="message", id="trials-empty")
        return (figures.parallel_figure(snap.trials, snap.versions, snap.objective, snap.maximize),
                figures.importance_figure(importances.get(snap), snap.objective),
                list(records.rows), datatable_columns(records), message,
                figures.bounds_figure(snap.versions, snap.trials, snap.actions),
                table_component(versions_table(snap.versions), "versions-table-rows",
                                "No search space stored yet."))

    @app.callback(Output("fig-weights", "figure"), Output("fig-actions", "figure"),
                  Output("actions-table", "children"), Input("stamp", "data"))
    def weights(_: str | None) -> tuple[Any, ...]:
        snap = snapshot()
        if snap is None:
            empty = figures.empty_figure("", "Study unreadable")
            return empty, empty, _unreadable(study_dir)
        return (figures.weights_figure(snap.weights), figures.actions_figure(snap.actions),
                table_component(actions_table(snap.actions, change_states(snap.versions, snap.verdicts)),
                                "actions-table-rows", "No action chosen yet."))

    @app.callback(Output("diagnosis-list", "children"), Input("stamp", "data"))
    def diagnosis(_: str | None) -> Any:
        snap = snapshot()
        if snap is None:
            return _unreadable(study_dir)
        return diagnosis_component(snap)

    @app.callback(Output("architecture-info", "children"), Output("netron-view", "children"),
                  Output("model-summary", "children"),
                  Input("stamp", "data"), Input("trial-select", "value"))
    def architecture(_: str | None, choice: Any) -> tuple[Any, Any, Any]:
        snap = snapshot()
        if snap is None:
            return _unreadable(study_dir), "", ""
        return architecture_components(snap, choice, netron)


class _ImportanceCache:
    """The last parameter importance computed, reused until a trial completes or the space changes.

    The page refreshes after every epoch; the forest behind the importance
    only learns from completed trials, so it is refitted only when they change.
    """

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._value = Importance()
        self._lock = threading.Lock()

    def get(self, snap: StudySnapshot) -> Importance:
        key = (len(snap.versions),) + tuple((t.number, t.objective) for t in snap.trials if t.is_complete)
        with self._lock:
            if key != self._key:
                self._value, self._key = param_importance(snap.trials, snap.versions), key
            return self._value


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


def _unreadable(study_dir: Path) -> html.Div:
    return html.Div(f"The study in {study_dir} cannot be read right now.", className="error")


def _summary_text(snap: StudySnapshot) -> str:
    states: dict[str, int] = {}
    for trial in snap.trials:
        states[trial.state] = states.get(trial.state, 0) + 1
    counts = ", ".join(f"{n} {s}" for s, n in states.items()) or "no trials yet"
    best = snap.best()
    best_text = f" · best {snap.objective} {best.objective:.4f} (trial {best.number})" if best else ""
    return f"{counts}{best_text} · {len(snap.versions)} search-space version(s)"


def diagnosis_component(snap: StudySnapshot) -> Any:
    """Per diagnosed trial (newest first, newest open): facts, problems, actions and the explanation."""
    entries = diagnosis_entries(snap.trials)
    if not entries:
        return html.P("No trial has been diagnosed yet.", className="message", id="diagnosis-empty")
    out = []
    for index, entry in enumerate(entries):
        body: list[Any] = [
            html.P(entry.explanation or "(no explanation)", className="explanation"),
            html.P([html.B("Problems: "), ", ".join(entry.problems) or "none"]),
            html.B("Actions"), table_component(entry.actions, empty="No action chosen.", compact=True),
        ]
        if entry.skipped:
            body.append(html.P([html.B("Skipped: "), "; ".join(entry.skipped)]))
        facts = table_component(entry.facts, empty="No facts.", compact=True)
        body.append(html.Details([html.Summary("Facts"), facts], open=index == 0))
        out.append(html.Details([html.Summary(entry.title), *body], open=index == 0, className="card",
                                id=f"diagnosis-{entry.trial}"))
    return out


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
    try:
        layers = read_layers(path)
    except StudyError as exc:
        layers_view: Any = html.P(str(exc), className="error")
    else:
        layers_view = table_component(Table(("layer", "type", "settings"), tuple(
            ("\u00a0\u00a0" * layer.depth + layer.name, layer.kind, layer.settings) for layer in layers)),
            "model-layers")
    if netron:
        view: Any = html.Iframe(id="netron-frame", src=viewer_url(trial.number, path),
                                title=f"Netron: {path.name}")
    else:
        view = html.Div(id="netron-off", className="message", children=[
            "Netron is not installed for this dashboard (pip install netron). Open the network with: ",
            html.Code(f"netron {shlex.quote(str(path))}")])
    return info, view, layers_view


def serve(study_dir: Path, host: str = "127.0.0.1", port: int = 8050, tensorboard: bool = False) -> None:
    """Serve the dashboard until interrupted (blocking); the caller says where (the command line prints it).

    Requests are not logged: the page polls the study every few seconds, and
    a line per poll would bury everything else; failures are still reported.
    Netron is served by the dashboard itself, under ``/netron/``.
    With ``tensorboard``, TensorBoard runs on the study's logs as a child
    process that ends with the dashboard.
    """
    from symtuner.app.dashboard.servers import QuietRequestHandler, TensorBoardProcess, free_port

    study_dir = Path(study_dir)
    StudyStore.open(study_dir, readonly=True).close()
    check_port_free(host, port)
    board = TensorBoardProcess(study_dir / "logs", free_port("127.0.0.1", 6006)).start() if tensorboard else None
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main else None
    server = None
    try:
        from werkzeug.serving import make_server

        app = create_app(study_dir, tensorboard_url=board.url if board else None)
        server = make_server(host, port, app.server, threaded=True, request_handler=QuietRequestHandler)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
        if server is not None:
            server.server_close()
        if board is not None:
            board.stop()


def check_port_free(host: str, port: int) -> None:
    """Fail with one clear line, before anything starts, when ``host:port`` cannot be bound."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ConfigError(f"dashboard host {host!r} cannot be resolved: {exc}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        try:
            probe.bind(address)
        except OSError as exc:
            raise ConfigError(f"cannot serve the dashboard on {host}:{port}: {exc.strerror or exc} "
                              "(choose another --port or --host)") from None


def is_loopback(host: str) -> bool:
    """True when ``host`` names this machine only (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM ends serve() like Ctrl-C, so that TensorBoard is stopped too."""
    raise KeyboardInterrupt


__all__ = ["create_app", "serve", "PAGES", "COMPARE_METRICS", "table_component", "diagnosis_component",
           "architecture_components"]
