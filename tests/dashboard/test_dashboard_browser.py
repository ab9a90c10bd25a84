"""End to end: headless Chromium opens every dashboard page of a small study."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from dashboard_helpers import running, study_fingerprint
from dashboard_study_factory import write_keras_model

from symtuner.dashboard.app import create_app
from symtuner.dashboard.servers import NetronViewer, free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-quic", "--disable-gpu",
                 "--disable-component-update"]

pytestmark = pytest.mark.browser


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (install it with `make browser`)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def test_every_page_is_drawn(browser, study: Path, tmp_path: Path) -> None:
    write_keras_model(study / "models" / "trial_0001.keras")  # a real archive for Netron
    before = study_fingerprint(study)
    viewer = NetronViewer(free_port())
    app = create_app(study, model_viewer=viewer.show, refresh_ms=1000)
    errors: list[str] = []
    try:
        with running(app) as url:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(20_000)
            # Errors of the dashboard itself; Netron's page (another port) may fail to reach the internet.
            page.on("console", lambda m: errors.append(m.text)
                    if m.type == "error" and m.location.get("url", "").startswith(url) else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            page.goto(url + "/")
            page.wait_for_selector("#fig-curves .js-plotly-plot .main-svg")
            page.wait_for_selector("#fig-best .js-plotly-plot")
            page.wait_for_selector("#fig-curves .gtitle:has-text('Trial 4 (running)')")
            assert page.locator("#fig-compare .scatterlayer .trace").count() == 4
            page.screenshot(path=tmp_path / "metrics.png", full_page=True)

            page.click("#nav-hyperparameters")
            page.wait_for_selector("#fig-parallel .js-plotly-plot .parcoords")
            page.wait_for_selector("#trials-table-rows tbody tr")
            assert page.locator("#trials-table-rows tbody tr").count() == 4
            assert page.locator("#versions-table-rows tbody tr").count() == 3
            page.wait_for_selector("#fig-bounds .js-plotly-plot")
            page.screenshot(path=tmp_path / "hyperparameters.png", full_page=True)

            page.click("#nav-weights")
            page.wait_for_selector("#fig-weights .js-plotly-plot .scatterlayer")
            assert page.locator("#fig-weights .scatterlayer .trace").count() == 4
            assert page.locator("#actions-table-rows tbody tr").count() == 4
            page.screenshot(path=tmp_path / "weights.png", full_page=True)

            page.click("#nav-diagnosis")
            page.wait_for_selector("#diagnosis-2[open]")
            assert "underfitting" in page.inner_text("#diagnosis-2")
            assert page.locator("#diagnosis-list > details").count() == 2
            page.screenshot(path=tmp_path / "diagnosis.png", full_page=True)

            page.click("#nav-architecture")
            page.wait_for_selector("#model-missing")  # trial 4 is still training: no model yet
            page.click("#trial-select")
            page.get_by_role("option", name=re.compile(r"^Trial 1 ")).click()
            page.wait_for_selector("iframe#netron-frame")
            assert page.locator("#model-layers tbody tr").count() == 4
            netron = page.frame_locator("#netron-frame")
            accept = netron.get_by_role("button", name="Accept")  # Netron's own first-run notice
            deadline = time.monotonic() + 20
            while netron.locator("#canvas .node").count() == 0 and time.monotonic() < deadline:
                if accept.is_visible():
                    accept.click()
                time.sleep(0.25)
            assert netron.locator("#canvas .node").count() >= 3  # Netron drew the network
            page.screenshot(path=tmp_path / "architecture.png", full_page=True)

            page.click("#nav-tensorboard")
            page.wait_for_selector("#tensorboard-command")
            assert "tensorboard --logdir" in page.inner_text("#tensorboard-command")
            page.screenshot(path=tmp_path / "tensorboard.png", full_page=True)
    finally:
        viewer.stop()
    assert errors == []
    for name in ("metrics", "hyperparameters", "weights", "diagnosis", "architecture", "tensorboard"):
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    assert study_fingerprint(study) == before


def test_report_draws_offline(browser, study: Path, tmp_path: Path) -> None:
    from symtuner.dashboard.report import write_report

    report = write_report(study, tmp_path / "report.html")
    context = browser.new_context(offline=True, viewport={"width": 1300, "height": 900})
    try:
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(report.as_uri())
        page.wait_for_function("[...document.querySelectorAll('.js-plotly-plot')]"
                               ".filter(plot => plot.querySelector('.main-svg')).length === 7")
        assert page.locator("#trials-table tbody tr").count() == 4
        page.screenshot(path=tmp_path / "report.png", full_page=True)
    finally:
        context.close()
    assert [url for url in requests if not url.startswith("file:")] == []
