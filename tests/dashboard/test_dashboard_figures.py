"""Figure, table, snapshot and model-summary functions on small stored studies."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from dashboard_study_factory import CURVE_1, CURVE_2, make_study

from symtuner.app.dashboard import figures
from symtuner.app.dashboard.data import LATEST, fmt, load_snapshot, study_stamp
from symtuner.app.dashboard.model_summary import read_layers, summary_text
from symtuner.app.dashboard.tables import (
    actions_table,
    diagnosis_entries,
    trials_records,
    trials_table,
    versions_table,
)
from symtuner.core.errors import StudyError
from symtuner.storage import StudyStore


def _annotations(fig) -> str:
    return " ".join(a.text for a in fig.layout.annotations)


def test_snapshot_selection_and_best(study: Path) -> None:
    snap = load_snapshot(study)
    assert [t.number for t in snap.trials] == [1, 2, 3, 4]
    assert snap.selected(LATEST).number == 4  # the running trial
    assert snap.selected(None).number == 4
    assert snap.selected(2).number == 2 and snap.selected("1").number == 1
    assert snap.selected(99).number == 4  # a trial that does not exist falls back to the live one
    assert snap.best().number == 2 and snap.maximize
    assert snap.model_file(snap.trial(1)) == study / "models" / "trial_0001.keras"


def test_a_finished_study_opens_on_its_best_trial(tmp_path: Path) -> None:
    snap = load_snapshot(make_study(tmp_path / "s", running=False))
    assert snap.selected(LATEST).number == 2  # the best (trial 3, the newest, failed)
    assert snap.selected("best").number == 2 and snap.selected(1).number == 1


def test_stamp_changes_when_the_study_is_written(study: Path) -> None:
    before = study_stamp(study)
    assert study_stamp(study) == before
    with StudyStore.open(study) as store:
        store.log_event("note", "hello")
        assert study_stamp(study) != before


def test_curves_figure_draws_all_four_series(study: Path) -> None:
    snap = load_snapshot(study)
    fig = figures.curves_figure(snap.trial(1))
    series = {t.meta: list(t.y) for t in fig.data}
    assert [t.name for t in fig.data][:2] == ["training loss", "validation loss"]
    assert series == {"loss": list(CURVE_1.loss), "val_loss": list(CURVE_1.val_loss),
                      "accuracy": list(CURVE_1.accuracy), "val_accuracy": list(CURVE_1.val_accuracy)}
    assert list(fig.data[0].x) == [1, 2, 3]
    assert "No trials yet" in _annotations(figures.curves_figure(None))


def test_curves_figure_of_failed_trial_shows_its_partial_curve(study: Path) -> None:
    failed = load_snapshot(study).trial(3)
    assert len(figures.curves_figure(failed).data[0].y) == 1
    assert "out of memory" in _annotations(figures.curves_figure(replace(failed, curve=None)))


def test_compare_figure_highlights_the_selected_trial(study: Path) -> None:
    trials = load_snapshot(study).trials
    fig = figures.compare_figure(trials, "val_loss", highlight=2)
    assert [t.name for t in fig.data] == ["trial 1", "trial 2", "trial 3", "trial 4"]
    assert list(fig.data[1].y) == list(CURVE_2.val_loss)
    assert fig.data[1].line.width > fig.data[0].line.width
    assert "No epochs" in _annotations(figures.compare_figure([], "val_loss"))


def test_best_so_far_is_a_running_best(study: Path) -> None:
    trials = load_snapshot(study).trials
    fig = figures.best_so_far_figure(trials, maximize=True)
    best = next(t for t in fig.data if t.name == "best so far")
    assert list(best.y) == [0.66, 0.78]
    lowest = next(t for t in figures.best_so_far_figure(trials, maximize=False).data if t.name == "best so far")
    assert list(lowest.y) == [0.66, 0.66]
    failed = next(t for t in fig.data if t.name == "failed / interrupted")
    assert list(failed.x) == [3] and list(failed.y) == [0.66]  # at the worst objective
    assert "No trials yet" in _annotations(figures.best_so_far_figure([], True))


def test_parallel_figure_marks_missing_values(study: Path) -> None:
    snap = load_snapshot(study)
    fig = figures.parallel_figure(snap.trials, snap.versions)
    par = fig.data[0]
    dims = {d.label: d for d in par.dimensions}
    assert "l2 (log)" in dims and "learning_rate (log)" in dims  # log-uniform HPs on a log axis
    l2 = dims["l2 (log)"]
    assert l2.ticktext[0] == "n/a" and l2.values[0] == l2.tickvals[0]  # trial 1 had no l2
    assert l2.values[1] == pytest.approx(-4.0)
    assert l2.range[1] == pytest.approx(-2.0) and l2.ticktext[1] == "1.00e-05"  # the space's bounds
    assert list(dims["unit_c1"].range) == [20, 64]  # widened to show trial 4's value below the bound
    assert list(dims["optimizer"].ticktext) == ["Adam", "Adamax", "Adadelta"]
    assert list(dims["optimizer"].values) == [0, 1, 1, 1]
    partial = figures.parallel_figure([replace(snap.trials[0], params={"optimizer": "Nadam"}), snap.trials[1]])
    optimizer = {d.label: d for d in partial.data[0].dimensions}["optimizer"]
    assert list(optimizer.ticktext) == ["Nadam", "Adamax"] and list(optimizer.values) == [0, 1]
    assert {d.label: d for d in partial.data[0].dimensions}["unit_c1"].ticktext[0] == "n/a"
    assert list(dims["objective"].values)[:2] == [0.66, 0.78]
    assert dims["objective"].ticktext[0] == "n/a"
    assert "No trials yet" in _annotations(figures.parallel_figure([], []))


def test_parallel_figure_is_coloured_by_the_objective(study: Path) -> None:
    snap = load_snapshot(study)
    line = figures.parallel_figure(snap.trials, snap.versions, "val_accuracy", maximize=True).data[0].line
    assert line.showscale and line.colorbar.title.text == "val_accuracy"
    colors = list(line.color)
    assert colors[:2] == [0.66, 0.78]  # the two complete trials, by their objective
    assert colors[2] == colors[3] == line.cmin < 0.66  # failed and running: below the scale, at "n/a"
    assert line.colorbar.ticktext[0] == "n/a" and line.colorbar.tickvals[0] == line.cmin
    assert line.colorscale[0][1] == figures.MUTED  # grey for "n/a"
    assert line.colorscale[-1][1] == figures.VIRIDIS[-1][1]  # the best objective is the brightest
    minimised = figures.parallel_figure(snap.trials, snap.versions, "val_loss", maximize=False).data[0].line
    assert minimised.colorscale[-1][1] == figures.VIRIDIS[0][1]  # a high loss is dark
    assert "lower is better" in figures.parallel_figure(snap.trials, snap.versions, "val_loss",
                                                        maximize=False).layout.title.text
    complete = figures.parallel_figure(snap.trials[:2], snap.versions).data[0].line
    assert list(complete.color) == [0.66, 0.78] and (complete.cmin, complete.cmax) == (0.66, 0.78)
    assert complete.colorbar.ticktext is None  # no "n/a" when every trial has an objective


def test_live_figure_draws_every_running_trial(study: Path) -> None:
    snap = load_snapshot(study)
    four = snap.trial(4)
    five = replace(four, number=5, curve=None)
    fig = figures.live_figure([four, five], planned_epochs=3)
    assert fig.layout.title.text == "Running now: trial 4 epoch 2 of 3, trial 5 no epoch finished yet"
    series = {tuple(t.meta): list(t.y) for t in fig.data}
    assert series[(4, "val_accuracy")] == [0.45, pytest.approx(0.66)] and len(series) == 4
    assert list(fig.layout.xaxis.range) == [0.5, 3.5]  # room for the epochs still to come
    assert "No trial is running" in _annotations(figures.live_figure([], 3))


def test_importance_figure_and_its_messages() -> None:
    from symtuner.app.dashboard.importance import Importance

    fig = figures.importance_figure(Importance(("learning_rate", "optimizer"), (0.6, 0.1), (0.05, 0.02), 12,
                                               ("activation",)), "val_accuracy")
    bar = fig.data[0]
    assert list(bar.y) == ["optimizer", "learning_rate"] and list(bar.x) == [0.1, 0.6]  # most important on top
    assert "12 completed trials" in _annotations(fig) and "Did not vary: activation" in _annotations(fig)
    assert "val_accuracy" in fig.layout.title.text
    message = figures.importance_figure(Importance(message="needs at least 5"), "val_accuracy")
    assert "needs at least 5" in _annotations(message) and not message.data


def test_bounds_figure_follows_the_versions(study: Path) -> None:
    snap = load_snapshot(study)
    fig = figures.bounds_figure(snap.versions, snap.trials, snap.actions)
    high = [t for t in fig.data if t.name == "high"]
    titles = [a.text for a in fig.layout.annotations]
    lr = high[titles.index("learning_rate")]
    assert list(lr.x) == [1, 2, 3, 4.5] and list(lr.y) == [1e-3, 6e-4, 6e-4, 6e-4]
    unit = [t for t in fig.data if t.name == "low"][titles.index("unit_c1")]
    assert list(unit.y) == [16, 16, 24, 24]
    changed = [t for t in fig.data if t.name == "changed"]
    assert any("decr_lr" in text for t in changed for text in t.text)
    assert "No search space" in _annotations(figures.bounds_figure([], [], []))


def test_weights_figure_has_one_line_per_rule(study: Path) -> None:
    weights = load_snapshot(study).weights
    fig = figures.weights_figure(weights)
    lines = {t.name: (list(t.x), list(t.y)) for t in fig.data}
    assert lines["underfitting → inc_neurons"] == ([0, 1, 2], [0.5, 0.5, 0.62])
    assert len(lines) == 4
    assert "No rule weights" in _annotations(figures.weights_figure({}))


def test_actions_figure_marks_unapplied_actions(study: Path) -> None:
    fig = figures.actions_figure(load_snapshot(study).actions)
    over = next(t for t in fig.data if t.name == "overfitting")
    assert list(over.y) == ["reg_l2", "decr_lr", "inc_dropout"]
    assert list(over.marker.symbol) == ["circle", "circle", "circle-open"]
    assert "No action" in _annotations(figures.actions_figure([]))


def test_tables(study: Path) -> None:
    snap = load_snapshot(study)
    trials = trials_table(snap)
    assert len(trials.rows) == 4 and "l2" in trials.columns and "learning_rate" in trials.columns
    row = dict(zip(trials.columns, trials.rows[0]))
    assert row["objective"] == "0.66" and row["problems"] == "overfitting"
    assert row["actions applied"] == "reg_l2, decr_lr" and row["l2"] == "-"
    failed = dict(zip(trials.columns, trials.rows[2]))
    assert "out of memory" in failed["state"]
    versions = versions_table(snap.versions)
    assert [r[1] for r in versions.rows] == ["start", "after trial 1", "after trial 2"]
    assert "L2 regularisation" in versions.rows[1][4]
    assert "learning_rate ∈ [0.0001, 0.0006]" in versions.rows[1][3]  # as every line prints a parameter
    assert actions_table(snap.actions).rows[2][4] == "not applied"
    entries = diagnosis_entries(snap.trials)
    assert [e.trial for e in entries] == [2, 1]
    assert entries[1].facts.rows[2] == ("acc_gap", "0.27")


def test_trial_records_keep_numbers_for_sorting(study: Path) -> None:
    records = trials_records(load_snapshot(study))
    assert records.columns == trials_table(load_snapshot(study)).columns
    first, _, failed, live = records.rows
    assert first["objective"] == 0.66 and first["learning_rate"] == 5e-4 and first["l2"] is None
    assert failed["objective"] is None and "out of memory" in failed["state"]
    assert live["epochs"] == 2 and live["trial"] == 4
    assert {"objective", "learning_rate", "l2", "unit_c1", "trial"} <= records.numeric
    assert "optimizer" not in records.numeric and "problems" not in records.numeric


def test_fmt() -> None:
    assert fmt(None) == "-" and fmt(float("nan")) == "-" and fmt(0.5) == "0.5" and fmt(12.0) == "12"
    assert fmt(1e-4) == "1.000e-04" and fmt("Adam") == "Adam" and fmt(3) == "3"


def test_read_layers_from_the_archive(study: Path) -> None:
    layers = read_layers(study / "models" / "trial_0001.keras")
    assert [(layer.name, layer.kind, layer.depth) for layer in layers] == [
        ("input_layer", "InputLayer", 0), ("conv", "Conv2D", 0), ("flatten", "Flatten", 0),
        ("head", "Sequential", 0), ("dense", "Dense", 1)]
    conv = layers[1].settings
    assert "filters=32" in conv and "kernel_size=(3, 3)" in conv and "L2(l2=0.0001)" in conv
    assert "units=10" in summary_text(layers).splitlines()[-1]


def test_read_layers_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(StudyError, match="nope.keras does not exist"):
        read_layers(tmp_path / "nope.keras")
    bad = tmp_path / "bad.keras"
    bad.write_text("not a zip")
    with pytest.raises(StudyError, match="bad.keras is not a Keras archive"):
        read_layers(bad)
    empty = tmp_path / "empty.keras"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("metadata.json", "{}")
    with pytest.raises(StudyError, match="empty.keras is not a Keras archive"):
        read_layers(empty)


@pytest.mark.keras
def test_read_layers_of_a_real_keras_file(tmp_path: Path) -> None:
    from dashboard_study_factory import write_keras_model

    layers = read_layers(write_keras_model(tmp_path / "m.keras"))
    assert [layer.kind for layer in layers] == ["InputLayer", "Conv2D", "Flatten", "Dense"]
    assert "filters=4" in layers[1].settings and "units=10" in layers[3].settings


def test_a_dead_flat_loss_is_drawn_flat_with_chance_level_and_the_best(study: Path) -> None:
    from symtuner.core.records import LearningCurve, Trial

    frozen = LearningCurve((2.394909,) * 6, (0.09,) * 6, (2.395,) * 6, (0.1,) * 6)
    dead = Trial(7, "complete", {}, 1, objective=0.1, curve=frozen)
    best = load_snapshot(study).best()
    fig = figures.curves_figure(dead, guides=figures.Guides((0.1, 2.302585), "val_accuracy", best))
    assert fig.layout.yaxis.rangemode == "tozero" and list(fig.layout.yaxis2.range) == [0, 1.02]
    lines = {(shape.yref, round(shape.y0, 3)) for shape in fig.layout.shapes}
    assert lines == {("y", 2.303), ("y2", 0.1), ("y2", 0.78)}  # chance level on both panels, the best on accuracy
    assert "best: trial 2, val_accuracy 0.7800" in _annotations(fig)


def test_the_space_changes_drawn_are_the_real_ones_categorical_included(tmp_path: Path) -> None:
    from symtuner.core.architecture import Architecture
    from symtuner.core.records import TuningVersion
    from symtuner.core.space import default_space

    first = default_space()
    dropped = first.with_categories("optimizer", ("Adam", "Adamax"))
    versions = [TuningVersion(1, first, Architecture(), None, "initial search space", 0.0),
                TuningVersion(2, dropped, Architecture(), 3, "after trial 3: drop_optimizer", 0.0)]
    fig = figures.bounds_figure(versions, ())
    titles = [a.text for a in fig.layout.annotations]
    assert "optimizer" in titles and not any(t in titles for t in ("unit_c1", "learning_rate"))
    assert any(t.startswith("Unchanged since the start: ") and "learning_rate" in t for t in titles)
    adadelta = next(t for t in fig.data if t.name == "Adadelta")
    assert [x for x in adadelta.x if x is not None] == [1, 4]  # offered from trial 1 until the change after trial 3
    assert any(t.name == "changed" and list(t.x) == [4] for t in fig.data)
    unchanged = figures.bounds_figure(versions[:1], ())
    assert "No action has changed the search space yet" in _annotations(unchanged)


def test_a_learning_rate_range_per_optimizer_is_drawn_beside_the_shared_one() -> None:
    from symtuner.core.architecture import Architecture
    from symtuner.core.records import TuningVersion
    from symtuner.core.space import default_space

    first = default_space().with_bounds("learning_rate", 1e-2, 1e-1)
    split = first.with_bounds("learning_rate", 1e-2, 0.05).with_range("learning_rate", "optimizer", "Adadelta",
                                                                        1e-2, 1e-1)
    versions = [TuningVersion(1, first, Architecture(), None, "initial search space", 0.0),
                TuningVersion(2, split, Architecture(), 2, "after trial 2: decr_lr", 0.0)]
    fig = figures.bounds_figure(versions, ())
    assert "learning_rate" in [a.text for a in fig.layout.annotations]
    adadelta = [t for t in fig.data if t.name == "optimizer Adadelta"]
    assert len(adadelta) == 2 and adadelta[0].line.dash == "dot"
    assert list(adadelta[1].y) == [0.1, 0.1] and list(adadelta[1].x) == [3, 3.5]  # its own high, from trial 3
    high = next(t for t in fig.data if t.name == "high")
    assert list(high.y) == [0.1, 0.05, 0.05]  # the shared range moved down for the others
    from symtuner.app.dashboard.tables import versions_table

    assert "learning_rate ∈ [0.01, 0.05] (optimizer Adadelta: [0.01, 0.1])" in versions_table(versions).rows[1][3]


def test_the_layer_table_has_output_shapes_and_parameters(study: Path) -> None:
    from symtuner.app.dashboard.tables import layers_table

    table = layers_table(read_layers(study / "models" / "trial_0001.keras"))
    assert table.columns == ("layer", "type", "output shape", "parameters", "settings")
    rows = {row[0].strip("\u00a0"): row for row in table.rows}
    assert rows["conv"][2:4] == ("(None, 6, 6, 32)", "320") and rows["flatten"][2] == "(None, 1152)"
    assert rows["dense"][2:4] == ("(None, 10)", "11,530") and rows["total"][3] == "11,850"
