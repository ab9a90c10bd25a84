"""The trade-off between score and cost: its figures, the report's section, and the dashboard page in Chromium."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dashboard_helpers import running, study_fingerprint

from symtuner.app.dashboard.app import create_app
from symtuner.app.dashboard.data import load_snapshot
from symtuner.app.dashboard.report import render_report
from symtuner.app.dashboard.tradeoff import costs_table, snapshot_limits, tradeoff_figure, tradeoff_summary
from symtuner.core.costs import pareto_front, trade_points
from symtuner.core.settings import StudySettings
from symtuner.data import validate_dataset
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.tuner import Tuner

CHROMIUM = Path("/usr/bin/chromium")
LIMIT = 150_000


@pytest.fixture(scope="module")
def limited(tmp_path_factory) -> Path:
    """A finished 8-trial study (simulated training) under a limit of 150 k parameters."""
    rng = np.random.default_rng(0)
    x, y = rng.random((60, 28, 28, 1), dtype=np.float32), np.arange(60) % 3
    dataset = validate_dataset(x[:48], x[48:], y[:48], y[48:], 3, name="tiny")
    path = tmp_path_factory.mktemp("limited") / "study"
    Tuner(path, dataset=dataset, settings=StudySettings(epochs=5, n_initial=3, max_params=LIMIT),
          executor_factory=SimulatedExecutor, quiet=True).run(8)
    return path


def test_the_figures_draw_every_trial_the_front_and_the_limit(limited):
    snap = load_snapshot(limited)
    assert snapshot_limits(snap) == {"params": LIMIT}
    fig = tradeoff_figure(snap, "params")
    traces = {trace.name: trace for trace in fig.data}
    assert set(traces) == {"within the limits", "over the limits", "Pareto front", "limit 150 k"}
    assert len(traces["within the limits"].x) + len(traces["over the limits"].x) == 8
    assert max(traces["within the limits"].x) <= LIMIT < min(traces["over the limits"].x)
    front = pareto_front(trade_points(snap.trials, True), "params")
    assert list(traces["Pareto front"].x) == [p.costs["params"] for p in front]
    assert list(traces["limit 150 k"].x) == [LIMIT, LIMIT] and traces["limit 150 k"].line.dash == "dash"
    assert fig.layout.xaxis.type == "log"
    flops = tradeoff_figure(snap, "flops")
    assert {trace.name for trace in flops.data} == {"within the limits", "over the limits", "Pareto front"}


def test_the_summary_and_table_name_the_limits_and_the_best_within_them(limited):
    snap = load_snapshot(limited)
    best = snap.best()
    assert not best.infeasible
    summary = tradeoff_summary(snap)
    assert summary.startswith("limits (hard): 150 k parameters · ")
    assert f"best within them: trial {best.number}" in summary
    table = costs_table(snap)
    assert table.columns == ("trial", "val_accuracy", "parameters", "FLOPs", "MB saved", "ms latency", "limits")
    assert len(table.rows) == 8
    assert table.rows[0][-1].startswith("infeasible: ") and "parameters > 150 k" in table.rows[0][-1]


def test_a_study_without_costs_says_so(tmp_path):
    from dashboard_study_factory import make_study

    make_study(tmp_path / "plain", running=False)
    snap = load_snapshot(tmp_path / "plain")
    assert tradeoff_summary(snap) == "No complete trial has measured its costs yet."
    assert tradeoff_figure(snap, "params").layout.annotations[0].text.startswith("No complete trial")


def test_the_report_has_the_tradeoff_section(limited):
    text = render_report(load_snapshot(limited))
    assert '<section id="tradeoff"><h2>Trade-off</h2>' in text
    assert 'id="tradeoff-table"' in text and "limits (hard): 150 k parameters" in text


@pytest.mark.browser
def test_the_tradeoff_page_in_a_browser(limited, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (install it with `make browser`)")
    sync_api = pytest.importorskip("playwright.sync_api")
    before = study_fingerprint(limited)
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright, running(create_app(limited, refresh_ms=1000, netron=False)) as url:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(30_000)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url + "/")
            page.click("#nav-tradeoff")
            page.wait_for_selector("#fig-tradeoff-params .js-plotly-plot .scatterlayer")
            page.wait_for_selector("#fig-tradeoff-flops .js-plotly-plot .scatterlayer")
            assert page.get_attribute("#nav-tradeoff", "class") == "current"
            assert page.locator("#fig-tradeoff-params .scatterlayer .trace").count() == 4
            assert page.locator("#fig-tradeoff-params .legendtext").all_text_contents() == \
                ["within the limits", "over the limits", "Pareto front", "limit 150 k"]
            assert page.locator("#fig-tradeoff-flops .scatterlayer .trace").count() == 3  # no FLOPs limit
            assert page.locator("#tradeoff-table-rows tbody tr").count() == 8
            assert "limits (hard): 150 k parameters" in page.inner_text("#tradeoff-summary")
            page.screenshot(path=tmp_path / "tradeoff.png", full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert (tmp_path / "tradeoff.png").stat().st_size > 10_000
    assert study_fingerprint(limited) == before
