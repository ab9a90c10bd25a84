"""Helpers of the dashboard tests: serve an app in a thread, fetch JSON, fingerprint a study."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def running(app: Any) -> Iterator[str]:
    """Serve a Dash app on a free local port in a background thread; yields its base URL."""
    from werkzeug.serving import make_server

    from symtuner.app.dashboard.servers import QuietRequestHandler

    server = make_server("127.0.0.1", 0, app.server, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=20) as response:
        return response.status, response.read()


def get_json(url: str) -> Any:
    return json.loads(get(url)[1])


def post_json(url: str, payload: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
        return response.status, (json.loads(body) if body else None)


def study_fingerprint(directory: Path) -> tuple[str, dict[str, int]]:
    """SHA-256 of study.db and the row count of every table."""
    digest = hashlib.sha256((directory / "study.db").read_bytes()).hexdigest()
    conn = sqlite3.connect(f"file:{directory / 'study.db'}?mode=ro", uri=True)
    try:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        counts = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
    finally:
        conn.close()
    return digest, counts
