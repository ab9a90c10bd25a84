"""The commands around a study or a training: ``diagnose``, ``dashboard``, ``report``, ``export``,
``doctor`` and ``compare``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from symtuner.storage.layout import DB_NAME, STUDY_DIRS, STUDY_FILES

#: The files of a study that no output may overwrite (relative to the study directory).
_STUDY_FILES = STUDY_FILES
#: The directories of a study that no output may be written into.
_STUDY_DIRS = STUDY_DIRS


def refuse_study_file(study_dir: Path, output: Path, what: str = "report output") -> None:
    """An output must not overwrite the study's database, log, models or TensorBoard logs."""
    from symtuner.core.errors import ConfigError

    study, target = study_dir.resolve(), output.resolve()
    owned = [study / name for name in _STUDY_FILES]
    inside = [study / name for name in _STUDY_DIRS]
    database = target.parent == study and target.name.startswith(DB_NAME)  # study.db.damaged.2, ...
    if target in owned or database or any(target == d or d in target.parents for d in inside) or target == study:
        raise ConfigError(f"{what} {output} would overwrite a file of the study {study_dir}; "
                          "choose another path")


def cmd_diagnose(args: argparse.Namespace) -> int:
    from symtuner.integrations.histories import read_history
    from symtuner.symbolic.engine import diagnose_history
    from symtuner.training.quiet import native_notes_filtered
    from symtuner.tuning.actions import OPPOSITES
    from symtuner.tuning.rulebase import rules_engine

    with native_notes_filtered():  # TensorBoard's reader imports TensorFlow
        history = read_history(args.history)
    engine = rules_engine(args.rules)
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


def cmd_dashboard(args: argparse.Namespace) -> int:
    # looked up on the module at call time, so that tests can replace serve / check_port_free there
    from symtuner.app.dashboard import app
    from symtuner.storage import StudyStore

    StudyStore.open(Path(args.study_dir), readonly=True).close()
    app.check_port_free(args.host, args.port)
    if not app.is_loopback(args.host):
        print(f"symtuner: warning: --host {args.host} is not a loopback address: every machine that can reach "
              "this one can read the study, its models and logs (there is no authentication)", file=sys.stderr)
    print(f"dashboard of {args.study_dir} on http://{args.host}:{args.port}/ (Ctrl-C to stop)")
    app.serve(Path(args.study_dir), host=args.host, port=args.port, tensorboard=args.tensorboard)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from symtuner.app.dashboard.report import write_report
    from symtuner.storage import StudyStore

    study_dir = Path(args.study_dir)
    with StudyStore.open(study_dir, readonly=True) as store:
        store.check_readable()
    output = args.output if args.output is not None else study_dir / "report.html"
    refuse_study_file(study_dir, output)
    out = write_report(study_dir, output)
    print(f"report written to {out}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from symtuner.storage.doctor import check_export_target, check_repairable, examine, export_trials, repair

    study_dir = Path(args.study_dir)
    if args.export is not None:  # a bad export path fails before anything is read or printed
        refuse_study_file(study_dir, args.export, "export file")
        check_export_target(args.export, overwrite=args.overwrite)
    checkup = examine(study_dir)
    if args.repair and not checkup.healthy:
        check_repairable(study_dir, checkup)
    completed = len(checkup.completed_trials())
    if checkup.healthy:
        print(f"{study_dir}: the study database is healthy ({completed} completed trial(s))")
    else:
        print(f"{study_dir}: the study database is damaged:")
        for problem in checkup.problems:
            print(f"  - {problem}")
        print(f"{completed} completed trial(s) can be read")
    if args.export is not None:
        count = export_trials(checkup, args.export)
        print(f"exported {count} completed trial(s) to {args.export}")
    if args.repair and not checkup.healthy:
        damaged = repair(study_dir, checkup)
        print(f"repaired: {study_dir / DB_NAME} rebuilt from the readable rows; the damaged database "
              f"is kept as {damaged}; resume with 'symtuner resume {study_dir}'")
        return 0
    if not checkup.healthy:
        print(f"repair it with 'symtuner doctor {study_dir} --repair'" if not args.repair else "")
        return 1
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from symtuner.core.errors import ConfigError
    from symtuner.storage import StudyStore
    from symtuner.storage.models import export_model, read_trials, select_trial

    study_dir = Path(args.study_dir)
    with StudyStore.open(study_dir, readonly=True) as store:
        store.check_readable()
    refuse_study_file(study_dir, args.output, "export output")
    trials, maximize = read_trials(study_dir)
    trial = select_trial(study_dir, trials, args.trial, maximize)
    target = args.output / Path(trial.model_path or "").name if args.output.is_dir() else args.output
    if target.is_file() and not args.overwrite:  # said in the command line's words
        raise ConfigError(f"{target} already exists; add --overwrite to replace it")
    out = export_model(study_dir, args.output, trial.number, overwrite=args.overwrite)
    print(f"model of trial #{trial.number} ({'the best, ' if args.trial is None else ''}objective "
          f"{trial.objective:.4f}) written to {out}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from symtuner.app.compare.cli import run

    return run(args)


__all__ = ["cmd_diagnose", "cmd_dashboard", "cmd_report", "cmd_doctor", "cmd_export", "cmd_compare",
           "refuse_study_file"]
