"""The ``symtuner compare`` sub-command: build its parser, run it, print the table."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from symtuner.app.compare.report import SIMULATED_NOTE, summary_table, write_outputs
from symtuner.app.compare.runner import ComparisonSpec, run_comparison
from symtuner.app.compare.strategies import (
           DEFAULT_STRATEGIES,
           STRATEGIES,
           SUITE_STRATEGIES,
           parse_seeds,
           parse_strategies,
)
from symtuner.app.compare.suite import SuiteSpec, check_suite, load_spec, run_suite
from symtuner.core.costs import COST_LABELS
from symtuner.core.errors import ConfigError

DEFAULT_OUT = "symtuner-compare"


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``compare`` sub-command to the main parser's sub-parsers."""
    parser = subparsers.add_parser(
        "compare", help="run several tuning strategies on one task and compare them",
        description="Run each strategy on each seed as its own study under OUT/runs/, then write "
                    "results.md, results.csv, results.json and convergence plots into OUT. "
                    "Rerunning the same command resumes unfinished runs and skips finished ones.")
    parser.add_argument("--dataset", default=None,
                        help="data set name (digits, digits-small, ...) or module:function (default digits)")
    parser.add_argument("--strategies", default=None,
                        help=f"comma list of {', '.join(STRATEGIES)} (default: {','.join(DEFAULT_STRATEGIES)}; "
                             f"with --suite {','.join(SUITE_STRATEGIES)})")
    parser.add_argument("--seeds", default="3", help="a count (3 = seeds 0,1,2), a list (0,4,7) or a range "
                                                     "(2-4) (default 3)")
    parser.add_argument("--trials", default=None, help="trials per run (default 10; with --budget-epochs, "
                                                       "no limit unless given; with --suite, for the entries "
                                                       "that give none)")
    parser.add_argument("--budget-epochs", default=None,
                        help="equal epoch budget: each run trains until its trials have used this many epochs "
                             "in all (early stopping and pruning buy more trials)")
    parser.add_argument("--epochs", default=None, help="epochs per trial (default 3; with --suite, for the "
                                                      "entries that give none)")
    parser.add_argument("--target", default=None,
                        help="validation accuracy to count trials to (default: the median of all runs' "
                             "final best)")
    parser.add_argument("--space", default=None, help="TOML file whose [[space]] tables are every run's initial "
                                                     "search space (default: the paper's)")
    parser.add_argument("--suite", default=None, metavar="FILE",
                        help="TOML file of [[entry]] tables (name, space, dataset; optional trials, epochs, "
                             "description): run each entry as its own comparison in OUT/<name> (strategies "
                             "that prune at an equal epoch budget of trials x epochs) and write OUT/suite.md, "
                             "suite.csv and suite.json; --dataset, --space, --budget-epochs and --target do not "
                             "apply")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    parser.add_argument("--simulate", action="store_true",
                        help="synthetic learning curves instead of training (fast; for demos and smoke tests)")
    parser.add_argument("--isolate", action="store_true",
                        help="run every trial in a fresh worker process, which gives back what TensorFlow keeps "
                             "of each trial: for long comparisons or suites of large networks")
    group = parser.add_argument_group("limits (hard: a run's best is its best trial within them)")
    for cost, option in LIMIT_OPTIONS.items():
        group.add_argument(option, default=None, metavar="N",
                           help=f"most {COST_LABELS[cost]} of every run's networks (k, M and G suffixes allowed)")


def spec_from_args(args: argparse.Namespace) -> ComparisonSpec:
    """Check the options; a bad value raises ConfigError naming it."""
    budget = _positive(args.budget_epochs, "--budget-epochs") if args.budget_epochs is not None else None
    trials = _positive(args.trials, "--trials") if args.trials is not None else (None if budget else 10)
    strategies = args.strategies if args.strategies is not None else ",".join(DEFAULT_STRATEGIES)
    return ComparisonSpec(dataset=str(args.dataset if args.dataset is not None else "digits"),
                          strategies=parse_strategies(strategies), seeds=parse_seeds(args.seeds), trials=trials,
                          epochs=_positive(args.epochs if args.epochs is not None else 3, "--epochs"),
                          out=Path(args.out), simulate=bool(args.simulate), target=_target(args.target),
                          budget_epochs=budget, space_file=Path(args.space) if args.space is not None else None,
                          limits=_limits(args), isolate=bool(args.isolate))


def suite_from_args(args: argparse.Namespace) -> SuiteSpec:
    """Check the options and read and check the suite file (nothing is run or written)."""
    for option in ("dataset", "space", "budget_epochs", "target"):
        if getattr(args, option) is not None:
            name = "--" + option.replace("_", "-")
            raise ConfigError(f"{name} does not apply with --suite (each [[entry]] gives its own data set and "
                              "space; the strategies that prune get trials x epochs epochs, the others the "
                              "trials; the target is each entry's median)")
    strategies = parse_strategies(args.strategies if args.strategies is not None else ",".join(SUITE_STRATEGIES))
    return load_spec(Path(args.suite), strategies, parse_seeds(args.seeds), Path(args.out),
                     trials=_positive(args.trials, "--trials") if args.trials is not None else None,
                     epochs=_positive(args.epochs, "--epochs") if args.epochs is not None else None,
                     simulate=bool(args.simulate), limits=_limits(args), isolate=bool(args.isolate))


def _limits(args: argparse.Namespace) -> dict[str, float]:
    return {cost: _limit(getattr(args, option[2:].replace("-", "_")), option)
            for cost, option in LIMIT_OPTIONS.items()
            if getattr(args, option[2:].replace("-", "_"), None) is not None}


def run(args: argparse.Namespace) -> int:
    """Run the comparison, write its files, print the table and where the files are."""
    if getattr(args, "suite", None) is not None:
        return run_suite_command(args)
    spec = spec_from_args(args)
    if not spec.simulate:
        from symtuner.training.quiet import import_keras_quietly

        import_keras_quietly()
    comparison = run_comparison(spec, stream=sys.stdout)
    paths = write_outputs(comparison)
    print()
    if spec.simulate:
        print(SIMULATED_NOTE)
    target = "-" if comparison.target is None else f"{comparison.target:.4f}"
    print(f"target validation accuracy {target} ({comparison.target_source})")
    print(summary_table(comparison))
    print()
    print(f"results: {paths['markdown']}, {paths['csv']}, {paths['json']}")
    print(f"plots: {paths['plot_trials']}, {paths['plot_time']}")
    print(f"each run is a study: symtuner status {spec.out / 'runs' / '<strategy>-seed<k>'}")
    return 0


def run_suite_command(args: argparse.Namespace) -> int:
    """``compare --suite``: check every entry, run (or resume) each, then write and print the suite table."""
    from symtuner.app.compare.suite_report import suite_table, write_suite_outputs

    spec = suite_from_args(args)
    check_suite(spec)  # every entry, before anything trains or Keras is imported
    if not spec.simulate:
        from symtuner.training.quiet import import_keras_quietly

        import_keras_quietly()
    suite = run_suite(spec, stream=sys.stdout)
    paths = write_suite_outputs(suite)
    print()
    if spec.simulate:
        print(SIMULATED_NOTE)
    print("test accuracy of the selected model, mean over seeds; symtuner minus each other strategy seed by seed")
    print(suite_table(suite))
    print()
    print(f"suite: {paths['markdown']}, {paths['csv']}, {paths['json']}")
    print(f"each entry is a comparison: {spec.out / '<entry>' / 'results.md'}; each run a study: "
          f"symtuner status {spec.out / '<entry>' / 'runs' / '<strategy>-seed<k>'}")
    return 0


def _positive(text: object, option: str) -> int:
    try:
        value = int(str(text))
    except ValueError:
        raise ConfigError(f"{option} {text!r} is not a positive integer") from None
    if value < 1:
        raise ConfigError(f"{option} {text!r} is not a positive integer")
    return value


#: The option that limits each cost.
LIMIT_OPTIONS = {"params": "--max-params", "flops": "--max-flops", "model_mb": "--max-model-mb",
                 "latency_ms": "--max-latency-ms"}
_SUFFIXES = {"k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9}


def _limit(text: str, option: str) -> float:
    """A limit's value: a finite number above 0, with an optional k, M or G suffix."""
    raw = str(text).strip()
    scale = _SUFFIXES.get(raw[-1:], 1.0)
    try:
        value = float(raw[:-1] if scale != 1.0 else raw) * scale
    except ValueError:
        raise ConfigError(f"{option} {text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{option} {text!r} must be a finite number above 0")
    return value


def _target(text: object) -> float | None:
    if text is None:
        return None
    try:
        value = float(str(text))
    except ValueError:
        raise ConfigError(f"--target {text!r} is not a number") from None
    if not 0 < value <= 1:
        raise ConfigError(f"--target {text!r} must be a validation accuracy in (0, 1]")
    return value
