"""A real, tiny comparison: two strategies train the default network on digits-small."""

import argparse
import csv

import pytest

from symtuner.app.compare import cli
from symtuner.app.compare.runner import run_dir
from symtuner.storage import StudyStore


@pytest.mark.keras
def test_tiny_real_comparison(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="symtuner")
    cli.add_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "out"
    args = parser.parse_args(["compare", "--dataset", "digits-small", "--strategies", "gp,random", "--seeds", "1",
                              "--trials", "2", "--epochs", "1", "--out", str(out)])
    assert cli.run(args) == 0
    printed = capsys.readouterr().out
    assert "| gp | 1 |" in printed and "SIMULATED" not in printed
    with (out / "results.csv").open(newline="") as handle:
        rows = {row["strategy"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"gp", "random"}
    for strategy, row in rows.items():
        with StudyStore.open(run_dir(out, strategy, 0), readonly=True) as store:
            trials = store.trials(with_curves=False)
        assert [t.state for t in trials] == ["complete", "complete"]
        assert all(t.train_seconds > 0 and (run_dir(out, strategy, 0) / "models" /
                                            f"trial_{t.number:04d}.keras").is_file() for t in trials)
        assert float(row["best_val_accuracy"]) == pytest.approx(max(t.val_accuracy for t in trials))
        assert float(row["train_seconds"]) == pytest.approx(sum(t.train_seconds for t in trials))
        # real training dominates the executor's time; the tuner's own part is what is left
        assert 0 < float(row["tuner_seconds"]) < float(row["wall_seconds"])
        assert row["simulated"] == "False"
