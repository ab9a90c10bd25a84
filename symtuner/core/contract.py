"""The contract between the study loop and whatever trains its trials.

The loop hands a worker a :class:`TrialSpec`; the worker reports each epoch
through an :data:`EpochCallback` (whose answer may stop the training) and
ends with a :class:`TrainResult`, a :class:`~symtuner.core.errors.TrialFailed`
(or a user error), or :class:`WorkerLost` when the process running it died.
Plain values only: no Keras, no store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from symtuner.core.architecture import Architecture
from symtuner.core.errors import ConfigError, SymtunerError
from symtuner.core.records import LearningCurve
from symtuner.core.space import Dimension

#: Called after every epoch with the epoch (0-based) and its logs; a non-empty string returned
#: stops the training (the reason is kept in ``TrainResult.stopped``).
EpochCallback = Callable[[int, dict[str, float]], 'str | None']

#: Called by a dispatcher for every epoch a running trial reports:
#: (trial number, 0-based epoch, logs) -> a reason to stop that trial, or "".
EpochSink = Callable[[int, int, dict[str, float]], str]


class WorkerLost(SymtunerError):
    """The process or node running a trial died before the trial ended; the trial can be rerun."""


@dataclass(frozen=True)
class TrialSpec:
    """What to train: HP values, architecture, seed, and where the outputs go (None: the trainer keeps no
    files, as a define-by-run objective)."""

    number: int
    params: dict[str, Any]
    architecture: Architecture
    seed: int
    model_path: Path | None
    log_dir: Path | None

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ConfigError(f"trial seed must be a non-negative integer, got {self.seed!r}")
        if self.model_path is not None:
            object.__setattr__(self, "model_path", Path(self.model_path))
            if self.model_path.suffix != ".keras":
                raise ConfigError(f"model path {self.model_path} must end in .keras")
        if self.log_dir is not None:
            object.__setattr__(self, "log_dir", Path(self.log_dir))

    @property
    def model_file(self) -> Path:
        """Where the trained model is saved; a ConfigError for a spec that keeps no files."""
        if self.model_path is None or self.log_dir is None:
            raise ConfigError(f"trial {self.number} keeps no model files: it cannot train a Keras network here")
        return self.model_path


@dataclass(frozen=True)
class TrainResult:
    """The outcome of one training: curve, validation and test scores, files.

    ``ignored_changes`` lists the architecture changes the built model does
    not show (see :func:`symtuner.training.checks.check_network`).
    ``val_metrics`` and ``test_metrics`` hold every metric the final
    evaluations gave, by name (``loss`` is the data loss, ``accuracy``,
    ``auc``, ``mae``, ...); ``val_accuracy`` and ``test_accuracy`` are NaN
    when the trials log no accuracy (a regression).
    """

    curve: LearningCurve
    val_loss: float
    val_accuracy: float
    test_loss: float
    test_accuracy: float
    train_seconds: float
    epochs_run: int
    model_path: Path | None
    log_dir: Path | None
    params_count: int
    ignored_changes: tuple[str, ...] = field(default=())
    #: the same, by architecture feature (``l2``, ``batch_norm``, ...): what the tuner undoes
    ignored_features: dict[str, str] = field(default_factory=dict)
    stopped: str = ""
    val_metrics: dict[str, float] = field(default_factory=dict)
    test_metrics: dict[str, float] = field(default_factory=dict)
    #: whether the model trained with symtuner's loss (False: the user's own compile)
    own_loss: bool = True
    #: a define-by-run objective's parameters as it asked for them (None: the spec's params were used)
    params_used: dict[str, Any] | None = None
    #: dimensions the objective declared (asked for by a name the space did not have yet)
    declared: tuple[Dimension, ...] = ()
    #: what the trained network costs, measured (``params``, ``flops``, ``model_mb``, ``latency_ms``:
    #: :mod:`symtuner.core.costs`); those not measured are absent
    costs: dict[str, float] = field(default_factory=dict)
    #: HPs of the search space that neither the network function nor the training read: tuned for nothing
    unread_params: tuple[str, ...] = ()

    def objective_value(self, objective: str) -> float:
        """The value of ``objective`` (``val_accuracy``, ``val_auc``, ...) in the final validation.

        The trainers of tests and simulations that fill only the four scores
        give ``val_accuracy`` and ``val_loss`` through them.
        """
        key = objective[len("val_"):] if objective.startswith("val_") else objective
        if key in self.val_metrics:
            return float(self.val_metrics[key])
        if key in ("accuracy", "loss"):
            return float(self.val_accuracy if key == "accuracy" else self.val_loss)
        logged = ", ".join(f"val_{name}" for name in sorted(self.val_metrics)) or "none"
        raise ConfigError(f"objective {objective!r} is not among the metrics the trial logged ({logged})")


#: What a dispatcher's ``wait`` returns for a finished trial: its number, and its result or the
#: exception it ended with.
Outcome = tuple[int, "TrainResult | BaseException"]
