"""What one comparison run achieved, read back from its study store, and the summaries.

Everything here is computed from the stores (plus the executor timings the
runner writes next to them), so the numbers in the tables always agree with
what ``symtuner status`` shows for each run.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from symtuner.core.costs import trial_costs
from symtuner.core.records import Trial, TrialState
from symtuner.storage import Event, StudyStore

#: File in each run's study directory with the seconds each ``executor.run`` took.
TIMINGS_NAME = "compare-timings.json"

#: Trials after this many count as "later" (the initial random points are over).
EARLY_TRIALS = 5

#: A trial is "at chance level" when its validation accuracy got less than this
#: share of the way from chance (1 / n_classes) to a perfect score.
CHANCE_SKILL = 0.1

#: Per-run metrics, in table order: (key, heading, unit).
METRICS: tuple[tuple[str, str, str], ...] = (
    ("best_val_accuracy", "best val acc", ""),
    ("infeasible_share", "share of trials over the limits", ""),
    ("best_params", "parameters of best", ""),
    ("feasible_found", "runs with a trial within the limits", ""),
    ("test_accuracy", "test acc of best", ""),
    ("later_val_accuracy", f"mean val acc after trial {EARLY_TRIALS}", ""),
    ("chance_share", f"share at chance after trial {EARLY_TRIALS}", ""),
    ("epochs", "epochs run", ""),
    ("trials_to_target", "trials to target", ""),
    ("seconds_to_target", "time to target", "s"),
    ("wall_seconds", "wall time", "s"),
    ("wall_per_trial", "wall / trial", "s"),
    ("train_seconds", "training (fit)", "s"),
    ("overhead_seconds", "overhead (wall - fit)", "s"),
    ("overhead_per_trial", "overhead / trial", "s"),
    ("tuner_seconds", "tuner (wall - executor)", "s"),
)


@dataclass(frozen=True)
class TrialPoint:
    """One finished trial of a run, with its times and the best validation accuracy so far."""

    index: int
    number: int
    state: str
    val_accuracy: float | None
    test_accuracy: float | None
    train_seconds: float | None
    executor_seconds: float | None
    wall_seconds: float
    elapsed: float
    best_so_far: float | None
    epochs_run: int | None
    problems: tuple[str, ...]
    params: dict[str, Any]
    #: within the study's hard limits (always, without limits)
    feasible: bool = True
    #: what the network costs (``params``, ``flops``, ...; empty when not measured)
    costs: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "number": self.number, "state": self.state,
                "val_accuracy": self.val_accuracy, "test_accuracy": self.test_accuracy,
                "train_seconds": self.train_seconds, "executor_seconds": self.executor_seconds,
                "wall_seconds": self.wall_seconds, "elapsed": self.elapsed, "best_so_far": self.best_so_far,
                "epochs_run": self.epochs_run, "problems": list(self.problems), "params": self.params,
                "feasible": self.feasible, "costs": dict(self.costs)}


@dataclass(frozen=True)
class RunResult:
    """One strategy on one seed: its trials (the first ``budget`` finished ones) and what it changed."""

    strategy: str
    seed: int
    study_dir: Path
    trials: tuple[TrialPoint, ...]
    actions: tuple[dict[str, Any], ...] = ()
    architecture: dict[str, Any] = field(default_factory=dict)
    final_space: dict[str, Any] = field(default_factory=dict)
    n_classes: int | None = None

    @property
    def best(self) -> TrialPoint | None:
        """The trial within the limits with the highest validation accuracy (the earliest on ties)."""
        done = [t for t in self.trials if t.val_accuracy is not None and t.feasible]
        if not done:
            return None
        return max(done, key=lambda t: (t.val_accuracy, -t.index))

    def metrics(self, target: float | None) -> dict[str, float | None]:
        """The numbers the tables report for this run (None where undefined)."""
        best = self.best
        wall = sum(t.wall_seconds for t in self.trials)
        train = sum(t.train_seconds or 0.0 for t in self.trials)
        executor = [t.executor_seconds for t in self.trials]
        n = len(self.trials)
        reached = trials_to_target(self.trials, target) if target is not None else None
        later = [t for t in self.trials if t.index > EARLY_TRIALS]
        later_acc = [t.val_accuracy for t in later if t.val_accuracy is not None]
        chance = 1.0 / self.n_classes if self.n_classes else None
        at_chance = None
        if chance is not None and later:
            at_chance = sum(t.val_accuracy is None or (t.val_accuracy - chance) / (1 - chance) < CHANCE_SKILL
                            for t in later) / len(later)
        complete = [t for t in self.trials if t.val_accuracy is not None]
        return {
            "best_val_accuracy": best.val_accuracy if best else None,
            "infeasible_share": sum(not t.feasible for t in complete) / len(complete) if complete else None,
            "best_params": best.costs.get("params") if best else None,
            "feasible_found": float(best is not None),
            "test_accuracy": best.test_accuracy if best else None,
            "later_val_accuracy": statistics.fmean(later_acc) if later_acc else None,
            "chance_share": at_chance,
            "epochs": float(sum(t.epochs_run or 0 for t in self.trials)),
            "best_trial": float(best.index) if best else None,
            "trials_to_target": float(reached) if reached is not None else None,
            "seconds_to_target": self.trials[reached - 1].elapsed if reached is not None else None,
            "wall_seconds": wall,
            "wall_per_trial": wall / n if n else None,
            "train_seconds": train,
            "overhead_seconds": wall - train,
            "overhead_per_trial": (wall - train) / n if n else None,
            "tuner_seconds": wall - sum(e for e in executor if e is not None) if executor and None not in executor
            else None,
            "trials": float(n),
            "failed": float(sum(t.state != TrialState.COMPLETE for t in self.trials)),
        }

    def applied_actions(self) -> dict[str, int]:
        """How often each action was applied in this run."""
        counts: dict[str, int] = {}
        for action in self.actions:
            if action["applied"]:
                counts[action["name"]] = counts.get(action["name"], 0) + 1
        return counts

    def to_dict(self, target: float | None) -> dict[str, Any]:
        return {"strategy": self.strategy, "seed": self.seed, "study_dir": str(self.study_dir),
                "metrics": self.metrics(target), "applied_actions": self.applied_actions(),
                "actions": list(self.actions), "architecture": self.architecture,
                "final_space": self.final_space, "trials": [t.to_dict() for t in self.trials]}


def best_so_far(values: Sequence[float | None]) -> list[float | None]:
    """Running maximum; ``None`` (a failed trial) keeps the previous best."""
    out: list[float | None] = []
    best: float | None = None
    for value in values:
        if value is not None and math.isfinite(value) and (best is None or value > best):
            best = value
        out.append(best)
    return out


def trials_to_target(trials: Sequence[TrialPoint], target: float) -> int | None:
    """1-based count of trials until the best validation accuracy first reaches ``target``."""
    for trial in trials:
        if trial.best_so_far is not None and trial.best_so_far >= target:
            return trial.index
    return None


def default_target(runs: Sequence[RunResult]) -> float | None:
    """The median of all runs' final best validation accuracy (None without any)."""
    finals = [best.val_accuracy for best in (run.best for run in runs)
              if best is not None and best.val_accuracy is not None]
    return float(statistics.median(finals)) if finals else None


def load_run(study_dir: Path, strategy: str, seed: int, budget: int | None,
             budget_epochs: int | None = None) -> RunResult:
    """Read one run's finished trials (complete or failed) from its store: the first ``budget``
    of them, or those that started within ``budget_epochs`` epochs in all."""
    study_dir = Path(study_dir)
    timings = read_timings(study_dir)
    with StudyStore.open(study_dir, readonly=True) as store:
        all_trials = store.trials(with_curves=False)
        created = _created_at(store.events(), all_trials)
        trials = [t for t in all_trials if t.state in (TrialState.COMPLETE, TrialState.FAILED)]
        trials = within_budget(trials, budget, budget_epochs)
        n_classes = store.data_info().get("n_classes")
        numbers = {t.number for t in trials}
        actions = tuple({"trial": a.trial, "name": a.name, "problem": a.problem,
                         "probability": a.probability, "applied": a.applied, "detail": a.detail}
                        for a in store.actions() if a.trial in numbers)
        tuning = store.latest_tuning()
    points = []
    previous = created
    bests = best_so_far([t.val_accuracy if t.is_complete and not t.infeasible else None for t in trials])
    for index, (trial, best) in enumerate(zip(trials, bests), start=1):
        finished = float(trial.finished_at or previous)
        points.append(TrialPoint(
            index=index, number=trial.number, state=trial.state,
            val_accuracy=trial.val_accuracy if trial.is_complete else None,
            test_accuracy=trial.test_accuracy if trial.is_complete else None,
            train_seconds=trial.train_seconds, executor_seconds=timings.get(trial.number),
            wall_seconds=max(0.0, finished - previous), elapsed=finished - created, best_so_far=best,
            epochs_run=trial.extra.get("epochs_run"),
            problems=trial.diagnosis.problems if trial.diagnosis else (), params=dict(trial.params),
            feasible=not trial.infeasible, costs=trial_costs(trial)))
        previous = finished
    return RunResult(strategy, seed, study_dir, tuple(points), actions, tuning.architecture.to_dict(),
                     tuning.space.to_dict(), n_classes)


def within_budget(trials: Sequence[Trial], budget: int | None, budget_epochs: int | None) -> list[Trial]:
    """The first ``budget`` trials, and only those started before ``budget_epochs`` epochs were used."""
    kept = list(trials)[:budget] if budget is not None else list(trials)
    if budget_epochs is None:
        return kept
    used, out = 0, []
    for trial in kept:
        if used >= budget_epochs:
            break
        out.append(trial)
        used += int(trial.extra.get("epochs_run") or 0)
    return out


def _created_at(events: Sequence[Event], trials: Sequence[Trial]) -> float:
    """When the study was created (its first event), else when its first trial started."""
    created = [e.time for e in events if e.kind == "study_created"]
    if created:
        return float(created[0])
    starts = [t.started_at for t in trials if t.started_at is not None]
    return float(min(starts)) if starts else 0.0


def read_timings(study_dir: Path) -> dict[int, float]:
    """The executor seconds per trial number written by the runner ({} when absent)."""
    path = Path(study_dir) / TIMINGS_NAME
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return {int(k): float(v) for k, v in data.items()}


def mean_of(values: Sequence[float | None]) -> float | None:
    """Mean of the known values (None if there are none)."""
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else None


def std_of(values: Sequence[float | None]) -> float | None:
    """Sample standard deviation of the known values (0 for one, None for none)."""
    known = [v for v in values if v is not None]
    if not known:
        return None
    return statistics.stdev(known) if len(known) > 1 else 0.0


@dataclass(frozen=True)
class StrategySummary:
    """Mean, standard deviation and per-seed values of each metric for one strategy."""

    strategy: str
    seeds: tuple[int, ...]
    values: dict[str, tuple[float | None, ...]]

    def mean(self, key: str) -> float | None:
        return mean_of(self.values[key])

    def std(self, key: str) -> float | None:
        """Sample standard deviation over the seeds that have a value (0 for one seed)."""
        return std_of(self.values[key])

    def count(self, key: str) -> int:
        return sum(v is not None for v in self.values[key])

    def to_dict(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "seeds": list(self.seeds),
                "metrics": {key: {"mean": self.mean(key), "std": self.std(key), "n": self.count(key),
                                  "per_seed": list(values)} for key, values in self.values.items()}}


def summarise(runs: Sequence[RunResult], strategies: Sequence[str],
              target: float | None) -> list[StrategySummary]:
    """One summary per strategy (in the given order) over its runs."""
    out = []
    for strategy in strategies:
        mine = sorted((r for r in runs if r.strategy == strategy), key=lambda r: r.seed)
        if not mine:
            continue
        metrics = [r.metrics(target) for r in mine]
        keys = list(metrics[0])
        out.append(StrategySummary(strategy, tuple(r.seed for r in mine),
                                   {key: tuple(m[key] for m in metrics) for key in keys}))
    return out
