"""The Dash app over HTTP: pages, layout, every callback; read-only; empty and failed studies."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from dashboard_helpers import get, get_json, post_json, running, study_fingerprint
from dashboard_study_factory import write_fake_keras

from symtuner.dashboard.app import PAGES, create_app
from symtuner.dashboard.data import LATEST, study_stamp
from symtuner.dashboard.servers import NetronViewer, free_port
from symtuner.errors import ConfigError, StudyError
from symtuner.storage import StudyStore


class Client:
    """Calls the app's callbacks the way the browser does, through /_dash-update-component."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.deps = get_json(url + "/_dash-dependencies")

    def call(self, output: str, values: dict[str, Any]) -> dict[str, Any] | None:
        dep = next(d for d in self.deps if output in d["output"])
        spec = dep["output"]
        parts = spec[2:-2].split("...") if spec.startswith("..") else [spec]
        outputs = [dict(zip(("id", "property"), p.rsplit(".", 1))) for p in parts]

        def fill(items: list[dict[str, str]]) -> list[dict[str, Any]]:
            return [{**item, "value": values.get(f"{item['id']}.{item['property']}")} for item in items]

        inputs = fill(dep["inputs"])
        payload = {"output": spec, "outputs": outputs if spec.startswith("..") else outputs[0],
                   "inputs": inputs, "state": fill(dep["state"]),
                   "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}
        status, body = post_json(self.url + "/_dash-update-component", payload)
        if status == 204 or not body:
            return None
        return body.get("response") or None  # no_update: an empty response


def _text(component: Any) -> str:
    """All the text inside a serialised Dash component tree."""
    return json.dumps(component)


def _ids(component: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(component, dict):
        if isinstance(component.get("props"), dict) and isinstance(component["props"].get("id"), str):
            found.add(component["props"]["id"])
        for value in component.values():
            found |= _ids(value)
    elif isinstance(component, list):
        for value in component:
            found |= _ids(value)
    return found


def test_pages_layout_and_every_callback(study: Path) -> None:
    before = study_fingerprint(study)
    app = create_app(study, refresh_ms=1000)
    with running(app) as url:
        for path, _ in PAGES + (("/", ""),):
            status, body = get(url + path)
            assert status == 200 and b"_dash-renderer" in body and b"symtuner" in body
        layout = get_json(url + "/_dash-layout")
        assert {"url", "refresh", "stamp", "trial-select", "page", "nav-metrics", "nav-architecture"} <= \
            _ids(layout)

        client = Client(url)
        stamp = client.call("stamp.data", {"refresh.n_intervals": 0})["stamp"]["data"]
        assert stamp == study_stamp(study)
        assert client.call("stamp.data", {"refresh.n_intervals": 1, "stamp.data": stamp}) is None

        page_ids = {
            "/metrics": {"fig-curves", "fig-compare", "fig-best", "metrics-summary", "compare-metric"},
            "/hyperparameters": {"fig-parallel", "trials-table", "fig-bounds", "versions-table"},
            "/weights": {"fig-weights", "fig-actions", "actions-table"},
            "/diagnosis": {"diagnosis-list"},
            "/architecture": {"netron-view", "model-summary", "architecture-info"},
            "/tensorboard": {"tensorboard-command"},
        }
        for path, ids in page_ids.items():
            page = client.call("page.children", {"url.pathname": path})["page"]["children"]
            assert ids <= _ids(page), path

        header = client.call("trial-select.options", {"stamp.data": stamp})
        options = header["trial-select"]["options"]
        assert [o["value"] for o in options] == [LATEST, 4, 3, 2, 1]
        assert "1 running" in header["study-summary"]["children"]

        metrics = client.call("fig-curves.figure", {"stamp.data": stamp, "trial-select.value": LATEST,
                                                    "compare-metric.value": "val_loss"})
        curves = metrics["fig-curves"]["figure"]
        assert "Trial 4 (running)" in curves["layout"]["title"]["text"]  # the live trial by default
        assert [len(t["x"]) for t in curves["data"]] == [2, 2, 2, 2]
        assert len(metrics["fig-compare"]["figure"]["data"]) == 4
        assert "best" in _text(metrics["fig-best"]["figure"])

        failed = client.call("fig-curves.figure", {"stamp.data": stamp, "trial-select.value": 3,
                                                   "compare-metric.value": "val_accuracy"})
        assert "out of memory" in _text(failed["metrics-summary"]["children"])

        hps = client.call("fig-parallel.figure", {"stamp.data": stamp})
        assert hps["fig-parallel"]["figure"]["data"][0]["type"] == "parcoords"
        assert _text(hps["trials-table"]["children"]).count('"Tr"') == 5  # header + 4 trials
        assert "after trial 2: inc_neurons" in _text(hps["versions-table"]["children"])

        weights = client.call("fig-weights.figure", {"stamp.data": stamp})
        assert len(weights["fig-weights"]["figure"]["data"]) == 4
        assert "inc_dropout" in _text(weights["actions-table"]["children"])

        diagnosis = client.call("diagnosis-list.children", {"stamp.data": stamp})
        text = _text(diagnosis)
        assert "underfitting" in text and "gap 0.27" in text and "at its cap" in text
        assert text.index("diagnosis-2") < text.index("diagnosis-1")  # newest first

        arch = client.call("netron-view.children", {"stamp.data": stamp, "trial-select.value": 1})
        assert "netron-off" in _ids(arch["netron-view"]["children"])  # no Netron configured
        assert "Conv2D" in _text(arch["model-summary"]["children"])
        missing = client.call("netron-view.children", {"stamp.data": stamp, "trial-select.value": 2})
        assert "model-missing" in _ids(missing["netron-view"]["children"])
        assert "trial_0002.keras" in _text(missing["netron-view"]["children"])
    assert study_fingerprint(study) == before


def test_empty_study_every_callback_answers(empty_study: Path) -> None:
    before = study_fingerprint(empty_study)
    with running(create_app(empty_study)) as url:
        client = Client(url)
        stamp = client.call("stamp.data", {"refresh.n_intervals": 0})["stamp"]["data"]
        values = {"stamp.data": stamp, "trial-select.value": LATEST, "compare-metric.value": "val_accuracy"}
        assert "no trials yet" in client.call("study-summary.children", values)["study-summary"]["children"]
        metrics = client.call("fig-curves.figure", values)
        assert "No trials yet" in _text(metrics["fig-curves"]["figure"])
        hps = client.call("fig-parallel.figure", values)
        assert "No trials yet" in _text(hps["trials-table"]["children"])
        assert "No search space" in _text(hps["fig-bounds"]["figure"])
        weights = client.call("fig-weights.figure", values)
        assert "No rule weights" in _text(weights["fig-weights"]["figure"])
        assert "diagnosis-empty" in _ids(client.call("diagnosis-list.children", values))
        arch = client.call("netron-view.children", values)
        assert "model-missing" in _ids(arch["netron-view"]["children"])
        page = client.call("page.children", {"url.pathname": "/tensorboard"})
        assert "tensorboard-nologs" in _ids(page)
    assert study_fingerprint(empty_study) == before


def test_live_updates_while_another_process_writes(study: Path) -> None:
    writer = StudyStore.open(study)
    try:
        with running(create_app(study)) as url:
            client = Client(url)
            stamp = client.call("stamp.data", {"refresh.n_intervals": 0})["stamp"]["data"]
            writer.record_epoch(4, 2, {"loss": 0.9, "accuracy": 0.8, "val_loss": 1.0, "val_accuracy": 0.75})
            new = client.call("stamp.data", {"refresh.n_intervals": 1, "stamp.data": stamp})
            assert new is not None and new["stamp"]["data"] != stamp
            metrics = client.call("fig-curves.figure", {"stamp.data": new["stamp"]["data"],
                                                        "trial-select.value": LATEST,
                                                        "compare-metric.value": "val_accuracy"})
            assert len(metrics["fig-curves"]["figure"]["data"][0]["x"]) == 3
    finally:
        writer.close()


def test_architecture_embeds_the_model_viewer(study: Path) -> None:
    shown: list[Path] = []

    def viewer(path: Path) -> str:
        shown.append(path)
        return "http://127.0.0.1:1/?model=x"

    with running(create_app(study, model_viewer=viewer)) as url:
        arch = Client(url).call("netron-view.children", {"stamp.data": "s", "trial-select.value": 1})
    frame = arch["netron-view"]["children"]
    assert frame["type"] == "Iframe" and frame["props"]["id"] == "netron-frame"
    assert frame["props"]["src"] == "http://127.0.0.1:1/?model=x"
    assert shown == [study / "models" / "trial_0001.keras"]


def test_tensorboard_link_and_static_netron_url(study: Path) -> None:
    app = create_app(study, netron_url="http://127.0.0.1:9/", tensorboard_url="http://127.0.0.1:6006/")
    with running(app) as url:
        client = Client(url)
        page = client.call("page.children", {"url.pathname": "/tensorboard"})
        assert "tensorboard-link" in _ids(page) and "http://127.0.0.1:6006/" in _text(page)
        arch = client.call("netron-view.children", {"stamp.data": "s", "trial-select.value": 1})
        assert arch["netron-view"]["children"]["props"]["src"] == "http://127.0.0.1:9/"


def test_bad_arguments_are_refused(tmp_path: Path, study: Path) -> None:
    with pytest.raises(StudyError, match="not a study directory"):
        create_app(tmp_path)
    with pytest.raises(ConfigError, match="refresh interval 10 ms"):
        create_app(study, refresh_ms=10)


def test_importing_the_dashboard_loads_neither_keras_nor_netron() -> None:
    code = ("import sys, symtuner.dashboard.app, symtuner.dashboard.report; "
            "print(sorted(m for m in ('keras', 'tensorflow', 'netron', 'problog') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_netron_viewer_serves_the_selected_model(tmp_path: Path) -> None:
    first = write_fake_keras(tmp_path / "models" / "trial_0001.keras")
    second = write_fake_keras(tmp_path / "other" / "trial_0002.keras")
    viewer = NetronViewer(free_port())
    try:
        url = viewer.show(first)
        assert url.startswith(viewer.base_url) and "trial_0001.keras" in url
        status, page = get(viewer.base_url)
        assert status == 200 and b'content="/data/trial_0001.keras"' in page
        assert get(viewer.base_url + "data/trial_0001.keras")[1] == first.read_bytes()
        assert viewer.show(first) == url  # same file: not restarted
        viewer.show(second)
        assert b'content="/data/trial_0002.keras"' in get(viewer.base_url)[1]
        with pytest.raises(StudyError, match="does not exist"):
            viewer.show(tmp_path / "nope.keras")
    finally:
        viewer.stop()
    _wait_closed(viewer.port)


def _wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on port {port}")


def _wait_closed(port: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"port {port} still answers")


def test_serve_runs_dash_netron_and_tensorboard_until_terminated(study: Path) -> None:
    port, netron_port = free_port(), free_port()
    code = ("import sys; from pathlib import Path; from symtuner.dashboard.app import serve; "
            f"serve(Path(sys.argv[1]), port={port}, netron_port={netron_port}, tensorboard=True)")
    process = subprocess.Popen([sys.executable, "-c", code, str(study)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        _wait_port(port)
        url = f"http://127.0.0.1:{port}"
        assert get(url + "/architecture")[0] == 200
        client = Client(url)
        arch = client.call("netron-view.children", {"stamp.data": "s", "trial-select.value": 1})
        src = arch["netron-view"]["children"]["props"]["src"]
        assert src.startswith(f"http://127.0.0.1:{netron_port}/")
        assert b"/data/trial_0001.keras" in get(src)[1]
        page = client.call("page.children", {"url.pathname": "/tensorboard"})
        board = re.search(r"http://127\.0\.0\.1:(\d+)/", _text(page))
        assert board is not None
        _wait_port(int(board.group(1)), timeout=90)
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0  # SIGTERM ends serve() cleanly
    _wait_closed(int(board.group(1)), timeout=15)  # TensorBoard was stopped with it
    _wait_closed(netron_port)
    _wait_closed(port)
