"""How every trial of a study trains: :class:`TrainingConfig`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from symtuner.core.errors import ConfigError


@dataclass(frozen=True)
class TrainingConfig:
    """How every trial of a study trains.

    ``split_seed`` fixes which training samples form the validation set; it
    is the same for all trials so that their validation scores compare.
    """

    epochs: int = 4
    validation_split: float = 0.2
    patience: int = 3
    verbose: int = 0
    split_seed: int = 0
    tensorboard: bool = True
    #: the user's own Keras callbacks: a function returning them (called for every trial, so each trial
    #: gets fresh ones), its ``module:function`` spec, or a list of callback objects shared by the trials
    callbacks: Any = None
    #: extra metrics every trial logs (``symtuner.core.metrics.EXTRA_METRICS``)
    metrics: tuple[str, ...] = ()
    #: the study's objective: :func:`check_before_study` checks that the trials log it
    objective: str = "val_accuracy"

    def __post_init__(self) -> None:
        if not (self.callbacks is None or isinstance(self.callbacks, (str, list, tuple)) or callable(self.callbacks)):
            raise ConfigError(f"callbacks must be a function returning Keras callbacks, its 'module:function' "
                              f"spec or a list of callbacks, got {self.callbacks!r:.80}")
        for name, low in (("epochs", 1), ("patience", 0), ("verbose", 0), ("split_seed", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"training {name} must be an integer >= {low}, got {value!r}")
        split = self.validation_split
        if isinstance(split, bool) or not isinstance(split, (int, float)) or not 0 < split < 1:
            raise ConfigError(f"validation_split must be between 0 and 1, got {split!r}")
