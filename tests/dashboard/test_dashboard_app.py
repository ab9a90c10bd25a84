"""The Dash app over HTTP: pages, layout, every callback; read-only; empty and failed studies."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from dashboard_helpers import get, get_json, post_json, running, study_fingerprint
from dashboard_study_factory import write_fake_keras

from symtuner.app.dashboard.app import PAGES, create_app
from symtuner.app.dashboard.data import BEST, LATEST, study_stamp
from symtuner.app.dashboard.servers import free_port
from symtuner.core.errors import ConfigError, StudyError
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
    app = create_app(study, refresh_ms=1000, netron=False)
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
            "/metrics": {"fig-curves", "fig-compare", "fig-best", "metrics-summary", "compare-metric", "fig-live",
                         "live-status", "live-view"},
            "/compare": {"compare-select", "fig-side-by-side"},
            "/hyperparameters": {"fig-parallel", "fig-importance", "trials-table", "trials-table-rows",
                                 "fig-bounds", "versions-table"},
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
        assert [o["value"] for o in options] == [LATEST, BEST, 4, 3, 2, 1]
        assert options[1]["label"].startswith("Best: Trial 2 ")
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

        live = client.call("fig-live.figure", {"stamp.data": stamp})
        assert "Running now: trial 4 epoch 2 of 3" in live["fig-live"]["figure"]["layout"]["title"]["text"]
        assert live["live-view"]["style"] == {}  # shown while a trial runs
        assert "epoch 2 of 3 finished" in _text(live["live-status"]["children"])

        hps = client.call("fig-parallel.figure", {"stamp.data": stamp})
        parallel = hps["fig-parallel"]["figure"]["data"][0]
        assert parallel["type"] == "parcoords"
        assert parallel["line"]["colorbar"]["title"]["text"] == "val_accuracy"
        assert "at least 5 completed trials; 2 so far" in _text(hps["fig-importance"]["figure"])
        rows = hps["trials-table-rows"]["data"]
        assert [row["trial"] for row in rows] == [1, 2, 3, 4] and rows[1]["objective"] == 0.78
        columns = {c["id"]: c for c in hps["trials-table-rows"]["columns"]}
        assert columns["objective"]["type"] == "numeric" and columns["optimizer"]["type"] == "text"
        assert columns["learning_rate"]["type"] == "numeric" and columns["state"]["type"] == "text"
        assert "after trial 2: inc_neurons" in _text(hps["versions-table"]["children"])

        weights = client.call("fig-weights.figure", {"stamp.data": stamp})
        assert len(weights["fig-weights"]["figure"]["data"]) == 4
        assert "inc_dropout" in _text(weights["actions-table"]["children"])

        diagnosis = client.call("diagnosis-list.children", {"stamp.data": stamp, "trial-select.value": LATEST})
        text = _text(diagnosis)
        assert "underfitting" in text and "gap 0.27" in text and "at its cap" in text
        assert "Trial 4 has no diagnosis: it is running" in text  # the picker's trial is running
        assert text.index("diagnosis-2") < text.index("diagnosis-1")  # newest first
        picked = client.call("diagnosis-list.children", {"stamp.data": stamp, "trial-select.value": 1})
        entries = picked["diagnosis-list"]["children"]
        assert [e["props"]["id"] for e in entries] == ["diagnosis-1", "diagnosis-2"]  # the picked trial first
        assert [e["props"]["open"] for e in entries] == [True, False]

        side = client.call("fig-side-by-side.figure", {"stamp.data": stamp, "compare-select.value": None})
        assert side["compare-select"]["value"] == [2, 4, 3, 1]  # the best, then the newest
        assert {tuple(t["meta"]) for t in side["fig-side-by-side"]["figure"]["data"]} >= {(1, "loss"),
                                                                                          (2, "val_accuracy")}

        arch = client.call("netron-view.children", {"stamp.data": stamp, "trial-select.value": 1})
        assert "netron-off" in _ids(arch["netron-view"]["children"])  # Netron switched off
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
        live = client.call("fig-live.figure", values)
        assert "No trial is running" in _text(live["fig-live"]["figure"]) and "live-idle" in _ids(live)
        hps = client.call("fig-parallel.figure", values)
        assert "No trials yet" in _text(hps["trials-table-message"]["children"])
        assert hps["trials-table-rows"]["data"] == []
        assert "0 so far" in _text(hps["fig-importance"]["figure"])
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


def test_live_view_shows_every_running_trial_epoch_by_epoch(study: Path) -> None:
    """Two trials running in parallel: each stored epoch shows in the live view at the next refresh."""
    writer = StudyStore.open(study)
    try:
        five = writer.start_trial({"unit_c1": 30, "optimizer": "Adam"}, 3)
        with running(create_app(study, netron=False)) as url:
            client = Client(url)
            seen = []
            for trial, epoch in ((5, 0), (4, 2), (5, 1)):
                writer.record_epoch(trial, epoch, {"loss": 1.0 - 0.1 * epoch, "accuracy": 0.5 + 0.1 * epoch,
                                                   "val_loss": 1.1, "val_accuracy": 0.45 + 0.1 * epoch})
                live = client.call("fig-live.figure", {"stamp.data": study_stamp(study)})
                traces = live["fig-live"]["figure"]["data"]
                seen.append({(t["meta"][0], t["meta"][1]): len(t["x"]) for t in traces})
                status = _text(live["live-status"]["children"])
                assert "live-trial-4" in status and f"live-trial-{five}" in status
    finally:
        writer.close()
    assert [(s[(4, "val_accuracy")], s.get((5, "val_accuracy"))) for s in seen] == [(2, 1), (3, 1), (3, 2)]


def test_a_finished_trial_leaves_the_live_view(study: Path) -> None:
    with StudyStore.open(study) as writer:
        writer.fail_trial(4, "stopped by hand")
    with running(create_app(study, netron=False)) as url:
        live = Client(url).call("fig-live.figure", {"stamp.data": "s"})
    assert "live-idle" in _ids(live) and "No trial is running" in _text(live["fig-live"]["figure"])


def test_architecture_embeds_netron_served_by_the_dashboard(study: Path) -> None:
    model = study / "models" / "trial_0001.keras"
    with running(create_app(study)) as url:
        arch = Client(url).call("netron-view.children", {"stamp.data": "s", "trial-select.value": 1})
        frame = arch["netron-view"]["children"]
        assert frame["type"] == "Iframe" and frame["props"]["id"] == "netron-frame"
        src = frame["props"]["src"]
        assert src == f"/netron/?trial=1&v={model.stat().st_mtime_ns}"  # same origin as the dashboard
        with urllib.request.urlopen(url + src, timeout=20) as response:
            page = response.read().decode()
            headers = response.headers
        assert "connect-src 'self'" in headers["Content-Security-Policy"]
        assert re.search(r"consent=\d+; .*Path=/netron/", headers["Set-Cookie"])  # Netron asks no consent
        assert '<meta name="file" content="model/1/trial_0001.keras">' in page
        assert '<meta name="version"' not in page and '<meta name="date"' not in page
        assert get(url + "/netron/model/1/trial_0001.keras")[1] == model.read_bytes()
        status, script = get(url + "/netron/view.js")
        assert status == 200 and len(script) > 100_000
        for bad, code in (("/netron/?trial=2", 404),  # trial 2's model file is missing
                          ("/netron/?trial=99", 404), ("/netron/?trial=x", 400),
                          ("/netron/model/1/other.keras", 404), ("/netron/model/2/trial_0002.keras", 404),
                          ("/netron/index.html", 404), ("/netron/server.py", 404),
                          ("/netron/%2e%2e/%2e%2e/study.db", 404)):
            with pytest.raises(urllib.error.HTTPError) as failure:
                get(url + bad)
            assert failure.value.code == code, bad


def test_a_model_path_outside_the_study_is_not_served_to_netron(study: Path, tmp_path: Path) -> None:
    import sqlite3

    secret = write_fake_keras(tmp_path / "secret.keras")
    conn = sqlite3.connect(study / "study.db")
    conn.execute("UPDATE trials SET model_path=? WHERE number=1", (str(secret),))
    conn.commit()
    conn.close()
    with running(create_app(study)) as url:
        for path in ("/netron/?trial=1", "/netron/model/1/secret.keras"):
            with pytest.raises(urllib.error.HTTPError) as failure:
                get(url + path)
            assert failure.value.code == 404


def test_netron_page_is_netrons_own_with_the_file_and_without_age_or_version() -> None:
    from symtuner.app.dashboard.netron_site import netron_files, netron_page

    files = netron_files()
    assert files is not None
    template = (files / "index.html").read_text(encoding="utf-8")
    assert '<meta name="version" content="9.3.3">' in template and '<meta name="date"' in template
    page = netron_page(template, "model/3/a b.keras", 'a"b.keras', "trial 3")
    assert '<meta name="file" content="model/3/a b.keras">' in page
    assert '<meta name="identifier" content="a&quot;b.keras">' in page
    assert '<meta name="type" content="Python">' in page
    assert "<meta name=\"version\"" not in page and "<meta name=\"date\"" not in page
    assert page.replace("\n", "").count("</head>") == 1 and len(page) > len(template) - 200
    with pytest.raises(StudyError, match="no single </head>"):
        netron_page("<html><body></body></html>", "m", "m", "t")


def test_tensorboard_link_and_netron_off(study: Path) -> None:
    app = create_app(study, tensorboard_url="http://127.0.0.1:6006/", netron=False)
    with running(app) as url:
        client = Client(url)
        page = client.call("page.children", {"url.pathname": "/tensorboard"})
        assert "tensorboard-link" in _ids(page) and "http://127.0.0.1:6006/" in _text(page)
        arch = client.call("netron-view.children", {"stamp.data": "s", "trial-select.value": 1})
        assert "pip install netron" in _text(arch["netron-view"]["children"])
        assert b"_dash-renderer" in get(url + "/netron/view.js")[1]  # the dashboard's page, not Netron's script


def test_bad_arguments_are_refused(tmp_path: Path, study: Path) -> None:
    with pytest.raises(StudyError, match="not a study directory"):
        create_app(tmp_path)
    with pytest.raises(ConfigError, match="refresh interval 10 ms"):
        create_app(study, refresh_ms=10)


def test_importing_the_dashboard_loads_neither_keras_nor_netron() -> None:
    code = ("import sys, symtuner.app.dashboard.app, symtuner.app.dashboard.report; "
            "print(sorted(m for m in ('keras', 'tensorflow', 'netron', 'problog') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


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


def test_dashboard_command_serves_quietly_with_netron_and_tensorboard_until_terminated(study: Path,
                                                                                      tmp_path: Path) -> None:
    port = free_port()
    code = "import sys; from symtuner.app.cli import main; sys.exit(main(sys.argv[1:]))"
    log = tmp_path / "output.txt"
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-c", code, "dashboard", str(study), "--port", str(port),
                                    "--tensorboard"], stdout=output, stderr=subprocess.STDOUT)
    board = None
    try:
        _wait_port(port)
        url = f"http://127.0.0.1:{port}"
        assert get(url + "/architecture")[0] == 200
        client = Client(url)
        for tick in range(5):  # what the page's polling does
            client.call("stamp.data", {"refresh.n_intervals": tick})
        arch = client.call("netron-view.children", {"stamp.data": "s", "trial-select.value": 1})
        src = arch["netron-view"]["children"]["props"]["src"]
        assert src.startswith("/netron/?trial=1")
        assert b"model/1/trial_0001.keras" in get(url + src)[1]
        page = client.call("page.children", {"url.pathname": "/tensorboard"})
        board = re.search(r"http://127\.0\.0\.1:(\d+)/", _text(page))
        assert board is not None
        _wait_port(int(board.group(1)), timeout=90)
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0  # SIGTERM ends serve() cleanly
    output_text = log.read_text()
    assert f"on http://127.0.0.1:{port}/" in output_text  # where it serves
    assert "_dash-update-component" not in output_text and "GET /" not in output_text  # no line per request
    assert "HTTP/1.1" not in output_text
    if board is not None:
        _wait_closed(int(board.group(1)), timeout=15)  # TensorBoard was stopped with it
    _wait_closed(port)
