"""End to end: headless Chromium opens every dashboard page of a small study."""

from __future__ import annotations

import datetime
import ipaddress
import re
import time
import urllib.parse
from pathlib import Path

import pytest
from dashboard_helpers import running, study_fingerprint
from dashboard_study_factory import make_study, write_keras_model

from symtuner.app.dashboard.app import create_app
from symtuner.storage import StudyStore

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


def _loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Offline:
    """A browser context that refuses and records every request to a host other than this machine.

    Requests the page's Content-Security-Policy stops before they are made
    are recorded as well, from the ``securitypolicyviolation`` events of every
    frame.
    """

    def __init__(self, browser, **options) -> None:
        self.context = browser.new_context(**options)
        self.outside: list[str] = []
        self.blocked_by_policy: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.context.add_init_script("document.addEventListener('securitypolicyviolation', "
                                     "e => console.warn('csp-violation ' + e.blockedURI + ' ' + e.violatedDirective))")

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(("http:", "https:", "ws:", "wss:")) and not _loopback(url):
            self.outside.append(url)
            route.abort()
        else:
            route.continue_()

    def page(self):
        page = self.context.new_page()
        page.set_default_timeout(30_000)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        return page

    def _console(self, message) -> None:
        if message.text.startswith("csp-violation"):
            self.blocked_by_policy.append(message.text)
        elif message.type == "error":
            self.errors.append(message.text)

    def close(self) -> None:
        self.context.close()


def _pick_trial(page, number: int) -> None:
    page.click("#trial-select")
    page.get_by_role("option", name=re.compile(rf"^Trial {number} ")).click()


def _wait_for_graph(page, must_show: str, timeout: float = 40.0) -> int:
    """The number of nodes Netron drew, once one of them names ``must_show``.

    Netron's page replaces ``window.eval``, so only locator queries that need
    no script evaluation in its frame (counts, visibility) are used.
    """
    nodes = page.frame_locator("#netron-frame").locator("#canvas .node")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if nodes.filter(has_text=must_show).count():
            return nodes.count()
        time.sleep(0.25)
    raise AssertionError(f"Netron drew no node {must_show!r} (it drew {nodes.count()} nodes)")


def _nodes_naming(page, text: str) -> int:
    return page.frame_locator("#netron-frame").locator("#canvas .node").filter(has_text=text).count()


def _assert_no_netron_notice(page) -> None:
    netron = page.frame_locator("#netron-frame")
    assert not netron.get_by_text("This app uses cookies").is_visible()
    assert not netron.get_by_text("Please update").is_visible()
    assert not netron.get_by_role("button", name=re.compile("Accept|Update|Report")).is_visible()


def test_every_page_is_drawn(browser, study: Path, tmp_path: Path) -> None:
    write_keras_model(study / "models" / "trial_0001.keras")  # a real archive for Netron
    before = study_fingerprint(study)
    app = create_app(study, refresh_ms=1000)
    offline = Offline(browser, viewport={"width": 1400, "height": 900})
    try:
        with running(app) as url:
            page = offline.page()
            page.goto(url + "/")
            page.wait_for_selector("#fig-curves .js-plotly-plot .main-svg")
            page.wait_for_selector("#fig-best .js-plotly-plot")
            page.wait_for_selector("#fig-curves .gtitle:has-text('Trial 4 (running)')")
            page.wait_for_selector("#fig-live .gtitle:has-text('Running now: trial 4 epoch 2 of 3')")
            assert page.locator("#fig-compare .scatterlayer .trace").count() == 4
            page.screenshot(path=tmp_path / "metrics.png", full_page=True)

            page.click("#nav-hyperparameters")
            page.wait_for_selector("#fig-parallel .js-plotly-plot .parcoords")
            page.wait_for_selector("#fig-parallel .cbtitle:has-text('val_accuracy')")  # the colour bar
            page.wait_for_selector("#fig-importance .js-plotly-plot")
            page.wait_for_selector("#trials-table-rows td[data-dash-column='trial']")
            assert page.locator("#trials-table-rows td[data-dash-column='trial']").count() == 4
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
            _pick_trial(page, 1)
            page.wait_for_selector("iframe#netron-frame")
            assert page.locator("#model-layers tbody tr").count() == 5  # 4 layers and the total
            layers = page.inner_text("#model-layers")
            assert "(None, 6, 6, 4)" in layers and "1,450" in layers and "1,490" in layers  # shapes, parameters
            assert _wait_for_graph(page, "Conv2D") >= 3  # Netron drew the network, with no notice first
            _assert_no_netron_notice(page)
            page.screenshot(path=tmp_path / "architecture.png", full_page=True)

            page.click("#nav-tensorboard")
            page.wait_for_selector("#tensorboard-command")
            assert "tensorboard --logdir" in page.inner_text("#tensorboard-command")
            page.screenshot(path=tmp_path / "tensorboard.png", full_page=True)
    finally:
        offline.close()
    assert offline.errors == [] and offline.outside == [] and offline.blocked_by_policy == []
    for name in ("metrics", "hyperparameters", "weights", "diagnosis", "architecture", "tensorboard"):
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    assert study_fingerprint(study) == before


def test_netron_draws_each_trial_offline_with_no_notice(browser, study: Path) -> None:
    """Switching trials shows each network with no consent question, and nothing leaves the machine."""
    write_keras_model(study / "models" / "trial_0001.keras")
    write_keras_model(study / "models" / "trial_0002.keras", conv=False)
    offline = Offline(browser, viewport={"width": 1300, "height": 900})
    try:
        with running(create_app(study, refresh_ms=1000)) as url:
            page = offline.page()
            page.goto(url + "/architecture")
            for number, shown, absent in ((1, "Conv2D", "Dropout"), (2, "Dropout", "Conv2D"),
                                          (1, "Conv2D", "Dropout")):
                _pick_trial(page, number)
                page.wait_for_selector(f"iframe#netron-frame[src*='trial={number}']")
                _wait_for_graph(page, shown)
                assert _nodes_naming(page, absent) == 0, number  # the graph of this trial, not the last one
                assert _nodes_naming(page, "Dense") >= 1
                _assert_no_netron_notice(page)
    finally:
        offline.close()
    assert offline.outside == []  # not even an attempt that the route had to refuse
    assert offline.blocked_by_policy == []
    assert offline.errors == []


def test_netron_still_draws_long_after_its_build_date(browser, study: Path) -> None:
    """Netron 9 replaces the graph with an update request 180 days after its build date."""
    write_keras_model(study / "models" / "trial_0001.keras")
    offline = Offline(browser, viewport={"width": 1300, "height": 900})
    offline.context.clock.set_system_time(datetime.datetime(2031, 6, 1, tzinfo=datetime.timezone.utc))
    try:
        with running(create_app(study, refresh_ms=60_000)) as url:
            page = offline.page()
            page.goto(url + "/architecture")
            assert page.evaluate("new Date().getFullYear()") == 2031
            _pick_trial(page, 1)
            page.wait_for_selector("iframe#netron-frame")
            _wait_for_graph(page, "Conv2D")
            _assert_no_netron_notice(page)
    finally:
        offline.close()
    assert offline.outside == []


def test_trial_table_sorts_and_filters_and_keeps_them_on_refresh(browser, study: Path) -> None:
    offline = Offline(browser, viewport={"width": 1400, "height": 900})
    writer = StudyStore.open(study)
    try:
        with running(create_app(study, refresh_ms=500, netron=False)) as url:
            page = offline.page()
            page.goto(url + "/hyperparameters")
            cells = "#trials-table-rows td[data-dash-column='trial']"
            page.wait_for_selector(cells)

            def shown() -> list[str]:
                return page.locator(cells).all_inner_texts()

            assert shown() == ["1", "2", "3", "4"]
            units = page.locator("#trials-table-rows th[data-dash-column='unit_c1'] .column-header--sort")
            units.click()  # ascending unit_c1: 20 (trial 4), 32 (trial 1), then the two 48s
            page.wait_for_function(f"document.querySelector(\"{cells}\").innerText === '4'")
            assert shown()[:2] == ["4", "1"]
            units.click()  # descending
            page.wait_for_function(f"document.querySelector(\"{cells}\").innerText !== '4'")
            assert shown()[-2:] == ["1", "4"]
            units.click()  # off again
            page.wait_for_function(f"[...document.querySelectorAll(\"{cells}\")].map(c => c.innerText).join()"
                                   " === '1,2,3,4'")

            objective = page.locator("#trials-table-rows th.dash-filter[data-dash-column='objective'] input[type=text]")
            objective.fill("> 0.7")
            objective.press("Enter")
            page.wait_for_function(f"document.querySelectorAll(\"{cells}\").length === 1")
            assert shown() == ["2"]
            objective.fill("")
            objective.press("Enter")
            state = page.locator("#trials-table-rows th.dash-filter[data-dash-column='state'] input[type=text]")
            state.fill("running")
            state.press("Enter")
            page.wait_for_function(f"document.querySelectorAll(\"{cells}\").length === 1")
            assert shown() == ["4"]

            # the study changes: the rows are replaced, the filter the user typed stays
            writer.record_epoch(4, 2, {"loss": 0.9, "accuracy": 0.8, "val_loss": 1.0, "val_accuracy": 0.75})
            page.wait_for_selector("#trials-table-rows td[data-dash-column='epochs']:has-text('3')")
            assert shown() == ["4"] and state.input_value() == "running"
    finally:
        writer.close()
        offline.close()
    assert offline.errors == [] and offline.outside == []


def test_live_view_follows_the_epochs_of_the_running_trials(browser, study: Path) -> None:
    offline = Offline(browser, viewport={"width": 1300, "height": 900})
    writer = StudyStore.open(study)
    try:
        with running(create_app(study, refresh_ms=500, netron=False)) as url:
            page = offline.page()
            page.goto(url + "/metrics")
            page.wait_for_selector("#fig-live .gtitle:has-text('trial 4 epoch 2 of 3')")
            five = writer.start_trial({"unit_c1": 30}, 3)
            page.wait_for_selector(f"#live-trial-{five}:has-text('no epoch finished yet')")
            writer.record_epoch(five, 0, {"loss": 2.0, "accuracy": 0.2, "val_loss": 2.1, "val_accuracy": 0.18})
            page.wait_for_selector(f"#fig-live .gtitle:has-text('trial {five} epoch 1 of 3')")
            writer.record_epoch(4, 2, {"loss": 0.9, "accuracy": 0.8, "val_loss": 1.0, "val_accuracy": 0.75})
            page.wait_for_selector("#fig-live .gtitle:has-text('trial 4 epoch 3 of 3')")
            assert "val_accuracy 0.75" in page.inner_text("#live-trial-4")
            assert page.locator("#fig-live .scatterlayer .trace").count() == 8  # 2 trials x 4 series
    finally:
        writer.close()
        offline.close()
    assert offline.errors == []


def test_report_draws_offline(browser, study: Path, tmp_path: Path) -> None:
    from symtuner.app.dashboard.report import write_report

    report = write_report(study, tmp_path / "report.html")
    context = browser.new_context(offline=True, viewport={"width": 1300, "height": 900})
    try:
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(report.as_uri())
        page.wait_for_function("[...document.querySelectorAll('.js-plotly-plot')]"
                               ".filter(plot => plot.querySelector('.main-svg')).length === 14")  # 12 + the two trade-offs
        assert page.locator("#trials .js-plotly-plot").count() == 4  # every trial's curves
        assert page.locator("#trials-table tbody tr").count() == 4
        page.screenshot(path=tmp_path / "report.png", full_page=True)
    finally:
        context.close()
    assert [url for url in requests if not url.startswith("file:")] == []


def test_a_relative_study_shows_its_network_on_the_page_and_in_the_report(browser, tmp_path: Path,
                                                                          monkeypatch) -> None:
    """What ``make run`` creates: ``studies/default``, given relative to the working directory."""
    from symtuner.app.dashboard.report import write_report

    monkeypatch.chdir(tmp_path)
    study = make_study(Path("studies") / "default", running=False)
    write_keras_model(study / "models" / "trial_0001.keras")
    write_keras_model(study / "models" / "trial_0002.keras", conv=False)
    offline = Offline(browser, viewport={"width": 1300, "height": 900})
    try:
        with running(create_app(study, refresh_ms=60_000)) as url:
            page = offline.page()
            page.goto(url + "/architecture")
            _pick_trial(page, 1)
            page.wait_for_selector("iframe#netron-frame[src*='trial=1']")
            assert _wait_for_graph(page, "Conv2D") >= 3
            page.wait_for_selector("#model-layers tbody tr")
            assert "Conv2D" in page.inner_text("#model-layers")
            assert page.locator("#model-missing").count() == 0
        report = write_report(study, Path("report.html"))
        page = offline.page()
        page.goto(report.resolve().as_uri())
        page.wait_for_selector("#architecture #model-layers tbody tr")
        assert "hidden_dense" in page.inner_text("#architecture #model-layers")  # the best trial, trial 2
        assert "No model file" not in page.inner_text("#architecture")
    finally:
        offline.close()
    assert offline.errors == [] and offline.outside == []


def test_a_finished_study_opens_on_its_best_trial(browser, tmp_path: Path) -> None:
    """No trial runs: the pages open on the best trial, the empty live panel is gone, the curves show chance
    level and the best objective, the diagnosis follows the picker, and several trials compare side by side."""
    study = make_study(tmp_path / "done", running=False)
    with StudyStore.open(study) as store:
        store.set_data_info({"name": "digits", "n_classes": 10, "task": "classification"})
    offline = Offline(browser, viewport={"width": 1400, "height": 900})
    try:
        with running(create_app(study, refresh_ms=60_000, netron=False)) as url:
            page = offline.page()
            page.goto(url + "/metrics")
            page.wait_for_selector("#fig-curves .gtitle:has-text('Trial 2 (complete)')")  # the best
            assert not page.locator("#live-view").is_visible()
            page.wait_for_selector("#fig-curves .annotation-text:has-text('chance level 0.10')")
            assert page.locator("#fig-curves .annotation-text:has-text('best: trial 2')").count() == 1

            page.click("#nav-diagnosis")
            page.wait_for_selector("#diagnosis-2[open]")
            assert not page.locator("#diagnosis-2 details.facts").get_attribute("open")  # facts behind a toggle
            assert page.inner_text("#diagnosis-2").index("Problems") < page.inner_text("#diagnosis-2").index("Why")
            _pick_trial(page, 1)
            page.wait_for_selector("#diagnosis-1[open]")
            assert page.locator("#diagnosis-list > details").first.get_attribute("id") == "diagnosis-1"

            page.click("#nav-compare")
            page.wait_for_selector("#fig-side-by-side .scatterlayer .trace")
            # the best and the newest: trials 2, 3 and 1, each training and validation, loss and accuracy
            assert page.locator("#fig-side-by-side .scatterlayer .trace").count() == 3 * 2 * 2

            page.click("#nav-hyperparameters")
            page.wait_for_selector("#fig-bounds .gtitle")
            titles = page.locator("#fig-bounds .annotation-text").all_text_contents()
            assert "learning_rate" in titles and "unit_c1" in titles and "l2" in titles
            assert "unit_d" not in titles and any("Unchanged since the start" in t for t in titles)
    finally:
        offline.close()
    assert offline.errors == [] and offline.outside == []
