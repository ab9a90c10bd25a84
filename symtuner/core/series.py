"""Learning-curve series under the names the diagnosis reads, from the names Keras logs (pure)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from symtuner.core.errors import ConfigError

ACCURACY_KEYS = ("accuracy", "acc", "binary_accuracy", "sparse_categorical_accuracy", "categorical_accuracy")

#: Names Keras logs the learning rate under, in order of preference.
LEARNING_RATE_KEYS = ("learning_rate", "lr")

#: Names other frameworks log (Lightning's ``self.log`` conventions) -> Keras's, which the diagnosis reads.
FRAMEWORK_NAMES = {"train_loss": "loss", "train_acc": "accuracy", "train_accuracy": "accuracy",
                   "val_acc": "val_accuracy", "valid_loss": "val_loss", "valid_acc": "val_accuracy",
                   "validation_loss": "val_loss", "validation_acc": "val_accuracy",
                   "validation_accuracy": "val_accuracy"}


def canonical_name(name: str) -> str:
    """A logged metric's name as Keras would log it: an epoch aggregate's ``_epoch`` suffix dropped and
    :data:`FRAMEWORK_NAMES` mapped (``train_loss_epoch`` -> ``loss``, ``val_acc`` -> ``val_accuracy``)."""
    name = name[:-len("_epoch")] if name.endswith("_epoch") else name
    return FRAMEWORK_NAMES.get(name, name)

#: Cells ``CSVLogger`` writes for a value it does not have (``NA``: an epoch without validation).


def normalise_series(series: Mapping[str, Sequence[Any]]) -> dict[str, list[float | None]]:
    """The series the diagnosis reads, under canonical names, from the names Keras logs.

    The result has ``loss`` and, where present, ``val_loss``, ``accuracy``, ``val_accuracy`` and
    ``learning_rate``. Accuracy is taken from the first of :data:`ACCURACY_KEYS` present; its
    validation series from the matching ``val_`` key where there is one, else from the first
    ``val_`` form present. An accuracy series logged in percent (most values above 1, none above
    100; each series decided on its own) is divided by 100. Missing
    series are left out, so loss-only histories are valid; ``None`` stays ``None``, non-finite
    values become ``None``.

    Raises :class:`ConfigError` if there is no ``loss`` series, a value is not a number, or an
    accuracy is outside [0, 1] (naming the key, the value and the 1-based epoch).
    """
    if "loss" not in series:
        raise ConfigError(f"history has no 'loss' series (has {sorted(series)})")
    chosen: dict[str, str] = {"loss": "loss"}
    if "val_loss" in series:
        chosen["val_loss"] = "val_loss"
    train_key = next((key for key in ACCURACY_KEYS if key in series), None)
    if train_key is not None:
        chosen["accuracy"] = train_key
    val_key = f"val_{train_key}" if f"val_{train_key}" in series else None
    if val_key is None:
        val_key = next((f"val_{key}" for key in ACCURACY_KEYS if f"val_{key}" in series), None)
    if val_key is not None:
        chosen["val_accuracy"] = val_key
    lr_key = next((key for key in LEARNING_RATE_KEYS if key in series), None)
    if lr_key is not None:
        chosen["learning_rate"] = lr_key

    result = {name: _number_list(series[key], f"history series {key!r}") for name, key in chosen.items()}
    accuracy_names = [name for name in ("accuracy", "val_accuracy") if name in result]
    for name in accuracy_names:  # each series on its own: train in [0, 1] and validation in percent happen
        top = 100.0 if _is_percent(result[name]) else 1.0
        for epoch, value in enumerate(result[name], start=1):
            if value is not None and not 0.0 <= value <= top:
                raise ConfigError(f"history series {chosen[name]!r} has accuracy {series[chosen[name]][epoch - 1]!r} "
                                  f"at epoch {epoch}, outside [0, {top:g}] "
                                  f"({'most of it is in percent' if top > 1 else 'or [0, 100] for percent'})")
        if top > 1:
            result[name] = [None if v is None else v / 100.0 for v in result[name]]
    return result


def _is_percent(series: list[float | None]) -> bool:
    """Whether an accuracy series is in percent: most of its values above 1 (a fraction series with a
    stray value above 1 is not, and that value is reported as outside [0, 1])."""
    values = [v for v in series if v is not None]
    return sum(v > 1.0 for v in values) * 2 > len(values)


def _number(value: Any, where: str) -> float | None:
    """``value`` as a float, ``None`` if it is ``None`` or not finite; a ConfigError naming ``where``
    if it is not a number at all (a string, a list, a boolean). Numpy scalars are numbers."""
    if value is None:
        return None
    if isinstance(value, (bool, str, bytes, list, tuple, dict)):
        raise ConfigError(f"{where}: {value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {value!r} is not a number") from None
    return number if math.isfinite(number) else None


def _number_list(values: Any, where: str) -> list[float | None]:
    """``values`` as a list of floats and ``None``s; a ConfigError naming ``where`` and the bad value."""
    if not isinstance(values, (list, tuple)):
        raise ConfigError(f"{where} must be a list of numbers, got {values!r}")
    return [_number(v, f"{where}, epoch {i}") for i, v in enumerate(values, start=1)]
