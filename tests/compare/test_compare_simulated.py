"""A smoke-sized comparison with the simulated trainer: files, numbers against the stores, resuming."""

import argparse
import csv
import json
from pathlib import Path

import pytest

from symtuner.app.compare import cli
from symtuner.app.compare.report import CSV_COLUMNS
from symtuner.app.compare.runner import run_dir
from symtuner.core.errors import ConfigError, StudyError
from symtuner.storage import StudyStore


def parse(*argv):
    parser = argparse.ArgumentParser(prog="symtuner")
    cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["compare", *argv])


def compare(out, *extra):
    return cli.run(parse("--simulate", "--dataset", "digits-small", "--strategies", "symtuner,random",
                         "--seeds", "2", "--trials", "2", "--epochs", "1", "--out", str(out), *extra))


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp") / "out"
    assert compare(out) == 0
    return out


def stored(out, strategy, seed):
    with StudyStore.open(run_dir(out, strategy, seed), readonly=True) as store:
        return store.settings(), store.trials(with_curves=False), store.actions()


def test_every_run_is_a_study_with_the_strategy_settings(done):
    for strategy, optimizer, symbolic in (("symtuner", "gp", True), ("random", "random", False)):
        for seed in (0, 1):
            settings, trials, actions = stored(done, strategy, seed)
            assert (settings["optimizer"], settings["symbolic"], settings["seed"]) == (optimizer, symbolic, seed)
            assert (settings["dataset"], settings["epochs"]) == ("digits-small", 1)
            assert [t.state for t in trials] == ["complete", "complete"]
            assert all(t.diagnosis is not None for t in trials) == symbolic
            if not symbolic:
                assert actions == []


def test_csv_matches_the_stores(done):
    with (done / "results.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r["strategy"], r["seed"]) for r in rows] == [("symtuner", "0"), ("symtuner", "1"),
                                                          ("random", "0"), ("random", "1")]
    for row in rows:
        _, trials, _ = stored(done, row["strategy"], int(row["seed"]))
        best = max(trials, key=lambda t: (t.val_accuracy, -t.number))
        assert float(row["best_val_accuracy"]) == pytest.approx(best.val_accuracy)
        assert float(row["test_accuracy"]) == pytest.approx(best.test_accuracy)
        assert int(row["best_trial"]) == best.number
        assert float(row["train_seconds"]) == pytest.approx(sum(t.train_seconds for t in trials))
        wall = float(row["wall_seconds"])
        assert wall >= float(row["train_seconds"]) and float(row["overhead_seconds"]) == pytest.approx(
            wall - float(row["train_seconds"]))
        assert 0 <= float(row["tuner_seconds"]) <= wall
        assert row["simulated"] == "True" and row["trials"] == "2" and row["failed"] == "0"


def test_json_and_markdown(done):
    data = json.loads((done / "results.json").read_text())
    assert data["comparison"]["simulate"] is True and "SIMULATED" in data["comparison"]["note"]
    finals = sorted(run["metrics"]["best_val_accuracy"] for run in data["runs"])
    assert data["comparison"]["target"] == pytest.approx((finals[1] + finals[2]) / 2)  # median of 4
    assert "median" in data["comparison"]["target_source"]
    assert [s["strategy"] for s in data["summary"]] == ["symtuner", "random"]
    for run in data["runs"]:
        assert [t["index"] for t in run["trials"]] == [1, 2]
        _, trials, _ = stored(done, run["strategy"], run["seed"])
        assert [t["val_accuracy"] for t in run["trials"]] == pytest.approx([t.val_accuracy for t in trials])
        assert run["trials"][1]["best_so_far"] == pytest.approx(max(t.val_accuracy for t in trials))
    symtuner_run = next(r for r in data["runs"] if r["strategy"] == "symtuner")
    assert all({"name", "problem", "applied"} <= set(a) for a in symtuner_run["actions"])
    text = (done / "results.md").read_text()
    assert "SIMULATED" in text and "| symtuner | 2 |" in text and "| random | 1 |" in text
    assert "## Paired by seed" in text and "| best val acc | random | 2 |" in text
    (pair,) = [p for p in data["paired"] if p["metric"] == "best_val_accuracy"]
    symtuner_best = [r["metrics"]["best_val_accuracy"] for r in data["runs"] if r["strategy"] == "symtuner"]
    random_best = [r["metrics"]["best_val_accuracy"] for r in data["runs"] if r["strategy"] == "random"]
    assert pair["differences"] == pytest.approx([a - b for a, b in zip(symtuner_best, random_best)])
    for name in ("convergence-trials.png", "convergence-time.png"):
        assert (done / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rerun_skips_finished_runs_and_extends_to_more_trials(done, capsys):
    before = (run_dir(done, "random", 0) / "compare-timings.json").read_text()
    assert compare(done) == 0
    assert "4 of 4 runs already finished" in capsys.readouterr().out
    assert (run_dir(done, "random", 0) / "compare-timings.json").read_text() == before
    assert compare(done, "--trials", "3", "--seeds", "1", "--target", "0.5") == 0
    assert len(stored(done, "random", 0)[1]) == 3 and len(stored(done, "random", 1)[1]) == 2
    data = json.loads((done / "results.json").read_text())
    assert data["comparison"]["target"] == 0.5 and data["comparison"]["target_source"] == "given with --target"


def test_rerun_with_other_epochs_or_real_training_is_refused(done):
    with pytest.raises(ConfigError, match="epochs=1.*epochs=2"):
        compare(done, "--epochs", "2")
    args = parse("--dataset", "digits-small", "--strategies", "random", "--seeds", "1", "--trials", "2",
                 "--epochs", "1", "--out", str(done))
    with pytest.raises(ConfigError, match="simulate=True"):
        cli.run(args)


def test_output_into_a_foreign_directory_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StudyError, match="holds no comparison"):
        compare(tmp_path)


def test_equal_epoch_budget_with_the_median_pruner_baseline(tmp_path):
    out = tmp_path / "budget"
    code = cli.run(parse("--simulate", "--dataset", "digits-small", "--strategies", "symtuner,gp,tpe-median",
                         "--seeds", "2", "--epochs", "6", "--budget-epochs", "48", "--out", str(out)))
    assert code == 0
    data = json.loads((out / "results.json").read_text())
    for run in data["runs"]:
        used = sum(t["epochs_run"] for t in run["trials"])
        assert used >= 48 - 6 and run["metrics"]["epochs"] == used
        last_start = used - run["trials"][-1]["epochs_run"]
        assert last_start < 48  # every counted trial started within the budget
        assert run["metrics"]["chance_share"] is not None or len(run["trials"]) <= 5
    settings, trials, _ = stored(out, "tpe-median", 0)
    assert settings["pruner"] == "median" and settings["optimizer"] == "tpe" and not settings["symbolic"]
    pruned = [t for t in trials if t.extra.get("stopped")]
    assert all("MedianPruner" in t.extra["stopped"] for t in pruned)
    table = (out / "results.md").read_text()
    assert "share at chance after trial 5" in table and "mean val acc after trial 5" in table


def test_later_trials_and_chance_share_are_read_from_the_trials():
    from symtuner.app.compare.results import RunResult, TrialPoint

    def point(index, val):
        return TrialPoint(index, index, "complete", val, val, 1.0, 1.0, 1.0, float(index), None, 3, (), {})

    run = RunResult("gp", 0, Path("."),
                    tuple(point(i, v) for i, v in enumerate([0.9] * 5 + [0.1, 0.8, 0.12, 0.95], start=1)),
                    n_classes=10)
    metrics = run.metrics(None)
    assert metrics["later_val_accuracy"] == pytest.approx((0.1 + 0.8 + 0.12 + 0.95) / 4)
    assert metrics["chance_share"] == pytest.approx(2 / 4)  # 0.10 and 0.12 are under 10 % of the way up


def test_a_space_file_is_every_runs_initial_space(tmp_path):
    from symtuner.core.settings import load_config

    space_file = Path(__file__).resolve().parents[2] / "benchmarks" / "spaces" / "low_lr.toml"
    out = tmp_path / "lowlr"
    assert cli.run(parse("--simulate", "--dataset", "digits-small", "--strategies", "symtuner,gp", "--seeds", "1",
                         "--trials", "3", "--epochs", "5", "--space", str(space_file), "--out", str(out))) == 0
    expected = load_config(space_file).space.apply()  # [[space]] entries applied to the images' default space
    for strategy in ("symtuner", "gp"):
        with StudyStore.open(run_dir(out, strategy, 0), readonly=True) as store:
            assert store.tuning_versions()[0].space == expected
    with pytest.raises(ConfigError, match="cannot continue it with space=None"):
        cli.run(parse("--simulate", "--dataset", "digits-small", "--strategies", "symtuner,gp", "--seeds", "1",
                      "--trials", "3", "--epochs", "5", "--out", str(out)))


def test_isolate_runs_every_trial_in_a_worker_process_with_the_same_results(tmp_path, done):
    """``--isolate``: each trial trains in a fresh worker process, each run's timings are still
    recorded, and the runs are the ones made in this process (same params, same objectives)."""
    out = tmp_path / "isolated"
    assert compare(out, "--isolate") == 0
    for strategy in ("symtuner", "random"):
        for seed in (0, 1):
            _, isolated, _ = stored(out, strategy, seed)
            _, inline, _ = stored(done, strategy, seed)
            assert [(t.params, t.objective) for t in isolated] == [(t.params, t.objective) for t in inline[:2]]
            timings = json.loads((run_dir(out, strategy, seed) / "compare-timings.json").read_text())
            assert sorted(timings) == ["1", "2"]
    assert compare(out) == 0  # resumable without it: how trials run is not part of the comparison
