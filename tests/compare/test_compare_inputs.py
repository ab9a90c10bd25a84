"""Strategy and seed lists, and the options of ``symtuner compare``: bad values name themselves."""

import argparse
import importlib.util

import pytest

from symtuner.app.compare import cli
from symtuner.app.compare.runner import ComparisonSpec
from symtuner.app.compare.strategies import check_available, parse_seeds, parse_strategies
from symtuner.core.errors import ConfigError


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="symtuner")
    cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["compare", *argv])


def test_strategies_parse_in_the_given_order():
    assert parse_strategies("gp, symtuner") == ("gp", "symtuner")
    assert parse_strategies("random") == ("random",)


@pytest.mark.parametrize("text, named", [("gp,bayes", "'bayes'"), ("GP", "'GP'"), ("gp,,random", "empty"),
                                         ("gp,gp", "'gp' is given more than once"), ("", "no strategy")])
def test_bad_strategies_are_named(text, named):
    with pytest.raises(ConfigError, match=named):
        parse_strategies(text)


def test_seeds_from_count_list_and_range():
    assert parse_seeds("3") == (0, 1, 2)
    assert parse_seeds("0,4,7") == (0, 4, 7)
    assert parse_seeds("2-4") == (2, 3, 4)
    assert parse_seeds("1,5-6") == (1, 5, 6)
    assert parse_seeds("7-7") == (7,)


@pytest.mark.parametrize("text, named", [("0", "'0'"), ("-3", "'-3'"), ("1,x", "'x'"), ("two", "'two'"),
                                         ("1,1", "seed 1 is given more than once"), ("4-2", "'4-2'"),
                                         ("", "''"), ("1.5", "'1.5'")])
def test_bad_seeds_are_named(text, named):
    with pytest.raises(ConfigError, match=named):
        parse_seeds(text)


def test_tpe_without_optuna_is_a_clear_error(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "optuna" else real(name, *a))
    with pytest.raises(ConfigError, match="'tpe', 'tpe-median' and 'tpe-hyperband' need optuna"):
        check_available(("gp", "tpe"))
    check_available(("gp", "random"))


def test_parser_defaults_and_spec(tmp_path):
    args = parse("--out", str(tmp_path / "o"))
    spec = cli.spec_from_args(args)
    assert spec.strategies == ("symtuner", "gp", "random", "tpe")
    assert spec.seeds == (0, 1, 2)
    assert (spec.dataset, spec.trials, spec.epochs, spec.simulate, spec.target) == ("digits", 10, 3, False, None)
    spec = cli.spec_from_args(parse("--dataset", "digits-small", "--strategies", "gp,random", "--seeds", "1,2",
                                    "--trials", "4", "--epochs", "2", "--target", "0.9", "--simulate"))
    assert (spec.dataset, spec.strategies, spec.seeds, spec.trials, spec.epochs, spec.target, spec.simulate) == \
        ("digits-small", ("gp", "random"), (1, 2), 4, 2, 0.9, True)


@pytest.mark.parametrize("argv, named", [
    (("--strategies", "symtuner,hyperband"), "'hyperband'"),
    (("--seeds", "a,b"), "'a'"),
    (("--trials", "0"), "--trials '0'"),
    (("--epochs", "many"), "--epochs 'many'"),
    (("--target", "1.5"), "--target '1.5'"),
    (("--target", "high"), "--target 'high'"),
])
def test_run_rejects_bad_options_before_running(tmp_path, argv, named):
    args = parse("--simulate", "--out", str(tmp_path / "o"), *argv)
    with pytest.raises(ConfigError, match=named):
        cli.run(args)
    assert not (tmp_path / "o").exists()


def test_spec_checks_its_values(tmp_path):
    with pytest.raises(ConfigError, match="'nope'"):
        ComparisonSpec("digits", ("nope",), (0,), 2, 1, tmp_path)
    with pytest.raises(ConfigError, match="-1"):
        ComparisonSpec("digits", ("gp",), (-1,), 2, 1, tmp_path)
    with pytest.raises(ConfigError, match="trials"):
        ComparisonSpec("digits", ("gp",), (0,), 0, 1, tmp_path)
