"""The dashboard's callbacks: each page's content recomputed from the study whenever it changes.

A poll of the study's stamp (every refresh interval) updates the ``stamp``
store only when the study changed; every content callback listens to it, so
an idle study costs one stat per interval. Each ``_register_*`` function adds
the callbacks of one part of the page.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dash
from dash import Input, Output, State, html

from symtuner.app.dashboard import figures, tradeoff
from symtuner.app.dashboard.components import (
    architecture_components,
    datatable_columns,
    diagnosis_component,
    live_status,
    metrics_summary,
    summary_text,
    table_component,
    unreadable,
)
from symtuner.app.dashboard.data import BEST, LATEST, StudySnapshot, load_snapshot, study_stamp, trial_label
from symtuner.app.dashboard.importance import Importance, param_importance
from symtuner.app.dashboard.layout import LIVE_LABEL, PAGES, page_layout
from symtuner.app.dashboard.tables import study_actions_table, trials_records, versions_table
from symtuner.core.errors import StudyError

#: Reads the study now; None while it cannot be read.
Snapshot = Callable[[], "StudySnapshot | None"]


def register(app: dash.Dash, study_dir: Path, netron: bool, tensorboard_url: str | None) -> None:
    """Add every callback of the dashboard of ``study_dir`` to ``app``."""

    def snapshot() -> StudySnapshot | None:
        try:
            return load_snapshot(study_dir, live=True)
        except StudyError:
            return None

    _register_navigation(app, study_dir, tensorboard_url)
    _register_header(app, study_dir, snapshot)
    _register_metrics(app, study_dir, snapshot)
    _register_hyperparameters(app, study_dir, snapshot, ImportanceCache())
    _register_weights(app, study_dir, snapshot)
    _register_diagnosis(app, study_dir, snapshot)
    _register_architecture(app, study_dir, snapshot, netron)
    tradeoff.register(app, study_dir, snapshot, table_component, unreadable)


def _register_navigation(app: dash.Dash, study_dir: Path, tensorboard_url: str | None) -> None:
    """The page shown for the URL, the current page marked in the navigation, and the study's poll."""

    @app.callback(Output("page", "children"), Input("url", "pathname"))
    def render_page(pathname: str | None) -> Any:
        return page_layout(pathname or "/", study_dir, tensorboard_url)

    @app.callback([Output(f"nav-{path[1:]}", "className") for path, _ in PAGES], Input("url", "pathname"))
    def mark_current(pathname: str | None) -> list[str]:
        current = "/metrics" if pathname in (None, "", "/") else pathname
        return ["current" if path == current else "" for path, _ in PAGES]

    @app.callback(Output("stamp", "data"), Input("refresh", "n_intervals"), State("stamp", "data"))
    def poll(_: int | None, previous: str | None) -> Any:
        stamp = study_stamp(study_dir)
        return dash.no_update if stamp == previous else stamp


def _register_header(app: dash.Dash, study_dir: Path, snapshot: Snapshot) -> None:
    @app.callback(Output("trial-select", "options"), Output("study-summary", "children"),
                  Input("stamp", "data"))
    def header(_: str | None) -> tuple[list[dict[str, Any]], Any]:
        snap = snapshot()
        options: list[dict[str, Any]] = [{"label": LIVE_LABEL, "value": LATEST}]
        if snap is None:
            return options, html.Span(f"cannot read the study in {study_dir}", className="error")
        best = snap.best()
        if best is not None:
            options.append({"label": f"Best: {trial_label(best)}", "value": BEST})
        options += [{"label": trial_label(t), "value": t.number} for t in reversed(snap.trials)]
        return options, summary_text(snap)


def _register_metrics(app: dash.Dash, study_dir: Path, snapshot: Snapshot) -> None:
    @app.callback(Output("metrics-summary", "children"), Output("fig-curves", "figure"),
                  Output("fig-compare", "figure"), Output("fig-best", "figure"),
                  Input("stamp", "data"), Input("trial-select", "value"), Input("compare-metric", "value"))
    def metrics(_: str | None, choice: Any, metric: str | None) -> tuple[Any, ...]:
        snap = snapshot()
        if snap is None:
            return (unreadable(study_dir),) + (figures.empty_figure("", "Study unreadable"),) * 3
        trial = snap.selected(choice)
        guides = figures.Guides(snap.chance_levels(), snap.objective, snap.best())
        return (metrics_summary(snap, trial), figures.curves_figure(trial, guides=guides),
                figures.compare_figure(snap.trials, metric or "val_accuracy",
                                       trial.number if trial else None),
                figures.best_so_far_figure(snap.trials, snap.maximize, snap.objective))

    @app.callback(Output("live-status", "children"), Output("fig-live", "figure"), Output("live-view", "style"),
                  Input("stamp", "data"))
    def live(_: str | None) -> tuple[Any, Any, Any]:
        snap = snapshot()
        if snap is None:
            return unreadable(study_dir), figures.empty_figure("Running now", "Study unreadable"), {}
        running = snap.running()
        shown = {} if running else {"display": "none"}  # a finished study has nothing running to show
        return live_status(running, snap.planned_epochs), figures.live_figure(running, snap.planned_epochs), shown

    @app.callback(Output("compare-select", "options"), Output("compare-select", "value"),
                  Output("fig-side-by-side", "figure"), Input("stamp", "data"), Input("compare-select", "value"))
    def side_by_side(_: str | None, picked: list[int] | None) -> tuple[Any, Any, Any]:
        snap = snapshot()
        if snap is None:
            return [], picked, figures.empty_figure("", "Study unreadable")
        with_curves = [t for t in snap.trials if t.curve is not None and t.curve.n_epochs > 0]
        options = [{"label": trial_label(t), "value": t.number} for t in reversed(with_curves)]
        if picked is None:  # first look: the best trial and the newest ones
            best = snap.best()
            picked = list(dict.fromkeys(([best.number] if best else []) + [t.number for t in with_curves[::-1]]))[:4]
        trials = [t for number in picked if (t := snap.trial(number)) is not None]
        guides = figures.Guides(snap.chance_levels(), snap.objective, snap.best())
        return options, picked, figures.side_by_side_figure(trials, guides)


def _register_hyperparameters(app: dash.Dash, study_dir: Path, snapshot: Snapshot,
                              importances: ImportanceCache) -> None:
    @app.callback(Output("fig-parallel", "figure"), Output("fig-importance", "figure"),
                  Output("trials-table-rows", "data"), Output("trials-table-rows", "columns"),
                  Output("trials-table-message", "children"),
                  Output("fig-bounds", "figure"), Output("versions-table", "children"),
                  Input("stamp", "data"))
    def hyperparameters(_: str | None) -> tuple[Any, ...]:
        snap = snapshot()
        if snap is None:
            empty = figures.empty_figure("", "Study unreadable")
            return empty, empty, [], [], unreadable(study_dir), empty, ""
        records = trials_records(snap)
        message = "" if records.rows else html.Span("No trials yet.", className="message", id="trials-empty")
        return (figures.parallel_figure(snap.trials, snap.versions, snap.objective, snap.maximize),
                figures.importance_figure(importances.get(snap), snap.objective),
                list(records.rows), datatable_columns(records), message,
                figures.bounds_figure(snap.versions, snap.trials, snap.actions),
                table_component(versions_table(snap.versions), "versions-table-rows",
                                "No search space stored yet."))


def _register_weights(app: dash.Dash, study_dir: Path, snapshot: Snapshot) -> None:
    @app.callback(Output("fig-weights", "figure"), Output("fig-actions", "figure"),
                  Output("actions-table", "children"), Input("stamp", "data"))
    def weights(_: str | None) -> tuple[Any, ...]:
        snap = snapshot()
        if snap is None:
            empty = figures.empty_figure("", "Study unreadable")
            return empty, empty, unreadable(study_dir)
        return (figures.weights_figure(snap.weights), figures.actions_figure(snap.actions),
                table_component(study_actions_table(snap),
                                "actions-table-rows", "No action chosen yet."))


def _register_diagnosis(app: dash.Dash, study_dir: Path, snapshot: Snapshot) -> None:
    @app.callback(Output("diagnosis-list", "children"), Input("stamp", "data"), Input("trial-select", "value"))
    def diagnosis(_: str | None, choice: Any) -> Any:
        snap = snapshot()
        if snap is None:
            return unreadable(study_dir)
        return diagnosis_component(snap, choice)


def _register_architecture(app: dash.Dash, study_dir: Path, snapshot: Snapshot, netron: bool) -> None:
    @app.callback(Output("architecture-info", "children"), Output("netron-view", "children"),
                  Output("model-summary", "children"),
                  Input("stamp", "data"), Input("trial-select", "value"))
    def architecture(_: str | None, choice: Any) -> tuple[Any, Any, Any]:
        snap = snapshot()
        if snap is None:
            return unreadable(study_dir), "", ""
        return architecture_components(snap, choice, netron)


class ImportanceCache:
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


__all__ = ["register", "ImportanceCache"]
