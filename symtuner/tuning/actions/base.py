"""Shared types of the tuning actions: settings, context, the error and the function type.

An action is a pure function ``(space, architecture, context) -> (space,
architecture)``: it returns new values and never changes its inputs, so each
version of the space and the architecture can be stored and compared.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from symtuner.core.architecture import Architecture
from symtuner.core.errors import ConfigError, SymtunerError
from symtuner.core.fields import check_known_keys
from symtuner.core.space import SearchSpace


class NotApplicable(SymtunerError):
    """An action cannot change anything now (already on, at a cap, at an edge).

    The message says which action and why, e.g.
    ``"new_fc_layer: cap of 3 dense layers reached"``.
    """


@dataclass(frozen=True)
class ActionSettings:
    """Caps and step sizes of the tuning actions.

    Caps:

    - ``max_dense_layers`` (3): dense layers ``new_fc_layer`` may add in all.
    - ``max_conv_blocks`` (1): conv blocks ``new_conv_layer`` may add in all
      (the input's spatial size may allow fewer).

    Amounts:

    - ``lr_factor`` (3): the narrowest learning-rate range (high / low)
      ``decr_lr`` and ``inc_lr`` leave when they cut the range at the
      diagnosed trial's rate.
    - ``lr_floor`` (1e-7) / ``lr_ceiling`` (1.0): limits the learning-rate
      bounds are never moved past.
    - ``dropout_step`` (0.05): added to each dropout lower bound by
      ``inc_dropout``.
    - ``dropout_min_width`` (0.02): ``inc_dropout`` leaves at least this much
      between a dropout lower and upper bound.
    - ``neurons_factor`` (1.25): ``inc_neurons`` multiplies each unit/filter
      lower bound by it (rounded up, at least +1).
    - ``batch_size_factor`` (2): ``inc_batch_size`` multiplies the batch-size
      lower bound by it.
    - ``min_width_fraction`` (0.1): ``inc_neurons`` and ``inc_batch_size``
      leave at least this fraction of the upper bound (and at least 1)
      between an integer lower and upper bound. Upper bounds are the user's
      limits: these actions never raise them.
    - ``l2_range`` ((1e-6, 1e-2)): log-uniform range of the L2 factor HP
      ``reg_l2`` adds.
    - ``dense_units_range`` ((32, 512)): range of the units HP of each dense
      layer ``new_fc_layer`` adds.
    - ``conv_filters_range`` ((64, 256)): range of the filters HP of each conv
      block ``new_conv_layer`` adds.

    Guards (they read the training's size from the context):

    - ``min_steps_per_epoch`` (8): ``inc_batch_size`` never raises the lower
      bound above the training images / this, so every trial keeps at least
      this many optimizer steps per epoch.
    - ``batch_norm_steps`` (300): ``batch_norm`` is not applied when a trial
      takes fewer optimizer steps than this. Keras's BatchNormalization
      updates its moving statistics with momentum 0.99, so after k steps they
      still hold 0.99**k of their initial values: 5 % after 300 steps, 89 %
      after 12 (validation then runs on statistics that are mostly made up).
    - ``min_batch_size`` (16): ``decr_batch_size`` never lowers the batch
      size below this, and does not apply to a trial whose batch was at most
      twice it: the statistics of a smaller batch, which batch normalisation
      normalises with and each step's gradient averages over, are too noisy
      (Wu and He, *Group Normalization*, 2018: batch norm degrades below
      about 16 samples per batch). A training that took few steps at such a
      batch has few steps because its data set is small, not its batch large.
    """

    max_dense_layers: int = 3
    max_conv_blocks: int = 1
    lr_factor: float = 3.0
    lr_floor: float = 1e-7
    lr_ceiling: float = 1.0
    dropout_step: float = 0.05
    dropout_min_width: float = 0.02
    neurons_factor: float = 1.25
    batch_size_factor: float = 2.0
    min_width_fraction: float = 0.1
    l2_range: tuple[float, float] = (1e-6, 1e-2)
    dense_units_range: tuple[int, int] = (32, 512)
    conv_filters_range: tuple[int, int] = (64, 256)
    min_steps_per_epoch: int = 8
    batch_norm_steps: int = 300
    min_batch_size: int = 16

    def __post_init__(self) -> None:
        for name in ("max_dense_layers", "max_conv_blocks", "min_steps_per_epoch", "batch_norm_steps",
                     "min_batch_size"):
            _check_int(name, getattr(self, name), minimum=0)
        for name in ("lr_factor", "neurons_factor", "batch_size_factor"):
            value = _check_number(name, getattr(self, name))
            if value <= 1:
                raise ConfigError(f"action setting {name} must be > 1, got {value!r}")
        floor = _check_number("lr_floor", self.lr_floor)
        ceiling = _check_number("lr_ceiling", self.lr_ceiling)
        if not 0 < floor < ceiling:
            raise ConfigError(f"action settings need 0 < lr_floor < lr_ceiling, got {floor!r} and {ceiling!r}")
        for name in ("dropout_step", "dropout_min_width"):
            value = _check_number(name, getattr(self, name))
            if not 0 < value < 1:
                raise ConfigError(f"action setting {name} must be in (0, 1), got {value!r}")
        fraction = _check_number("min_width_fraction", self.min_width_fraction)
        if not 0 <= fraction < 1:
            raise ConfigError(f"action setting min_width_fraction must be in [0, 1), got {fraction!r}")
        object.__setattr__(self, "l2_range", _check_range("l2_range", self.l2_range, integer=False))
        for name in ("dense_units_range", "conv_filters_range"):
            object.__setattr__(self, name, _check_range(name, getattr(self, name), integer=True))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ActionSettings:
        """Settings from a mapping (e.g. a config table); unknown keys are named."""
        check_known_keys(cls, data, "action settings")
        values: dict[str, Any] = {key: tuple(value) if isinstance(value, list) else value for key, value in data.items()}
        return cls(**values)


@dataclass(frozen=True)
class ActionContext:
    """What an action may look at besides the space and the architecture.

    ``best_params``: params of the best completed trial so far (``None`` if
    none). ``conv_room``: how many more conv blocks the input's spatial size
    allows on top of the architecture given to the action.
    ``trial_params``: params of the trial whose diagnosis chose the action
    (``None`` when the action is applied outside a diagnosis).
    ``n_train``: images a trial trains on per epoch (``None``: unknown, the
    guards that need it are off); ``epochs``: epochs per trial;
    ``image_input``: whether the inputs are images (height, width, channels).
    ``best_problems``: the problems diagnosed on the best trial (its rate is no
    evidence for a learning-rate action when it shows the same problem).
    ``unusable``: actions that cannot work in this study, with the reason
    (the user's network ignores the change they make): never applicable.
    ``problem``: the problem the action is to answer (``None`` outside a
    diagnosis); an action whose evidence depends on it reads it.
    ``learned``: params of the study's other trials that learned (complete,
    diagnosed with neither underfitting nor a learning-rate problem): what
    rates each optimizer is known to train at.
    ``rate_diagnoses``: (optimizer, learning rate, problem) of the study's
    other trials diagnosed with a learning-rate problem (``low_lr``,
    ``high_lr``, ``increasing_loss``): which way each optimizer's own trials
    say its rates must move.
    ``cost_ratios``: per cost the study limits (``params``, ``flops``, ...),
    the diagnosed trial's cost over its limit (above 1: over it); how far
    the shrinking actions go.
    """

    best_params: dict[str, Any] | None
    conv_room: int
    settings: ActionSettings = field(default_factory=ActionSettings)
    trial_params: dict[str, Any] | None = None
    n_train: int | None = None
    epochs: int | None = None
    image_input: bool = True
    best_problems: tuple[str, ...] = ()
    unusable: Mapping[str, str] = field(default_factory=dict)
    problem: str | None = None
    learned: tuple[Mapping[str, Any], ...] = ()
    rate_diagnoses: tuple[tuple[Any, float, str], ...] = ()
    cost_ratios: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("best_params", "trial_params"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Mapping):
                raise ConfigError(f"{name} must be a dict of HP values or None, got {value!r}")
        _check_int("conv_room", self.conv_room, minimum=0)
        for name in ("n_train", "epochs"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), minimum=1)
        object.__setattr__(self, "learned", tuple(self.learned))
        if not all(isinstance(params, Mapping) for params in self.learned):
            raise ConfigError(f"learned must be a sequence of dicts of HP values, got {self.learned!r}")
        object.__setattr__(self, "rate_diagnoses", tuple(tuple(item) for item in self.rate_diagnoses))
        if not all(len(item) == 3 and isinstance(item[2], str) for item in self.rate_diagnoses):
            raise ConfigError(f"rate_diagnoses must be (optimizer, rate, problem) triples, got {self.rate_diagnoses!r}")
        if self.problem is not None and not isinstance(self.problem, str):
            raise ConfigError(f"problem must be a problem name or None, got {self.problem!r}")
        if not isinstance(self.settings, ActionSettings):
            raise ConfigError(f"settings must be ActionSettings, got {self.settings!r}")
        if not isinstance(self.cost_ratios, Mapping) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
                for v in self.cost_ratios.values()):
            raise ConfigError(f"cost_ratios must map cost names to non-negative numbers, got {self.cost_ratios!r}")

    def best(self, name: str) -> Any:
        """The best trial's value of HP ``name``, or ``None``."""
        if self.best_params is None:
            return None
        return plain_value(self.best_params.get(name))

    def trial(self, name: str) -> Any:
        """The diagnosed trial's value of HP ``name``, or ``None``."""
        if self.trial_params is None:
            return None
        return plain_value(self.trial_params.get(name))


#: The type of every tuning action.
ActionFn = Callable[[SearchSpace, Architecture, ActionContext], tuple[SearchSpace, Architecture]]


def plain_value(value: Any) -> Any:
    """A numpy scalar as the Python value it holds; any other value as it is."""
    return value.item() if hasattr(value, "item") else value


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _check_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"action setting {name} must be a finite number, got {value!r}")
    return float(value)


def _check_range(name: str, value: Any, integer: bool) -> tuple[Any, Any]:
    try:
        low, high = value
    except (TypeError, ValueError):
        raise ConfigError(f"action setting {name} must be a (low, high) pair, got {value!r}") from None
    for bound in (low, high):
        if integer and (isinstance(bound, bool) or not isinstance(bound, int)):
            raise ConfigError(f"action setting {name} needs integer bounds, got {value!r}")
        _check_number(name, bound)
    if not 0 < low < high:
        raise ConfigError(f"action setting {name} needs 0 < low < high, got {value!r}")
    return (low, high)
