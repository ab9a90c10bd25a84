"""``symtuner compare --suite``: the suite file and its errors, a simulated suite's table, resuming."""

import argparse
import csv
import json
import shutil
import statistics
from dataclasses import replace
from pathlib import Path

import pytest
from scipy.stats import wilcoxon

from symtuner.app.compare import cli, runner
from symtuner.app.compare.runner import run_dir
from symtuner.app.compare.suite import load_spec, load_suite
from symtuner.core.errors import ConfigError, StudyError
from symtuner.storage import StudyStore

SPACES = Path(__file__).resolve().parents[2] / "benchmarks" / "spaces"
STRATEGIES = ("symtuner", "gp", "tpe-hyperband")

TWO_ENTRIES = """
[[entry]]
name = "paper"
space = "spaces/paper.toml"
dataset = "digits-small"
description = "the paper's space"

[[entry]]
name = "low-lr"
space = "spaces/low_lr.toml"
dataset = "digits-small"
epochs = 5
"""


def parse(*argv):
    parser = argparse.ArgumentParser(prog="symtuner")
    cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["compare", *argv])


def write_suite(folder: Path, text: str = TWO_ENTRIES) -> Path:
    """A suite file in ``folder`` whose entries name spaces/<file> next to it."""
    (folder / "spaces").mkdir(parents=True, exist_ok=True)
    for name in ("paper.toml", "low_lr.toml"):
        shutil.copy(SPACES / name, folder / "spaces" / name)
    path = folder / "suite.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_suite(suite: Path, out: Path, *extra: str) -> int:
    return cli.run(parse("--suite", str(suite), "--simulate", "--seeds", "2", "--trials", "3", "--epochs", "3",
                         "--out", str(out), *extra))


def stored(out: Path, entry: str, strategy: str, seed: int):
    with StudyStore.open(run_dir(out / entry, strategy, seed), readonly=True) as store:
        return store.settings(), store.trials(with_curves=False)


# -- the suite file ----------------------------------------------------------------------------------------
def test_the_bundled_suite_names_every_space_file_and_checks():
    entries = load_suite(SPACES / "suite.toml")
    names = [e.name for e in entries]
    assert len(names) >= 9 and names[0] == "paper"
    assert {"low-lr", "high-lr", "far-high-lr", "tiny-net", "big-net", "high-dropout", "small-batch",
            "bad-optimizer"} <= set(names)
    assert all(e.space.is_file() and e.space.parent == SPACES for e in entries)
    assert all(e.dataset == "digits-small" for e in entries)
    for space in SPACES.glob("*.toml"):  # every space file says what is wrong in a header comment
        assert space.read_text().startswith("# "), space.name


def test_entries_resolve_relative_to_the_suite_and_take_defaults_or_their_own(tmp_path):
    suite = write_suite(tmp_path)
    spec = load_spec(suite, STRATEGIES, (0, 1), tmp_path / "out", trials=7, epochs=4)
    paper, low = spec.comparisons()
    assert paper.space_file == (tmp_path / "spaces" / "paper.toml").resolve()
    assert (paper.dataset, paper.trials, paper.epochs, paper.out) == ("digits-small", 7, 4, tmp_path / "out" / "paper")
    assert (low.trials, low.epochs) == (7, 5)  # the entry's own epochs win over --epochs
    assert paper.epoch_matched == ("tpe-hyperband",)  # the pruning strategy gets trials x epochs epochs
    assert paper.budget_of("tpe-hyperband") == (None, 28) and low.budget_of("tpe-hyperband") == (None, 35)
    assert paper.budget_of("symtuner") == paper.budget_of("gp") == (7, None)
    defaults = load_spec(suite, ("symtuner", "gp"), (0,), tmp_path / "o").comparisons()[0]
    assert (defaults.trials, defaults.epochs, defaults.epoch_matched) == (10, 3, ())


@pytest.mark.parametrize("text, named", [
    ("[[entry]]\nname = 'a'\nspace = 'spaces/paper.toml'\ndataset = 'digits-small'\nepoch = 3\n",
     "unknown key 'epoch'"),
    ("[[entry]]\nname = 'a'\nspace = 'spaces/nope.toml'\ndataset = 'digits-small'\n",
     "space file 'spaces/nope.toml' does not exist"),
    ("[[entry]]\nname = 'a'\nspace = 'spaces/paper.toml'\ndataset = 'digits-tiny'\n",
     "entry 1 \\('a'\\): unknown data set 'digits-tiny'"),
    ("[[entry]]\nname = 'a'\nspace = 'spaces/paper.toml'\n", "no 'dataset' given"),
    ("[[entry]]\nname = 'a/b'\nspace = 'spaces/paper.toml'\ndataset = 'digits-small'\n", "name 'a/b'"),
    ("[[entry]]\nname = 'a'\nspace = 'spaces/paper.toml'\ndataset = 'digits-small'\ntrials = 0\n", "trials 0"),
    ("[[entry]]\nname = 'a'\nspace = 'spaces/paper.toml'\ndataset = 'digits-small'\nepochs = 'ten'\n",
     "epochs 'ten'"),
    ("[[entry]]\nname = 'a'\nspace = 'spaces/paper.toml'\ndataset = 'digits'\n"
     "[[entry]]\nname = 'a'\nspace = 'spaces/low_lr.toml'\ndataset = 'digits'\n", "'a' is given more than once"),
    ("trials = 3\n[[entry]]\nname = 'a'\nspace = 'spaces/paper.toml'\ndataset = 'digits'\n", "unknown key 'trials'"),
    ("# nothing\n", "no \\[\\[entry\\]\\] tables"),
    ("[[entry]\n", "not valid TOML"),
])
def test_bad_suite_files_name_the_bad_value(tmp_path, text, named):
    suite = write_suite(tmp_path, text)
    with pytest.raises(ConfigError, match=named):
        load_suite(suite)


def test_a_missing_suite_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="suite file .*absent.toml"):
        cli.run(parse("--suite", str(tmp_path / "absent.toml"), "--simulate", "--out", str(tmp_path / "o")))
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("space, named", [
    ("[[space]]\ntype = 'cat'\nname = 'optimizer'\ncategories = ['Adam', 'Sgdd']\n", "unknown optimizer 'Sgdd'"),
    ("[study]\nepochs = 2\n", "has no \\[\\[space\\]\\] tables"),
])
def test_a_bad_space_in_a_later_entry_stops_the_suite_before_any_training(tmp_path, space, named):
    suite = write_suite(tmp_path, TWO_ENTRIES.replace("spaces/low_lr.toml", "spaces/bad.toml"))
    (tmp_path / "spaces" / "bad.toml").write_text(space)
    with pytest.raises(ConfigError, match=f"suite entry 'low-lr'.*{named}"):
        run_suite(suite, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # not even the first entry ran


def test_an_unknown_data_set_in_a_later_entry_stops_the_suite_before_any_training(tmp_path):
    suite = write_suite(tmp_path, TWO_ENTRIES.replace('dataset = "digits-small"\nepochs = 5',
                                                      'dataset = "cifar-11"\nepochs = 5'))
    with pytest.raises(ConfigError, match="entry 2 \\('low-lr'\\): unknown data set 'cifar-11'"):
        run_suite(suite, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option", [("--dataset", "digits"), ("--space", "x.toml"), ("--budget-epochs", "30"),
                                    ("--target", "0.5")])
def test_options_that_entries_decide_are_refused_with_suite(tmp_path, option):
    suite = write_suite(tmp_path)
    with pytest.raises(ConfigError, match=f"{option[0]} does not apply with --suite"):
        run_suite(suite, tmp_path / "out", *option)
    assert not (tmp_path / "out").exists()


def test_a_foreign_output_directory_is_refused(tmp_path):
    suite = write_suite(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(StudyError, match="holds no suite"):
        run_suite(suite, tmp_path / "out")


# -- a simulated suite: 2 entries x 2 seeds x 3 strategies ----------------------------------------------
@pytest.fixture(scope="module")
def done(tmp_path_factory):
    folder = tmp_path_factory.mktemp("suite")
    suite = write_suite(folder)
    out = folder / "out"
    assert run_suite(suite, out) == 0
    return suite, out


def entry_runs(out: Path, entry: str) -> dict[tuple[str, int], dict]:
    data = json.loads((out / entry / "results.json").read_text())
    return {(run["strategy"], run["seed"]): run for run in data["runs"]}


def test_every_entry_is_a_comparison_with_its_space_and_budget(done):
    _, out = done
    for entry, epochs in (("paper", 3), ("low-lr", 5)):
        manifest = json.loads((out / entry / "compare.json").read_text())
        assert manifest["epoch_matched"] == ["tpe-hyperband"] and manifest["epochs"] == epochs
        assert (out / entry / "results.md").is_file()
        for seed in (0, 1):
            for strategy in ("symtuner", "gp"):
                settings, trials = stored(out, entry, strategy, seed)
                assert settings["epochs"] == epochs and len(trials) == 3
            settings, trials = stored(out, entry, "tpe-hyperband", seed)
            assert (settings["optimizer"], settings["pruner"], settings["symbolic"]) == ("tpe", "hyperband", False)
            used = sum(t.extra["epochs_run"] for t in trials)
            assert 3 * epochs - epochs < used <= 3 * epochs  # its budget, trials x epochs, is used up
            stopped = [t for t in trials if t.extra.get("stopped")]
            assert all("HyperbandPruner" in t.extra["stopped"] for t in stopped)
    with StudyStore.open(run_dir(out / "low-lr", "gp", 0), readonly=True) as store:
        assert store.tuning_versions()[0].space["learning_rate"].high == pytest.approx(1e-5)


def test_the_suite_table_has_one_row_per_entry_and_the_pooled_row(done):
    _, out = done
    text = (out / "suite.md").read_text()
    assert "SIMULATED" in text
    table = text.split("## Test accuracy of the selected model")[1].split("##")[0].strip().splitlines()
    assert table[0].startswith("| space | data set | trials x epochs | seeds | symtuner test acc | gp test acc | "
                               "tpe-hyperband test acc | symtuner - gp (points) | better / worse / tied | Wilcoxon p "
                               "| symtuner - tpe-hyperband (points) |")
    rows = [line.split(" | ")[0].strip("| *") for line in table[2:]]
    assert rows == ["paper", "low-lr", "all entries"]
    assert table[2].startswith("| paper | digits-small | 3 x 3 | 2 |")
    assert table[3].startswith("| low-lr | digits-small | 3 x 5 | 2 |")
    assert table[4].startswith("| **all entries** | - | - | 4 |")


def test_the_suite_numbers_are_the_entries_runs(done):
    _, out = done
    with (out / "suite.csv").open(newline="") as handle:
        rows = {(r["entry"], r["strategy"]): r for r in csv.DictReader(handle)}
    assert set(rows) == {(e, s) for e in ("paper", "low-lr", "all entries") for s in STRATEGIES}
    pooled = {s: [] for s in STRATEGIES}
    for entry in ("paper", "low-lr"):
        runs = entry_runs(out, entry)
        test = {key: run["metrics"]["test_accuracy"] for key, run in runs.items()}
        for strategy in STRATEGIES:
            row = rows[(entry, strategy)]
            mine = [test[(strategy, seed)] for seed in (0, 1)]
            assert float(row["mean_test_accuracy"]) == pytest.approx(statistics.fmean(mine))
            assert int(row["runs"]) == 2
            epochs = [runs[(strategy, seed)]["metrics"]["epochs"] for seed in (0, 1)]
            assert float(row["mean_epochs"]) == pytest.approx(statistics.fmean(epochs))
            if strategy == "symtuner":
                assert row["difference_points"] == row["better"] == row["p_value"] == ""
                continue
            diffs = [test[("symtuner", seed)] - test[(strategy, seed)] for seed in (0, 1)]
            pooled[strategy] += diffs
            assert float(row["difference_points"]) == pytest.approx(100 * statistics.fmean(diffs))
            assert int(row["better"]) == sum(d > 1e-9 for d in diffs)
            assert int(row["worse"]) == sum(d < -1e-9 for d in diffs)
            assert int(row["better"]) + int(row["worse"]) + int(row["tied"]) == 2
            nonzero = [d for d in diffs if abs(d) > 1e-9]
            expected = float(wilcoxon(nonzero).pvalue) if nonzero else None
            assert (float(row["p_value"]) if row["p_value"] else None) == pytest.approx(expected)
    for strategy in ("gp", "tpe-hyperband"):
        row = rows[("all entries", strategy)]
        assert float(row["difference_points"]) == pytest.approx(100 * statistics.fmean(pooled[strategy]))
        assert int(row["better"]) + int(row["worse"]) + int(row["tied"]) == 4
        assert float(row["p_value"]) == pytest.approx(float(wilcoxon([d for d in pooled[strategy]
                                                                       if abs(d) > 1e-9]).pvalue))
    data = json.loads((out / "suite.json").read_text())
    assert [row["entry"] for row in data["rows"]] == ["paper", "low-lr", "all entries"]
    pair = next(p for p in data["rows"][0]["paired"] if p["other"] == "gp")
    assert pair["mean_points"] == pytest.approx(float(rows[("paper", "gp")]["difference_points"]))


def test_a_rerun_skips_every_finished_run(done, capsys):
    suite, out = done
    timings = {path: path.read_text() for path in out.glob("*/runs/*/compare-timings.json")}
    assert len(timings) == 12
    capsys.readouterr()
    assert run_suite(suite, out) == 0
    printed = capsys.readouterr().out
    assert printed.count("6 of 6 runs already finished") == 2 and "run 1/" not in printed
    assert {path: path.read_text() for path in timings} == timings


def test_an_interrupted_suite_resumes_where_it_stopped(tmp_path, monkeypatch, capsys):
    suite = write_suite(tmp_path)
    out = tmp_path / "out"
    real, calls = runner.run_one, []

    def interrupted(spec, strategy, seed, stream=None):
        calls.append((spec.out.name, strategy, seed))
        if len(calls) == 4:  # symtuner on seed 1 of the first entry: one trial of three, then the crash
            real(replace(spec, trials=1), strategy, seed, stream)
            raise KeyboardInterrupt
        real(spec, strategy, seed, stream)

    monkeypatch.setattr(runner, "run_one", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_suite(suite, out)
    monkeypatch.setattr(runner, "run_one", real)
    assert calls[-1] == ("paper", "symtuner", 1) and not (out / "low-lr").exists()
    _, (first,) = stored(out, "paper", "symtuner", 1)
    finished = {path: path.read_text() for path in out.glob("paper/runs/*/compare-timings.json")}
    capsys.readouterr()

    assert run_suite(suite, out) == 0
    printed = capsys.readouterr().out
    assert "3 of 6 runs already finished" in printed and "0 of 6 runs already finished" in printed
    _, trials = stored(out, "paper", "symtuner", 1)
    assert len(trials) == 3 and (trials[0].number, trials[0].params, trials[0].finished_at) == \
        (first.number, first.params, first.finished_at)  # resumed, not restarted
    for path, text in finished.items():
        if "symtuner-seed1" not in str(path):
            assert path.read_text() == text  # finished runs were not run again
    assert (out / "suite.md").is_file() and len(list(out.glob("low-lr/runs/*"))) == 6

    # an entry changed in the file cannot continue its runs: refused before anything trains
    suite.write_text(TWO_ENTRIES.replace("epochs = 5", "epochs = 4"))
    with pytest.raises(ConfigError, match="suite entry 'low-lr'.*epochs=5.*epochs=4"):
        run_suite(suite, out, "--trials", "4")
    assert len(stored(out, "paper", "gp", 0)[1]) == 3


def test_runs_keep_their_kind_of_budget_but_strategies_may_be_added(tmp_path):
    from symtuner.app.compare.runner import ComparisonSpec, check_spec

    out = tmp_path / "cmp"
    assert cli.run(parse("--simulate", "--dataset", "digits-small", "--strategies", "gp,tpe-hyperband", "--seeds", "1",
                         "--trials", "2", "--epochs", "3", "--out", str(out))) == 0
    assert len(stored(tmp_path, "cmp", "tpe-hyperband", 0)[1]) == 2  # a plain comparison: a trial count
    matched = ComparisonSpec("digits-small", ("gp", "tpe-hyperband"), (0,), 2, 3, out, simulate=True,
                             epoch_matched=("tpe-hyperband",))
    with pytest.raises(ConfigError, match="holds tpe-hyperband runs at a trial count"):
        check_spec(matched)
    check_spec(ComparisonSpec("digits-small", ("gp", "tpe-median"), (0,), 2, 3, out, simulate=True,
                              epoch_matched=("tpe-median",)))
    with pytest.raises(ConfigError, match="need a trial count and no --budget-epochs"):
        ComparisonSpec("digits-small", ("gp", "tpe-median"), (0,), None, 3, out, budget_epochs=12,
                       epoch_matched=("tpe-median",))
    with pytest.raises(ConfigError, match="'tpe' is not one of the compared"):
        ComparisonSpec("digits-small", ("gp",), (0,), 2, 3, out, epoch_matched=("tpe",))
