"""Objectives, their direction, and the extra metrics a study may log.

A study's objective is any metric the trials log on the validation set,
named as Keras logs it: ``val_accuracy``, ``val_loss``, ``val_auc``,
``val_mae``, or the ``val_`` name of a metric the user's own compiled model
reports. Its direction is given (``max`` / ``min``) or, with ``auto``, read
from the name (:func:`objective_direction`).

Extra metrics (``metrics = ["auc"]`` in the config, ``--metrics auc``)
are added to the ones every trial logs (accuracy for a classifier, the mean
absolute error for a regressor) by :func:`symtuner.training.keras_metrics.extra_metrics`, which builds
the Keras objects; this module imports no Keras.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from symtuner.core.errors import ConfigError

#: Directions a study may be given.
DIRECTIONS = ("auto", "max", "min")

#: Extra metrics by name -> (task they fit, what they measure).
EXTRA_METRICS: dict[str, tuple[str, str]] = {
    "auc": ("classification", "area under the ROC curve (one-vs-rest over the classes, micro-averaged)"),
    "top5_accuracy": ("classification", "share of samples whose class is among the 5 most probable"),
    "mae": ("regression", "mean absolute error"),
    "rmse": ("regression", "root mean squared error"),
}

#: Name parts that say "lower is better" / "higher is better", for ``direction = "auto"``.
_LOWER = ("loss", "error", "mae", "mse", "rmse", "msle", "mape", "hinge", "crossentropy", "divergence",
          "poisson", "cosh")
_HIGHER = ("accuracy", "acc", "auc", "precision", "recall", "f1", "fbeta", "iou", "r2", "score")

_NAME = re.compile(r"^val_[A-Za-z0-9_]+$")


def check_objective(name: Any) -> str:
    """``name`` if it names a validation metric (``val_...``), else ConfigError."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"objective {name!r} must name a metric logged on the validation set, such as "
                          "'val_accuracy', 'val_loss', 'val_auc' or 'val_mae' (a Keras log name starting "
                          "with 'val_')")
    return name


def objective_direction(objective: str, direction: str = "auto") -> bool:
    """Whether ``objective`` is maximised: from ``direction``, or from its name with ``auto``.

    ``auto`` reads the name's words (split at ``_``): a loss or an error
    (``loss``, ``mae``, ``rmse``, ...) is minimised, a score (``accuracy``,
    ``auc``, ``precision``, ``r2``, ...) maximised; a name with neither (or
    both) needs the direction given.
    """
    if direction not in DIRECTIONS:
        raise ConfigError(f"direction {direction!r} is not one of {list(DIRECTIONS)}")
    check_objective(objective)
    if direction != "auto":
        return direction == "max"
    words = set(objective.lower().split("_")[1:])
    lower, higher = bool(words & set(_LOWER)), bool(words & set(_HIGHER))
    if lower == higher:
        raise ConfigError(f"cannot tell whether objective {objective!r} is better high or low; give "
                          "direction = \"max\" or \"min\" (--direction max|min)")
    return higher


def metric_key(objective: str) -> str:
    """The name of the objective's metric in an ``evaluate`` result: ``val_auc`` -> ``auc``."""
    return check_objective(objective)[len("val_"):]


def check_metrics(names: Any, regression: bool | None = None) -> tuple[str, ...]:
    """Known extra-metric names (a tuple), fitting the task when it is known; else ConfigError."""
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise ConfigError(f"metrics must be a list of names from {sorted(EXTRA_METRICS)}, got {names!r}")
    out: list[str] = []
    for name in names:
        if not isinstance(name, str):
            raise ConfigError(f"metrics must be names (strings) from {sorted(EXTRA_METRICS)}, got {name!r:.60} "
                              f"in {names!r:.80}")
        if name not in EXTRA_METRICS:
            raise ConfigError(f"unknown metric {name!r}; choose from {sorted(EXTRA_METRICS)} (or compile "
                              "your own model with the metrics you need)")
        task = EXTRA_METRICS[name][0]
        if regression is not None and (task == "regression") != regression:
            kind = "a regression" if regression else "a classification"
            raise ConfigError(f"metric {name!r} is for {task}, and this is {kind} task")
        if name not in out:
            out.append(name)
    return tuple(out)


#: Extra metrics that are 1.0 for every model when there are at most this many classes.
_ALWAYS_ONE = {"top5_accuracy": 5}


def check_task(objective: str, metrics: Sequence[str], regression: bool, n_classes: int | None = None) -> None:
    """The objective and extra metrics must fit the task (ConfigError naming what does not).

    A regression logs no accuracy, so ``val_accuracy`` cannot be its
    objective; an extra metric must be one for the task; an objective that
    is the same for every model on ``n_classes`` classes (top-5 accuracy on
    five or fewer) cannot be optimised. Whether the objective is really
    logged is checked once the network is built
    (:func:`symtuner.training.training.check_before_study`).
    """
    check_metrics(list(metrics), regression=regression)
    key = metric_key(objective)
    if regression and key in ("accuracy", "top5_accuracy", "auc"):
        raise ConfigError(f"objective {objective!r} needs a classification, and this data set is a regression "
                          "(n_classes = 0); use val_loss (the mean squared error), val_mae or val_rmse")
    if not regression and n_classes is not None and key in _ALWAYS_ONE and n_classes <= _ALWAYS_ONE[key]:
        raise ConfigError(f"objective {objective!r} is 1.0 for every model on {n_classes} classes (the true class "
                          f"is always among the {_ALWAYS_ONE[key]} most probable), so nothing could be tuned; "
                          "use val_accuracy, val_loss or val_auc")
