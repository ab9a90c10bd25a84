"""The live dashboard of a study (Dash): metrics, HPs, rule weights, diagnoses, network, logs.

It only reads the study store (opened read-only on every refresh), so it can
watch a study that another process is running. Pages live at
``/metrics`` (also ``/``), ``/hyperparameters``, ``/weights``, ``/diagnosis``,
``/architecture`` and ``/tensorboard``; Netron, which draws the networks,
is served under ``/netron/`` by the same server (see
:mod:`symtuner.app.dashboard.netron_site`).

The layout is in :mod:`.layout`, the callbacks in :mod:`.callbacks`, the
HTML pieces they build in :mod:`.components`; this module assembles the app
and serves it.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import dash

from symtuner.app.dashboard.callbacks import register
from symtuner.app.dashboard.components import (
    architecture_components,
    datatable_columns,
    diagnosis_component,
    live_status,
    table_component,
)
from symtuner.app.dashboard.data import trial_model_file
from symtuner.app.dashboard.layout import COMPARE_METRICS, PAGES, app_layout
from symtuner.app.dashboard.netron_site import netron_blueprint, netron_files
from symtuner.app.dashboard.servers import check_port_free, is_loopback
from symtuner.app.dashboard.style import INDEX
from symtuner.core.errors import ConfigError
from symtuner.storage import StudyStore
from symtuner.storage.layout import LOGS_DIR


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
                    update_title="", serve_locally=True, index_string=INDEX)
    files = netron_files() if netron else None
    if files is not None:
        app.server.register_blueprint(netron_blueprint(files, lambda number: trial_model_file(study_dir, number)))
    app.layout = app_layout(study_dir, refresh_ms)
    register(app, study_dir, files is not None, tensorboard_url)
    return app


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
    board = TensorBoardProcess(study_dir / LOGS_DIR, free_port("127.0.0.1", 6006)).start() if tensorboard else None
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


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM ends serve() like Ctrl-C, so that TensorBoard is stopped too."""
    raise KeyboardInterrupt


__all__ = ["create_app", "serve", "check_port_free", "is_loopback", "PAGES", "COMPARE_METRICS",
           "table_component", "datatable_columns", "live_status", "diagnosis_component",
           "architecture_components"]
