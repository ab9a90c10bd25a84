"""Per-epoch stoppers: what may stop a running trial early, by the name of the ``pruner`` setting.

A stopper is called with the running trial's curve so far after every epoch
and returns why to stop it ("" to go on). Stoppers are made by name from
:data:`STOPPERS_REGISTRY` with a :class:`StopperContext`; the factory may
return ``None`` (nothing stops the trial). Built-ins:

- ``none``: no pruner (the study layer may still stop trials its own way);
- ``median``: Optuna's MedianPruner (:class:`MedianPruningStopper`);
- ``hyperband``: Optuna's HyperbandPruner (:class:`HyperbandStopper`).

Higher layers register their own with :func:`register_stopper` (the study
layer adds ``symbolic``, symtuner's rule-based early stopping).

The Optuna pruners are the baselines of the comparison (optional
dependency). Each call replays the study's finished trials into a fresh
in-memory Optuna study, like the TPE optimizer, so a resumed study prunes as
an uninterrupted one would.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from symtuner.core.errors import ConfigError
from symtuner.core.records import LearningCurve
from symtuner.core.registry import Registry, check_callable

#: Called after every epoch with the curve so far: why to stop the trial, or "" to go on.
Stopper = Callable[[LearningCurve], str]


@dataclass(frozen=True)
class StopperContext:
    """What a stopper factory is told about the study (plain values only).

    ``finished_curves`` holds each finished trial's per-epoch values of the
    objective (in trial order); ``extra`` carries whatever a higher layer's
    stopper needs (not compared).
    """

    objective: str
    maximize: bool
    epochs: int
    finished_curves: tuple[tuple[float, ...], ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.objective, str) or not self.objective:
            raise ConfigError(f"a stopper's objective must be a metric name, got {self.objective!r}")
        if not isinstance(self.maximize, bool):
            raise ConfigError(f"a stopper's maximize must be true or false, got {self.maximize!r}")
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 1:
            raise ConfigError(f"a stopper's epochs must be a positive integer, got {self.epochs!r}")
        curves = tuple(tuple(math.nan if v is None else float(v) for v in curve)
                       for curve in self.finished_curves)
        object.__setattr__(self, "finished_curves", curves)
        if not isinstance(self.extra, Mapping):
            raise ConfigError(f"a stopper's extra must be a mapping, got {self.extra!r:.80}")
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))


#: Makes the stopper of one running trial (None: nothing stops it).
StopperFactory = Callable[[StopperContext], "Stopper | None"]


def _need_optuna(pruner: str) -> None:
    try:
        import optuna  # noqa: F401
    except ImportError:
        raise ConfigError(f"pruner {pruner!r} needs optuna: pip install 'symbolic-dnn-tuner[compare]'") from None


class MedianPruningStopper:
    """Stops the running trial when Optuna's MedianPruner says so ("" to go on).

    After every epoch the running trial's objective so far is compared, at the
    same epoch, with the median of the finished trials (Optuna's rule: pruned
    when worse than that median, after ``n_startup_trials`` finished trials
    and ``n_warmup_steps`` epochs). ``history`` holds each finished trial's
    per-epoch values of ``objective`` (the series the curve logs under that
    name: ``val_accuracy``, ``val_loss``, ``val_auc``, ...).
    """

    def __init__(self, history: Sequence[Sequence[float]], objective: str, maximize: bool,
                 n_startup_trials: int = 5, n_warmup_steps: int = 0) -> None:
        _need_optuna("median")
        self.history = [list(values) for values in history]
        self.objective = objective
        self.maximize = maximize
        self.n_startup_trials = n_startup_trials
        self.n_warmup_steps = n_warmup_steps

    def __call__(self, curve: LearningCurve) -> str:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        values = curve.series(self.objective)
        pruner = optuna.pruners.MedianPruner(n_startup_trials=self.n_startup_trials,
                                             n_warmup_steps=self.n_warmup_steps)
        study = optuna.create_study(direction="maximize" if self.maximize else "minimize", pruner=pruner)
        distribution: dict[str, optuna.distributions.BaseDistribution] = {
            "x": optuna.distributions.FloatDistribution(0.0, 1.0)}
        for series in self.history:
            steps = _steps(series)
            if steps:
                study.add_trial(optuna.trial.create_trial(
                    params={"x": 0.5}, distributions=distribution,
                    value=max(steps.values()) if self.maximize else min(steps.values()),
                    intermediate_values=steps))
        trial = study.ask()
        for step, value in _steps(values).items():
            trial.report(value, step)
        if trial.should_prune():
            return (f"Optuna's MedianPruner: {self.objective} {values[-1]:.4f} after epoch {len(values)} is "
                    f"worse than the median of the finished trials at that epoch")
        return ""


class HyperbandStopper:
    """Stops the running trial when Optuna's HyperbandPruner says so ("" to go on).

    Resources are epochs: step ``k`` is the objective after epoch ``k``
    (1-based), from ``min_resource`` (1) to ``max_resource`` (the study's
    epochs), cut by ``reduction_factor`` (3) from rung to rung. Each trial
    falls into a bracket by its number, as in Optuna (the replayed study has a
    fixed name, so the brackets are the same every time). The finished trials
    are replayed once, through the pruner itself, so that they carry the rung
    values Optuna would have recorded; every call then copies them into a
    fresh in-memory study and reports the running trial's epochs one by one.
    A non-finite value at a rung prunes the trial (Optuna's rule for NaN);
    a trial at its last epoch is never stopped (nothing is left to save).
    """

    STUDY_NAME = "symtuner-hyperband"

    def __init__(self, history: Sequence[Sequence[float]], objective: str, maximize: bool, epochs: int,
                 min_resource: int = 1, reduction_factor: int = 3) -> None:
        _need_optuna("hyperband")
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < min_resource:
            raise ConfigError(f"pruner 'hyperband' needs at least {min_resource} epochs, got {epochs!r}")
        self.history = [list(values) for values in history]
        self.objective = objective
        self.maximize = maximize
        self.epochs = epochs
        self.min_resource = min_resource
        self.reduction_factor = reduction_factor
        self._finished = self._replay()

    def _study(self) -> Any:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        pruner = optuna.pruners.HyperbandPruner(min_resource=self.min_resource, max_resource=self.epochs,
                                                reduction_factor=self.reduction_factor)
        return optuna.create_study(direction="maximize" if self.maximize else "minimize", pruner=pruner,
                                   study_name=self.STUDY_NAME)

    def _replay(self) -> list[Any]:
        """The finished trials as Optuna would hold them (rung values recorded), in trial order."""
        study = self._study()
        for series in self.history:
            steps = _epoch_steps(series)
            finite = [v for v in steps.values() if math.isfinite(v)]
            if not finite:
                continue
            trial = study.ask()
            for step, value in steps.items():
                trial.report(value, step)
                trial.should_prune()  # records the rung values, as it would have while the trial ran
            study.tell(trial, finite[-1])
        return study.get_trials(deepcopy=True)

    def __call__(self, curve: LearningCurve) -> str:
        import optuna

        values = curve.series(self.objective)
        study = self._study()
        for done in self._finished:
            study.add_trial(optuna.trial.create_trial(
                value=done.value, intermediate_values=done.intermediate_values,
                system_attrs=dict(done.system_attrs)))
        trial = study.ask()
        for step, value in _epoch_steps(values).items():
            if step >= self.epochs:  # the last epoch is done: nothing left to save
                break
            trial.report(value, step)
            if trial.should_prune():
                return (f"Optuna's HyperbandPruner: {self.objective} {value:.4f} after epoch {step} is not "
                        f"among the best 1/{self.reduction_factor} of the trials of its bracket at that epoch")
        return ""


def _steps(values: Sequence[float]) -> dict[int, float]:
    return {step: float(v) for step, v in enumerate(values) if v is not None and math.isfinite(v)}


def _epoch_steps(values: Sequence[float]) -> dict[int, float]:
    """Step k (1-based epoch) -> value; a missing or non-finite value is NaN."""
    return {step: (float(v) if v is not None and math.isfinite(v) else math.nan)
            for step, v in enumerate(values, start=1)}


# -- the registry ------------------------------------------------------------------
def _none(ctx: StopperContext) -> Stopper | None:
    return None


def _median(ctx: StopperContext) -> Stopper | None:
    return MedianPruningStopper(ctx.finished_curves, ctx.objective, ctx.maximize)


def _hyperband(ctx: StopperContext) -> Stopper | None:
    return HyperbandStopper(ctx.finished_curves, ctx.objective, ctx.maximize, ctx.epochs)


#: Stopper factories by the name a study's ``pruner`` setting gives.
STOPPERS_REGISTRY: Registry[StopperFactory] = Registry("pruner", check=check_callable("pruner"))
STOPPERS_REGISTRY.register("none", _none)
STOPPERS_REGISTRY.register("median", _median)
STOPPERS_REGISTRY.register("hyperband", _hyperband)


def register_stopper(name: str, factory: StopperFactory, *, replace: bool = False) -> StopperFactory:
    """Make ``name`` a valid ``pruner`` setting: ``factory(ctx)`` returns the stopper of a running
    trial, or None. Raises ``ConfigError`` for a bad or already registered name (unless
    ``replace``) and for a factory that is not callable."""
    return STOPPERS_REGISTRY.register(name, factory, replace=replace)


def stopper_names() -> tuple[str, ...]:
    """Every registered stopper's name, sorted."""
    return STOPPERS_REGISTRY.names()


def make_stopper(name: str, ctx: StopperContext) -> Stopper | None:
    """The stopper registered as ``name`` for one running trial (None: nothing stops it); an
    unknown name raises ``ConfigError`` listing the registered ones."""
    if not isinstance(ctx, StopperContext):
        raise ConfigError(f"make_stopper needs a StopperContext, got {type(ctx).__name__}")
    return STOPPERS_REGISTRY.get(name)(ctx)


__all__ = ["HyperbandStopper", "MedianPruningStopper", "STOPPERS_REGISTRY", "Stopper", "StopperContext",
           "StopperFactory", "make_stopper", "register_stopper", "stopper_names"]
