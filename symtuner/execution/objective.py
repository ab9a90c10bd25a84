"""A user's own training code as the trainer of a study: define-by-run trials.

The objective receives an :class:`ObjectiveTrial`. It asks for its
hyper-parameters (``suggest_float``, ``suggest_int``, ``suggest_categorical``),
reads the architecture changes the symbolic layer decided
(``trial.architecture``), reports every epoch's metrics (``report``) and asks
whether to stop (``should_stop``). A parameter the study's space already has
gets the value proposed for it (from bounds the tuning actions may have
moved); one it does not have yet is declared by this trial and drawn at
random in the range given, seeded by the trial. Works in this process and in
a worker process alike: nothing here touches the store.
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from symtuner.core.architecture import FEATURES, L2_NAME, Architecture, conv_filters_name, dense_units_name
from symtuner.core.contract import EpochCallback, TrainResult, TrialSpec
from symtuner.core.errors import ConfigError, TrialFailed
from symtuner.core.records import LearningCurve
from symtuner.core.space import Categorical, Dimension, Integer, Real

#: What ``report(epoch, **metrics)`` stores under Keras's names (others are kept under their own).
_METRIC_NAMES = {"train_loss": "loss", "train_acc": "accuracy", "train_accuracy": "accuracy", "acc": "accuracy",
                 "val_acc": "val_accuracy"}


class TrialArchitecture:
    """The architecture changes in force for a trial, as its objective reads them.

    Every read is recorded: a change the objective never reads is reported
    as ignored by the network, undone, and not applied again.
    """

    def __init__(self, architecture: Architecture, params: Mapping[str, Any]) -> None:
        self._architecture = architecture
        self._params = params
        self.read: set[str] = set()

    @property
    def l2(self) -> float | None:
        """The L2 factor to apply to the weights (None: no L2 regularisation)."""
        self.read.add("l2")
        return float(self._params.get(L2_NAME, 1e-4)) if self._architecture.l2 else None

    @property
    def batch_norm(self) -> bool:
        """Whether to put batch normalisation after each hidden layer."""
        self.read.add("batch_norm")
        return self._architecture.batch_norm

    @property
    def augment(self) -> bool:
        """Whether to augment the training inputs (shifts; flips where ``flip``)."""
        self.read.add("augmentation")
        return self._architecture.augmentation

    @property
    def flip(self) -> bool:
        """Whether augmentation may flip inputs horizontally."""
        return self._architecture.flip

    @property
    def extra_dense_layers(self) -> tuple[int, ...]:
        """Units of each dense layer to add before the output layer (empty: none)."""
        self.read.add("extra_dense")
        return tuple(int(self._params.get(dense_units_name(i), 64)) for i in range(1, self._architecture.extra_dense + 1))

    @property
    def extra_conv_blocks(self) -> tuple[int, ...]:
        """Filters of each conv block to add before flattening (empty: none)."""
        self.read.add("extra_conv")
        return tuple(int(self._params.get(conv_filters_name(i), 32)) for i in range(1, self._architecture.extra_conv + 1))

    def unread_changes(self) -> dict[str, str]:
        """Architecture features in force that the objective never read, with why they count as ignored."""
        on = {name for name in FEATURES if getattr(self._architecture, name)}
        return {name: f"the objective never read trial.architecture.{_reader(name)}" for name in sorted(on - self.read)}


def _reader(feature: str) -> str:
    return {"augmentation": "augment", "extra_dense": "extra_dense_layers", "extra_conv": "extra_conv_blocks"}.get(
        feature, feature)


class ObjectiveTrial:
    """One trial of a define-by-run study, as the objective sees it (Optuna's names where they exist)."""

    def __init__(self, spec: TrialSpec, on_epoch: EpochCallback | None = None) -> None:
        self.number = spec.number
        self.seed = spec.seed
        self._proposed = dict(spec.params)
        self.params: dict[str, Any] = {}
        self.architecture = TrialArchitecture(spec.architecture, self._proposed)
        self.declared: list[Dimension] = []
        self._on_epoch = on_epoch
        self._epochs: list[dict[str, float]] = []
        self._stop_reason = ""
        self._started = time.perf_counter()

    # -- parameters --------------------------------------------------------
    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False,
                      step: float | None = None) -> float:
        """A real value for ``name`` in ``[low, high]`` (log-uniform with ``log``; on a grid with ``step``)."""
        value = float(self._suggest(Real(name, low, high, "log-uniform" if log else "uniform")))
        if step is not None:
            if isinstance(step, bool) or not isinstance(step, (int, float)) or not step > 0:
                raise ConfigError(f"suggest_float({name!r}): step must be a positive number, got {step!r}")
            value = min(float(high), float(low) + round((value - float(low)) / step) * step)
        self.params[name] = value
        return value

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False, step: int = 1) -> int:
        """An integer for ``name`` in ``[low, high]`` (log-uniform with ``log``; multiples of ``step`` from
        ``low``)."""
        value = int(self._suggest(Integer(name, low, high, "log-uniform" if log else "uniform")))
        if step != 1:
            if isinstance(step, bool) or not isinstance(step, int) or step < 1:
                raise ConfigError(f"suggest_int({name!r}): step must be a positive integer, got {step!r}")
            value = min(int(high), int(low) + round((value - int(low)) / step) * step)
        self.params[name] = value
        return value

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        """One of ``choices`` for ``name``."""
        if isinstance(choices, (str, bytes)) or not isinstance(choices, Sequence):
            raise ConfigError(f"suggest_categorical({name!r}): choices must be a list, got {choices!r:.60}")
        value = self._suggest(Categorical(name, tuple(choices)))
        self.params[name] = value
        return value

    def _suggest(self, dimension: Dimension) -> Any:
        """The proposed value of a known dimension, or a value drawn for a newly declared one."""
        name = dimension.name
        if name in self.params:
            return self.params[name]
        if name in self._proposed:
            return _checked(dimension, self._proposed[name])
        rng = np.random.default_rng([self.seed, zlib.crc32(name.encode())])
        value = _draw(dimension, rng)
        self.declared.append(dimension)
        self._proposed[name] = value
        return value

    # -- epochs ------------------------------------------------------------
    def report(self, epoch_or_value: float, step: int | None = None, /, **metrics: float) -> None:
        """Report one epoch: ``report(epoch, loss=..., val_loss=..., accuracy=..., val_accuracy=...)``
        (any other metric by its name), or Optuna's ``report(value, step)``: the objective at ``step``."""
        if metrics and step is not None:
            raise ConfigError("report takes report(epoch, **metrics) or report(value, step), not both")
        if not metrics and step is None:
            raise ConfigError("report needs metrics: report(epoch, loss=..., val_accuracy=...) or report(value, step)")
        epoch: Any = epoch_or_value if metrics else step
        logs = {_METRIC_NAMES.get(k, k): _number(k, v) for k, v in metrics.items()} if metrics \
            else {_OBJECTIVE: _number("value", epoch_or_value)}
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise ConfigError(f"report: the epoch must be a non-negative integer, got {epoch!r}")
        if int(epoch) != len(self._epochs):
            raise ConfigError(f"report: epoch {epoch} reported after {len(self._epochs)} epoch(s); report each "
                              "epoch once, in order, from 0")
        self._epochs.append(logs)
        if self._on_epoch is not None and not self._stop_reason:
            self._stop_reason = self._on_epoch(int(epoch), dict(logs)) or ""

    def should_stop(self) -> bool:
        """Whether the study's stopper (symbolic early stopping, or the chosen pruner) says to stop."""
        return bool(self._stop_reason)

    should_prune = should_stop

    @property
    def stop_reason(self) -> str:
        return self._stop_reason

    # -- the result ----------------------------------------------------------
    def result(self, value: Any, objective: str) -> TrainResult:
        """The trial's result: its reported epochs, and ``value`` (what the objective returned, or None: the
        last reported value of ``objective``) as the objective."""
        logs = [{(objective if k == _OBJECTIVE else k): v for k, v in epoch.items()} for epoch in self._epochs]
        last = logs[-1] if logs else {}
        if value is None:
            value = last.get(objective)
            if value is None:
                raise TrialFailed(f"trial {self.number}: the objective returned nothing and reported no "
                                  f"{objective}; return the value to optimise or report it")
        value = _number("the objective's return value", value)
        val_metrics = {k[len("val_"):]: v for k, v in last.items() if k.startswith("val_")}
        val_metrics[objective[len("val_"):] if objective.startswith("val_") else objective] = value
        curve = LearningCurve.from_epochs(logs) if logs else LearningCurve.from_epochs([{}])
        return TrainResult(curve=curve, val_loss=float(last.get("val_loss", math.nan)),
                           val_accuracy=float(last.get("val_accuracy", math.nan)), test_loss=math.nan,
                           test_accuracy=math.nan, train_seconds=time.perf_counter() - self._started,
                           epochs_run=len(logs), model_path=None, log_dir=None, params_count=0,
                           ignored_features=self.architecture.unread_changes(), stopped=self._stop_reason,
                           val_metrics=val_metrics, params_used=dict(self.params), declared=tuple(self.declared))


#: The key Optuna's ``report(value, step)`` is recorded under until the study's objective names it.
_OBJECTIVE = "__objective__"


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        item = getattr(value, "item", None)  # a 0-d tensor or array
        if item is None:
            raise ConfigError(f"report: {name} must be a number, got {value!r:.60}")
        value = item()
    return float(value)


def _checked(dimension: Dimension, value: Any) -> Any:
    """A proposed value, of the kind the objective asks for now."""
    if isinstance(dimension, Categorical) or not isinstance(value, (int, float)) or isinstance(value, bool):
        return value
    return int(value) if isinstance(dimension, Integer) else float(value)


def _draw(dimension: Dimension, rng: np.random.Generator) -> Any:
    """A value of ``dimension`` drawn at random (log-uniform where its prior says so)."""
    if isinstance(dimension, Categorical):
        return dimension.categories[int(rng.integers(len(dimension.categories)))]
    low, high = float(dimension.low), float(dimension.high)
    if dimension.prior == "log-uniform":
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
    else:
        value = rng.uniform(low, high)
    return int(min(high, max(low, round(value)))) if isinstance(dimension, Integer) else float(value)


class ObjectiveExecutor:
    """Runs a user's objective as the trainer of a study (the executor protocol: ``run(spec, on_epoch)``)."""

    def __init__(self, objective: Callable[[ObjectiveTrial], Any], metric: str) -> None:
        self.objective = objective
        self.metric = metric

    def run(self, spec: TrialSpec, on_epoch: EpochCallback | None = None) -> TrainResult:
        trial = ObjectiveTrial(spec, on_epoch)
        try:
            value = self.objective(trial)
        except (ConfigError, TrialFailed):
            raise
        except Exception as exc:
            raise TrialFailed(f"trial {spec.number}: the objective raised {type(exc).__name__}: {exc}") from exc
        return trial.result(value, self.metric)


class ObjectiveFactory:
    """Makes the :class:`ObjectiveExecutor` of an importable objective in a worker process (picklable:
    it holds the objective's ``module:function`` spec, not the function)."""

    def __init__(self, spec: str, metric: str) -> None:
        self.spec = spec
        self.metric = metric

    def __call__(self, dataset: Any = None, network: Any = None, config: Any = None) -> ObjectiveExecutor:
        from symtuner.core.plugins import load_callable

        return ObjectiveExecutor(load_callable(self.spec, "objective"), self.metric)
