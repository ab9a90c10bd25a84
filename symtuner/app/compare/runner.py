"""Run several strategies on the same task, one study per strategy and seed.

Every run is an ordinary study directory (``OUT/runs/<strategy>-seed<k>``),
so ``symtuner status`` and the dashboard work on it, and rerunning the same
comparison resumes unfinished runs and skips finished ones. Runs go one at a
time, seed by seed, so that a change in machine load hits all strategies
alike.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

from symtuner.app.compare.results import TIMINGS_NAME, RunResult, default_target, load_run, read_timings
from symtuner.app.compare.strategies import STRATEGIES, check_available
from symtuner.core.costs import LIMIT_SETTINGS, check_limit, format_cost
from symtuner.core.errors import ConfigError, StudyError
from symtuner.core.fields import positive_int
from symtuner.core.records import Trial, TrialState
from symtuner.core.settings import StudySettings
from symtuner.storage import StudyStore

#: The comparison's own record in its output directory.
MANIFEST_NAME = "compare.json"
#: Settings that must stay the same when a comparison is rerun into the same directory.
_FIXED = ("dataset", "epochs", "simulate", "budget_epochs", "space", "limits")


@dataclass(frozen=True)
class ComparisonSpec:
    """What to compare: strategies x seeds on one data set, with one trial budget and epochs per trial."""

    dataset: str
    strategies: tuple[str, ...]
    seeds: tuple[int, ...]
    trials: int | None
    epochs: int
    out: Path
    simulate: bool = False
    target: float | None = None
    budget_epochs: int | None = None
    space_file: Path | None = None
    #: hard limits on what every run's networks cost (cost name -> limit; symtuner.core.costs)
    limits: dict[str, float] = field(default_factory=dict)
    #: strategies that run at an equal epoch budget of ``trials x epochs`` epochs instead of ``trials``
    #: trials (those that prune: stopping trials early buys them more trials, not fewer epochs)
    epoch_matched: tuple[str, ...] = ()
    #: every trial in a fresh worker process (``ExecutionSettings.isolate``): what TensorFlow keeps of
    #: each trial is given back, so a long comparison of large networks does not run out of memory; how
    #: runs are executed, so not part of the manifest (a comparison may be resumed with or without it)
    isolate: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.dataset, str) or not self.dataset.strip():
            raise ConfigError(f"data set {self.dataset!r} must be a name or 'module:function'")
        if not self.strategies:
            raise ConfigError("a comparison needs at least one strategy")
        unknown = [s for s in self.strategies if s not in STRATEGIES]
        if unknown:
            raise ConfigError(f"unknown strategy {unknown[0]!r}; choose from {', '.join(STRATEGIES)}")
        if not self.seeds:
            raise ConfigError("a comparison needs at least one seed")
        for seed in self.seeds:
            if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
                raise ConfigError(f"seed {seed!r} is not a non-negative integer")
        for name in ("trials", "epochs", "budget_epochs"):
            value = getattr(self, name)
            if value is None and name != "epochs" and (name == "budget_epochs" or self.budget_epochs):
                continue
            positive_int(value, name)
        if self.target is not None and (isinstance(self.target, bool) or not isinstance(self.target, (int, float))
                                        or not 0 < self.target <= 1):
            raise ConfigError(f"target validation accuracy {self.target!r} must be in (0, 1]")
        unknown = sorted(set(self.limits) - set(LIMIT_SETTINGS))
        if unknown:
            raise ConfigError(f"unknown cost {unknown[0]!r} to limit; the costs are {', '.join(LIMIT_SETTINGS)}")
        for name, value in self.limits.items():
            check_limit(LIMIT_SETTINGS[name], value)
        object.__setattr__(self, "epoch_matched", tuple(self.epoch_matched))
        stray = [s for s in self.epoch_matched if s not in self.strategies]
        if stray:
            raise ConfigError(f"epoch-matched strategy {stray[0]!r} is not one of the compared strategies")
        if self.epoch_matched and (self.trials is None or self.budget_epochs is not None):
            raise ConfigError("epoch-matched strategies need a trial count and no --budget-epochs: their budget "
                              "is trials x epochs")
        object.__setattr__(self, "out", Path(self.out))
        if self.space_file is not None:
            object.__setattr__(self, "space_file", Path(self.space_file))
            self.space()  # a bad file fails before anything runs

    def space(self) -> Any:
        """The initial search space of every run (None: the default space)."""
        if self.space_file is None:
            return None
        from symtuner.core.settings import load_config

        space = load_config(self.space_file).space
        if space is None:
            raise ConfigError(f"space file {self.space_file} has no [[space]] tables")
        return space

    def run_dir(self, strategy: str, seed: int) -> Path:
        return run_dir(self.out, strategy, seed)

    def budget_of(self, strategy: str) -> tuple[int | None, int | None]:
        """``(trials, budget_epochs)`` of ``strategy``'s runs: the spec's, except that an epoch-matched
        strategy gets ``trials x epochs`` epochs and no trial count."""
        if strategy in self.epoch_matched and self.trials is not None:
            return None, self.trials * self.epochs
        return self.trials, self.budget_epochs

    def manifest(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "epochs": self.epochs, "simulate": self.simulate,
                "trials": self.trials, "budget_epochs": self.budget_epochs,
                "space": None if self.space_file is None else self.space().to_dict(),
                "strategies": list(self.strategies), "seeds": list(self.seeds), "limits": dict(self.limits),
                "epoch_matched": list(self.epoch_matched)}

    def finished(self, directory: Path, strategy: str | None = None) -> bool:
        """Whether the run in ``directory`` (of ``strategy``: its budget, see :meth:`budget_of`) has its
        trials, or has used its epoch budget (no trial fits in what is left of it)."""
        trials_wanted, budget = self.budget_of(strategy or "")
        trials, epochs = finished_trials(directory), used_epochs(directory)
        if budget is not None and epochs + self.epochs > budget:
            return True
        return trials_wanted is not None and trials >= trials_wanted


def run_dir(out: Path, strategy: str, seed: int) -> Path:
    """The study directory of one strategy on one seed."""
    return Path(out) / "runs" / f"{strategy}-seed{seed}"


@dataclass(frozen=True)
class Comparison:
    """The outcome: every run, the target accuracy used and where it came from."""

    spec: ComparisonSpec
    runs: tuple[RunResult, ...]
    target: float | None
    target_source: str
    machine: dict[str, Any]


def settings_for(spec: ComparisonSpec, strategy: str, seed: int) -> StudySettings:
    """The study settings of one run: everything but optimizer and symbolic is shared."""
    chosen = STRATEGIES[strategy]
    limits: dict[str, Any] = {LIMIT_SETTINGS[name]: value for name, value in spec.limits.items()}
    return StudySettings.from_dict({"dataset": spec.dataset, "epochs": spec.epochs, "seed": seed,
                                    "optimizer": chosen.optimizer, "symbolic": chosen.symbolic,
                                    "pruner": chosen.pruner, **limits})


def run_comparison(spec: ComparisonSpec, stream: TextIO | None = None) -> Comparison:
    """Run (or resume) every strategy x seed, then read all runs back."""
    check_available(spec.strategies)
    _check_dataset_name(spec.dataset)
    _check_manifest(spec)
    say = _printer(stream)
    pending = [(seed, strategy) for seed in spec.seeds for strategy in spec.strategies
               if not spec.finished(spec.run_dir(strategy, seed), strategy)]
    total = len(spec.seeds) * len(spec.strategies)
    say(f"comparison of {', '.join(spec.strategies)} on {spec.dataset}"
        f"{' (SIMULATED training)' if spec.simulate else ''}: {len(spec.seeds)} seed(s), "
        f"{_budget_text(spec)}; {total - len(pending)} of {total} runs already finished")
    if pending and not spec.simulate and not spec.isolate:  # isolated, every trial pays its own start-up
        say("warming up (one throw-away 1-epoch trial, so that start-up costs hit no strategy)")
        warm_up(spec.dataset, spec.seeds[0])
    for done, (seed, strategy) in enumerate(pending, start=1):
        label = f"{strategy} seed {seed}"
        say(f"run {done}/{len(pending)}: {label} -> {spec.run_dir(strategy, seed)}")
        run_one(spec, strategy, seed, stream)
    return collect(spec)


def check_spec(spec: ComparisonSpec) -> None:
    """Everything :func:`run_comparison` checks before it trains, with nothing written: the strategies'
    dependencies, the data set's name and an existing output directory's settings."""
    check_available(spec.strategies)
    _check_dataset_name(spec.dataset)
    _check_manifest(spec, write=False)


def _check_dataset_name(name: str) -> None:
    """An unknown data set is an error before the output directory is made."""
    from symtuner.core.plugins import load_callable
    from symtuner.data.loaders import DATASETS

    if ":" in name:
        load_callable(name, "data set function")
    elif name not in DATASETS:
        raise ConfigError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)} "
                          "or give 'package.module:function' / 'file.py:function'")


def run_one(spec: ComparisonSpec, strategy: str, seed: int, stream: TextIO | None = None) -> None:
    """Run or resume one strategy on one seed until it has ``spec.trials`` finished trials."""
    from symtuner.execution import ExecutionSettings
    from symtuner.study.tuner import Tuner

    directory = spec.run_dir(strategy, seed)
    resuming = StudyStore.exists(directory)
    tuner = Tuner(directory, dataset=spec.dataset, settings=settings_for(spec, strategy, seed),
                  space=None if resuming else spec.space(),
                  progress=_RunProgress(f"{strategy} seed {seed}", stream),
                  executor_factory=TimedFactory(_base_factory(spec.simulate), directory / TIMINGS_NAME),
                  execution=ExecutionSettings(isolate=spec.isolate))
    trials, budget_epochs = spec.budget_of(strategy)
    tuner.run(trials, budget_epochs=budget_epochs)


def collect(spec: ComparisonSpec) -> Comparison:
    """Read every existing run of ``spec`` back and fix the target accuracy."""
    runs = tuple(load_run(spec.run_dir(strategy, seed), strategy, seed, *spec.budget_of(strategy))
                 for seed in spec.seeds for strategy in spec.strategies
                 if StudyStore.exists(spec.run_dir(strategy, seed)))
    if any(run.n_classes is None for run in runs):  # runs stored before the data set's description was
        classes = _classes_of(spec)
        runs = tuple(run if run.n_classes is not None else replace(run, n_classes=classes) for run in runs)
    target: float | None
    if spec.target is not None:
        target, source = float(spec.target), "given with --target"
    else:
        target = default_target(runs)
        source = (f"median of the {sum(r.best is not None for r in runs)} runs' final best validation "
                  "accuracy") if target is not None else "no run has a complete trial"
    return Comparison(spec, runs, target, source, machine_info())


def _budget_text(spec: ComparisonSpec) -> str:
    per = f"{spec.epochs} epoch(s) per trial"
    limits = f", {limits_text(spec.limits)}" if spec.limits else ""
    if spec.epoch_matched and spec.trials is not None:
        return (f"{spec.trials} trials of {per}; {', '.join(spec.epoch_matched)} at an equal epoch budget of "
                f"{spec.trials * spec.epochs} epochs per run{limits}")
    if spec.budget_epochs is None:
        return f"{spec.trials} trials of {per}{limits}"
    cap = f", at most {spec.trials} trials" if spec.trials is not None else ""
    return f"{spec.budget_epochs} epochs in all per run ({per}{cap}){limits}"


def limits_text(limits: dict[str, float]) -> str:
    """``hard limits: 100 k parameters`` for a comparison's limits."""
    return "hard limits: " + ", ".join(format_cost(name, value) for name, value in limits.items())


def _classes_of(spec: ComparisonSpec) -> int | None:
    if spec.simulate:
        return 10
    from symtuner.data import load_dataset

    try:
        return load_dataset(spec.dataset, seed=spec.seeds[0]).n_classes
    except Exception:  # the data set is no longer loadable here: the share at chance stays unknown
        return None


def used_epochs(directory: Path) -> int:
    """Epochs the finished trials of the study in ``directory`` ran (0 when there is none)."""
    if not StudyStore.exists(directory):
        return 0
    from symtuner.study.seeds import epochs_used

    with StudyStore.open(directory, readonly=True) as store:
        return epochs_used(store.trials(with_curves=False))


def finished_trials(directory: Path) -> int:
    """How many complete or failed trials the study in ``directory`` holds (0 when there is none)."""
    if not StudyStore.exists(directory):
        return 0
    with StudyStore.open(directory, readonly=True) as store:
        return sum(t.state in (TrialState.COMPLETE, TrialState.FAILED) for t in store.trials(with_curves=False))


def warm_up(dataset: str, seed: int) -> None:
    """Train one 1-epoch trial in a scratch study, paying the one-off start-up costs up front."""
    from symtuner.study.tuner import Tuner

    with tempfile.TemporaryDirectory(prefix="symtuner-warmup-") as scratch:
        settings = StudySettings(dataset=dataset, epochs=1, seed=seed, optimizer="random", symbolic=False)
        Tuner(Path(scratch) / "study", dataset=dataset, settings=settings, quiet=True).run(1)


def machine_info() -> dict[str, Any]:
    """The machine and versions the numbers come from."""
    versions: dict[str, str | None] = {}
    for package in ("tensorflow", "keras", "numpy", "scikit-optimize", "optuna", "problog"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"platform": platform.platform(), "python": platform.python_version(),
            "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
            "versions": versions}


# -- executors -----------------------------------------------------------------
def _base_factory(simulate: bool) -> Callable[..., Any]:
    if simulate:
        from symtuner.execution.simulate import SimulatedExecutor

        return SimulatedExecutor
    from symtuner.execution.inprocess import InProcessExecutor

    return InProcessExecutor


class TimedExecutor:
    """Wraps an executor and records how long each ``run`` took, by trial number, in a JSON file.

    The difference between a trial's wall time and this is the tuner's own
    time (proposing, diagnosing, learning rule weights, storing).
    """

    def __init__(self, inner: Any, path: Path) -> None:
        self.inner = inner
        self.path = Path(path)

    def run(self, spec: Any, on_epoch: Any = None) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.run(spec, on_epoch=on_epoch)
        finally:
            timings = read_timings(self.path.parent)
            timings[int(spec.number)] = time.perf_counter() - started
            self.path.parent.mkdir(parents=True, exist_ok=True)
            scratch = self.path.with_suffix(".tmp")
            scratch.write_text(json.dumps({str(k): v for k, v in sorted(timings.items())}), encoding="utf-8")
            scratch.replace(self.path)


@dataclass(frozen=True)
class TimedFactory:
    """An executor factory (the Tuner's signature) whose executors time themselves into ``path``; a
    class, not a closure, so that it pickles to the worker processes of an isolated comparison."""

    base: Callable[..., Any]
    path: Path

    def __call__(self, dataset: Any, network_fn: Any, config: Any) -> TimedExecutor:
        return TimedExecutor(self.base(dataset, network_fn, config), self.path)


# -- manifest and output ---------------------------------------------------------
def _check_manifest(spec: ComparisonSpec, write: bool = True) -> None:
    """A rerun into the same directory must keep data set, epochs and simulation; others may grow.
    ``write=False`` only checks (nothing is made or written)."""
    path = spec.out / MANIFEST_NAME
    if spec.out.exists() and not spec.out.is_dir():
        raise StudyError(f"comparison output {spec.out} is a file, not a directory")
    if path.is_file():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise StudyError(f"{path} is not valid JSON: {exc}") from None
        current = spec.manifest()
        for key in _FIXED:
            if key in stored and stored[key] != current[key]:
                raise ConfigError(f"{spec.out} holds a comparison with {key}={stored[key]!r}; cannot continue it "
                                  f"with {key}={current[key]!r} (choose another --out)")
        matched = set(stored.get("epoch_matched") or ())  # a strategy's runs keep their kind of budget
        for strategy in set(stored.get("strategies") or ()) & set(spec.strategies):
            if (strategy in matched) != (strategy in spec.epoch_matched):
                ran = "an equal epoch budget" if strategy in matched else "a trial count"
                raise ConfigError(f"{spec.out} holds {strategy} runs at {ran}; cannot continue them at the "
                                  "other (choose another --out)")
    elif spec.out.is_dir() and any(spec.out.iterdir()):
        raise StudyError(f"{spec.out} is not empty and holds no comparison; choose another --out")
    if not write:
        return
    spec.out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec.manifest(), indent=2) + "\n", encoding="utf-8")


def _printer(stream: TextIO | None) -> Callable[[str], None]:
    def say(text: str) -> None:
        if stream is not None:
            print(text, file=stream, flush=True)

    return say


class _RunProgress:
    """One line per finished trial of one run."""

    def __init__(self, label: str, stream: TextIO | None) -> None:
        self.label = label
        self.say = _printer(stream)
        self._index = 0
        self._total = 0
        self._started = 0.0

    def trial_started(self, number: int, index: int, total: int, params: dict[str, Any]) -> None:
        self._index, self._total, self._started = index, total, time.perf_counter()

    def epoch_finished(self, number: int, epoch: int, epochs: int, logs: dict[str, float]) -> None:
        pass

    def trial_finished(self, trial: Trial, best: Trial | None, advice: Any) -> None:
        actions = [a.name for a in getattr(advice, "actions", ()) if a.applied]
        over = " (over the limits)" if trial.infeasible else ""
        self.say(f"  [{self.label}] trial {self._counter()}: val acc {_fmt(trial.val_accuracy)}{over}, "
                 f"best {_fmt(best.val_accuracy if best else None)}, "
                 f"{time.perf_counter() - self._started:.1f} s"
                 + (f"; applied {', '.join(actions)}" if actions else ""))

    def trial_failed(self, number: int, error: str) -> None:
        self.say(f"  [{self.label}] trial {self._counter()} failed: {error}")

    def _counter(self) -> str:
        """``3/15``, or ``3`` in a run with an epoch budget and no trial count."""
        return f"{self._index}/{self._total}" if self._total else str(self._index)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


__all__ = ["Comparison", "ComparisonSpec", "MANIFEST_NAME", "TimedExecutor", "check_spec", "collect", "finished_trials",
           "machine_info", "run_comparison", "run_dir", "run_one", "settings_for", "TimedFactory", "warm_up"]
