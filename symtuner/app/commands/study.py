"""The commands that run a study and show it: ``run``, ``resume`` and ``status``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from symtuner.core.costs import over_text
from symtuner.storage.layout import DB_NAME, LOG_NAME

#: The command-line options that override the config's [execution] table.
EXECUTION_OPTIONS = ("workers", "threads_per_trial", "ray", "cpus_per_trial", "gpus_per_trial", "retries",
                     "spare_workers", "reproducible", "isolate")

#: The ``run`` options that set the limits on what a network costs (symtuner.core.costs).
_LIMIT_OPTIONS = ("max_params", "max_flops", "max_model_mb", "max_latency_ms", "limit_mode", "limit_penalty")

#: The ``run`` options copied as they are into the study settings.
_SETTING_OPTIONS = ("dataset", "epochs", "seed", "optimizer", "pruner", "network", "keep_models", "objective",
                    "direction")


def execution_settings(args: argparse.Namespace, config: dict[str, Any] | None = None) -> Any:
    """The execution settings: the config's [execution] table, then the command-line options."""
    from symtuner.execution import ExecutionSettings

    return ExecutionSettings.from_dict(_execution_values(args, config))


def execution_warnings(args: argparse.Namespace, config: dict[str, Any] | None = None) -> list[str]:
    """A warning line for each execution setting given that does not apply where the trials run."""
    values = _execution_values(args, config)
    lines = []
    for line in execution_settings(args, config).unused(values):
        name = line.split()[0]
        lines.append(f"symtuner: warning: {name} (--{name.replace('_', '-')}) {line[len(name) + 1:]}")
    return lines


def _execution_values(args: argparse.Namespace, config: dict[str, Any] | None) -> dict[str, Any]:
    values = dict(config or {})
    values.update({k: getattr(args, k) for k in EXECUTION_OPTIONS if getattr(args, k, None) is not None})
    return values


class _WarnAtStart:
    """A progress display that prints ``lines`` on stderr once the study starts (after every check
    passed, so that a refused run prints its one error line only) and passes everything on."""

    def __init__(self, progress: Any, lines: list[str]) -> None:
        self._progress = progress
        self._lines = lines

    def __getattr__(self, name: str) -> Any:
        return getattr(self._progress, name)

    def study_started(self, *args: Any) -> None:
        import sys

        for line in self._lines:
            print(line, file=sys.stderr)
        started = getattr(self._progress, "study_started", None)
        if started is not None:
            started(*args)


def display_options(args: argparse.Namespace) -> dict[str, Any]:
    """What a run shows and adds to the training: ``quiet``, ``verbose`` and ``callbacks``."""
    return {"quiet": bool(getattr(args, "quiet", False)), "verbose": bool(getattr(args, "verbose", False)),
            "callbacks": getattr(args, "callbacks", None), "warnings": getattr(args, "warnings", [])}


def _apply_options(values: dict[str, Any], args: argparse.Namespace) -> None:
    """Put the study settings given on the command line into ``values``."""
    for key in _SETTING_OPTIONS:
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    if args.metrics is not None:
        values["metrics"] = [name.strip() for name in args.metrics.split(",") if name.strip()]
    if args.rules is not None:
        values["rules_dir"] = str(args.rules)
    if args.no_symbolic:
        values["symbolic"] = False
    for key in _LIMIT_OPTIONS:
        if getattr(args, key, None) is not None:
            values[key] = getattr(args, key)


def cmd_run(args: argparse.Namespace) -> int:
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
    space, trials, budget = None, None, args.budget_epochs
    execution_table: dict[str, Any] = {}
    callbacks = None
    if args.config is not None:
        config = load_config(args.config)
        execution_table, callbacks, space, trials = config.execution, config.callbacks, config.space, config.trials
        values.update(config.settings)
        budget = budget or config.budget_epochs
    _apply_options(values, args)
    if args.trials is not None:
        trials = args.trials
    execution = execution_settings(args, execution_table)
    args.warnings = execution_warnings(args, execution_table)
    settings = StudySettings.from_dict(values)
    if args.callbacks is None:
        args.callbacks = callbacks
    if existing:
        return resume_study(study_dir, trials, budget, execution, settings=settings, space=space,
                            display=display_options(args))
    if trials is None and budget is None:
        trials = 10
    return run_study(study_dir, settings, space, trials, budget_epochs=budget, execution=execution,
                     display=display_options(args))


def cmd_resume(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from symtuner.core.settings import stored_settings
    from symtuner.storage import StudyStore

    settings = None
    if args.keep_models is not None:
        with StudyStore.open(Path(args.study_dir), readonly=True) as store:
            settings = replace(stored_settings(store), keep_models=args.keep_models)
    execution = execution_settings(args)
    args.warnings = execution_warnings(args)
    return resume_study(Path(args.study_dir), args.trials, args.budget_epochs, execution,
                        settings=settings, display=display_options(args))


def resume_study(study_dir: Path, trials: int | None, budget_epochs: int | None = None, execution: Any = None,
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
    return run_study(study_dir, settings, space, trials, objective=stored.objective, budget_epochs=budget_epochs,
                     execution=execution, display=display)


def finished_message(study_dir: Path, target_trials: int | None, budget_epochs: int | None) -> str:
    """What a run on a study that has reached its target already says (it ran nothing)."""
    from symtuner.app.invocation import command
    from symtuner.core.settings import stored_settings
    from symtuner.storage import StudyStore
    from symtuner.study.seeds import epochs_used, finished_count

    with StudyStore.open(study_dir, readonly=True) as store:
        trials, epochs = store.trials(with_curves=False), stored_settings(store).epochs
    done, used = finished_count(trials), epochs_used(trials)
    if target_trials is not None and done >= target_trials:
        reached, more = f"{done} finished trial(s), {target_trials} asked for", ["--trials", str(done + 1)]
    else:
        reached = f"{used} epochs run of a budget of {budget_epochs}: no {epochs}-epoch trial fits in what is left"
        more = ["--budget-epochs", str(used + epochs)]
    return (f"study {study_dir} is finished ({reached}): nothing to run. To go on, ask for more: "
            f"{command('resume', study_dir, *more)}")


def run_study(study_dir: Path, settings: Any, space: Any, trials: int | None, objective: str | None = None,
              budget_epochs: int | None = None, execution: Any = None,
              display: dict[str, Any] | None = None) -> int:
    """Run the tuner with a progress display, then print the best trial and where the study is."""
    from symtuner.app.console import describe_trial
    from symtuner.app.display import auto_progress
    from symtuner.core.formatting import test_score
    from symtuner.study.tuner import Tuner
    from symtuner.training.quiet import SHOW_ENV

    display = display or {}
    if display.get("verbose", False):  # TensorFlow's start-up notes too, when the study imports Keras
        os.environ[SHOW_ENV] = "1"

    objective = objective or (settings.objective if settings is not None else "val_accuracy")
    with auto_progress(objective, quiet=display.get("quiet", False),
                       verbose=display.get("verbose", False)) as progress:
        shown = _WarnAtStart(progress, display["warnings"]) if display.get("warnings") else progress
        tuner = Tuner(study_dir, space=space, settings=settings, progress=shown, execution=execution,
                      callbacks=display.get("callbacks"))
        best = tuner.run(trials, budget_epochs=budget_epochs)
    if tuner.finished_already:
        print(finished_message(study_dir, trials, budget_epochs))
        return 0
    print()
    if best is None:
        if not _none_within_limits(study_dir):
            _no_trial_completed(study_dir)
        return 1
    print(f"best trial #{best.number}: {tuner.settings.objective} {best.objective:.4f}, {test_score(best)}")
    print(describe_trial(best))
    print(f"study: {study_dir} (database {study_dir / DB_NAME}, log {study_dir / LOG_NAME})")
    print(next_steps(study_dir))
    return 0


def next_steps(study_dir: Path) -> str:
    """The commands that show a study, as they can be typed in the shell the run was started from."""
    from symtuner.app.invocation import NAME, command, program

    lines = ["next:", f"  {command('status', study_dir)}", f"  {command('dashboard', study_dir)}"]
    where = program()
    if where != NAME and where.endswith("/bin/" + NAME):  # a virtual environment's program, not on the PATH
        lines.append(f"  (or activate its environment once, 'source {where[:-len(NAME)]}activate', and type "
                     f"'{NAME} status ...')")
    return "\n".join(lines)


def _none_within_limits(study_dir: Path) -> bool:
    """Whether trials completed but every one is over a hard limit (then said, with what to do)."""
    from symtuner.storage import StudyStore

    with StudyStore.open(study_dir, readonly=True) as store:
        over = [t for t in store.trials(with_curves=False) if t.is_complete and t.infeasible]
    if not over:
        return False
    print(f"no trial within the limits yet: {len(over)} completed over them (the last: trial #{over[-1].number}, "
          f"{over_text(over[-1].extra)}); 'symtuner status {study_dir}' shows by how much, and more trials "
          "let the rules shrink the network further")
    return True


def _no_trial_completed(study_dir: Path) -> None:
    """One line on stderr: no trial of the run completed, and why the last one failed."""
    import sys

    from symtuner.app.cli_parser import one_line
    from symtuner.storage import StudyStore

    with StudyStore.open(study_dir, readonly=True) as store:
        failed = [t for t in store.trials(with_curves=False) if t.state == "failed" and not t.lost]
    why = f"{len(failed)} failed, the last with: {one_line(failed[-1].error or 'no message')[:400]}" if failed \
        else "none finished"
    print(f"symtuner: error: no trial completed ({why}); see {study_dir / LOG_NAME}", file=sys.stderr)


def cmd_status(args: argparse.Namespace) -> int:
    from symtuner.app.console import changes_summary, trial_table, tuning_summary
    from symtuner.app.invocation import command
    from symtuner.app.liveness import settle_dead_runs
    from symtuner.core.settings import stored_settings
    from symtuner.storage import StudyStore
    from symtuner.tuning.hypotheses import change_states

    with StudyStore.open(Path(args.study_dir), readonly=True) as store:
        settings = stored_settings(store)
        trials, dead = settle_dead_runs(Path(args.study_dir), store.trials())
        print(f"study {args.study_dir}: dataset {settings.dataset}, optimizer {settings.optimizer}"
              f"{' + symbolic' if settings.symbolic else ''}, {settings.epochs} epochs per trial, "
              f"seed {settings.seed}")
        if not trials:
            print("no trials yet")
            return 0
        versions, verdicts = store.tuning_versions(), store.verdicts()
        print(trial_table(trials, store.actions(), settings.objective, change_states(versions, verdicts)))
        print()
        for number in dead:
            print(f"#{number}: interrupted: the store holds it as running, but no process runs the study (it was "
                  f"killed); '{command('resume', args.study_dir)}' runs it again")
        for trial in trials:
            if args.explain or trial is trials[-1]:
                _print_trial_notes(trial)
        print(changes_summary(versions, verdicts, _weight_notes(store, trials, settings, change_states(versions, verdicts))))
        print(tuning_summary(versions))
        _print_costs(trials, settings, getattr(args, "pareto", False))
        _print_best(trials, settings)
    return 0


def _weight_notes(store: Any, trials: list[Any], settings: Any, states: Any) -> Any:
    """Why the rules of kept changes weigh less than when they were chosen (see ``kept_weight_notes``)."""
    from symtuner.tuning.evidence import next_trial_outcomes, stored_task_facts
    from symtuner.tuning.hypotheses import kept_weight_notes

    history = store.weights_history()
    now = history[max(history)] if history else {}
    task = stored_task_facts(store.data_info(), settings.to_dict())
    outcomes = next_trial_outcomes(trials, settings.maximize, task, store.tuning_versions(), store.verdicts())
    return kept_weight_notes(store.actions(), states, now, outcomes)


def _print_trial_notes(trial: Any) -> None:
    """Why a trial stopped early, the changes it ignored and its diagnosis, a line each."""
    if trial.extra.get("stopped"):
        print(f"#{trial.number}: stopped early after {trial.extra.get('epochs_run')} epochs: "
              f"{trial.extra['stopped']}")
    if trial.extra.get("ignored_changes"):
        print(f"#{trial.number}: ignored by the network (undone): {'; '.join(trial.extra['ignored_changes'])}")
    if trial.diagnosis:
        print(f"#{trial.number}: {trial.diagnosis.explanation}")
        if trial.diagnosis.skipped:
            print(f"#{trial.number}: skipped: {'; '.join(trial.diagnosis.skipped)}")


def _print_costs(trials: list[Any], settings: Any, pareto: bool) -> None:
    """What the networks cost against the study's limits, and with ``pareto`` the Pareto fronts."""
    from symtuner.app.costs_text import costs_table, pareto_text

    table = costs_table(trials, settings)
    if table:
        print(table)
    if pareto:
        print(pareto_text(trials, settings))


def _print_best(trials: list[Any], settings: Any) -> None:
    from symtuner.app.console import describe_trial
    from symtuner.core.formatting import test_score
    from symtuner.tuning.advisor import best_trial

    best = best_trial(trials, settings.maximize)
    print()
    if best is None:
        over = any(t.infeasible for t in trials)
        print("no complete trial within the limits yet" if over else "no complete trial yet")
    else:
        print(f"best: {describe_trial(best)}\n  {settings.objective} {best.objective:.4f}, {test_score(best)}")


__all__ = ["cmd_run", "cmd_resume", "cmd_status", "resume_study", "run_study", "next_steps", "finished_message", "execution_settings",
           "execution_warnings",
           "display_options", "EXECUTION_OPTIONS"]
