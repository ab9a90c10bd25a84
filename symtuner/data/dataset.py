"""The data set record and the checks that turn raw arrays into one.

A user's data function returns the seed's five values ``(x_train, x_test,
y_train, y_test, n_classes)``; :func:`validate_dataset` checks them once, up
front, so a bad data set fails with one message instead of deep inside Keras.
``n_classes = 0`` makes it a regression: ``y`` then holds real-valued
targets, one column per output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from symtuner.core.errors import DataError

#: Rows checked for NaN at a time, so huge sets need no full-size temporary.
_NAN_CHUNK = 4096


@dataclass(frozen=True, eq=False)
class Dataset:
    """Training and test arrays of one classification or regression task.

    ``x`` arrays are float32 with the sample axis first (images as
    ``(N, H, W, C)``); for a classification ``y`` arrays hold integer class
    indices, for a regression (``n_classes == 0``) float32 targets of shape
    ``(N, n_outputs)``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    name: str

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one sample, e.g. ``(28, 28, 1)``."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.x_test.shape[0])

    @property
    def is_regression(self) -> bool:
        return self.n_classes == 0

    @property
    def n_outputs(self) -> int:
        """Units of the network's output: one per class, or one per regression target."""
        return int(self.y_train.shape[1]) if self.is_regression else self.n_classes

    @property
    def loss_baseline(self) -> float | None:
        """The loss of a guess that knows nothing, with the loss symtuner trains with.

        ln(n_classes) for a classifier (cross-entropy of a uniform guess); for
        a regression the mean squared error of always predicting the training
        targets' mean (their variance, averaged over the outputs). None when
        the targets are constant. The diagnosis measures its loss thresholds
        in this unit.
        """
        if not self.is_regression:
            return math.log(self.n_classes)
        variance = float(np.mean(np.var(self.y_train.astype(np.float64), axis=0)))
        return variance if variance > 0 and math.isfinite(variance) else None

    def describe(self) -> str:
        """One line for logs: name, sizes, sample shape and classes (or targets)."""
        task = f"regression of {self.n_outputs} target(s)" if self.is_regression else f"{self.n_classes} classes"
        return (f"{self.name}: {self.n_train} training and {self.n_test} test samples of shape "
                f"{self.input_shape}, {task}")


#: Most classes a data set may declare (the output layer has one unit per class).
MAX_CLASSES = 2**20


def validate_dataset(x_train: Any, x_test: Any, y_train: Any, y_test: Any, n_classes: Any,
                     name: str = "data set") -> Dataset:
    """Check the seed's five values and return them as a :class:`Dataset`.

    Labels may be class indices or one-hot rows; ``n_classes = 0`` means
    regression targets (finite numbers, ``(N,)`` or ``(N, outputs)``).
    ``(N, H, W)`` images get a channel axis; uint8 images are scaled to
    [0, 1]. Anything unusable raises one
    :class:`~symtuner.core.errors.DataError` that names the bad value.
    """
    n_classes = check_n_classes(n_classes, name)
    xs = {"x_train": as_features(x_train, "x_train", name), "x_test": as_features(x_test, "x_test", name)}
    if xs["x_train"].shape[1:] != xs["x_test"].shape[1:]:
        raise DataError(f"{name}: x_train samples have shape {xs['x_train'].shape[1:]} but x_test samples "
                        f"have shape {xs['x_test'].shape[1:]}")
    if n_classes == 0:
        ys = {"y_train": as_targets(y_train, "y_train", name), "y_test": as_targets(y_test, "y_test", name)}
        if ys["y_train"].shape[1] != ys["y_test"].shape[1]:
            raise DataError(f"{name}: y_train has {ys['y_train'].shape[1]} target column(s) but y_test has "
                            f"{ys['y_test'].shape[1]}")
    else:
        ys = {"y_train": as_labels(y_train, "y_train", n_classes, name),
              "y_test": as_labels(y_test, "y_test", n_classes, name)}
    for part in ("train", "test"):
        n_x, n_y = len(xs[f"x_{part}"]), len(ys[f"y_{part}"])
        if n_x != n_y:
            raise DataError(f"{name}: x_{part} has {n_x} samples but y_{part} has {n_y} labels")
    return Dataset(xs["x_train"], ys["y_train"], xs["x_test"], ys["y_test"], n_classes, name)


def check_n_classes(value: Any, name: str) -> int:
    """``n_classes`` as an int: at least 2 for a classification, 0 for a regression (else a DataError)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise DataError(f"{name}: n_classes must be an integer (0 for a regression), got {value!r:.80}")
    value = int(value)
    if value < 0 or value == 1:
        raise DataError(f"{name}: n_classes must be at least 2 for a classification, or 0 for a regression, "
                        f"got {value}")
    if value > MAX_CLASSES:
        raise DataError(f"{name}: n_classes {value} is more than a classifier's output layer can hold here "
                        f"(at most {MAX_CLASSES})")
    return value


def _numeric(value: Any, label: str, name: str, holding: str) -> np.ndarray:
    """``value`` as a numpy array of numbers (bool, int or float), or a DataError naming it."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{name}: {label} is not an array ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise DataError(f"{name}: {label} must hold {holding}, got dtype {arr.dtype}")
    return arr


def as_features(x: Any, label: str, name: str) -> np.ndarray:
    """Float32 inputs, sample axis first, with a channel axis on grey images."""
    arr = _numeric(x, label, name, "numbers")
    if arr.ndim < 2:
        raise DataError(f"{name}: {label} must have a sample axis and at least one feature axis, "
                        f"got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise DataError(f"{name}: {label} is empty")
    if arr.ndim == 3:
        arr = arr[..., np.newaxis]
    if arr.dtype == np.uint8:
        out = arr.astype(np.float32) / np.float32(255.0)
    else:
        out = arr.astype(np.float32, copy=arr.dtype != np.float32)
    for start in range(0, len(out), _NAN_CHUNK):
        chunk = out[start:start + _NAN_CHUNK]
        finite = np.isfinite(chunk).reshape(len(chunk), -1).all(axis=1)
        if not finite.all():
            bad = start + int(np.argmin(finite))
            raise DataError(f"{name}: {label} holds NaN or infinite values (first in sample {bad})")
    return np.ascontiguousarray(out)


def as_targets(y: Any, label: str, name: str) -> np.ndarray:
    """Regression targets as float32 ``(N, outputs)``: finite numbers, one row per sample."""
    arr = _numeric(y, label, name, "numbers (regression targets)")
    if arr.ndim == 1:
        arr = arr[:, np.newaxis]
    if arr.ndim != 2:
        raise DataError(f"{name}: {label} must be regression targets of shape (N,) or (N, outputs), "
                        f"got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DataError(f"{name}: {label} is empty")
    with np.errstate(over="ignore"):
        out = arr.astype(np.float32)
    finite = np.isfinite(out).all(axis=1)
    if not finite.all():
        raise DataError(f"{name}: {label} holds NaN or infinite values (first in sample {int(np.argmin(finite))})")
    return out


def as_labels(y: Any, label: str, n_classes: int, name: str) -> np.ndarray:
    """Integer class indices from indices, a column of indices, or one-hot rows."""
    arr = _numeric(y, label, name, "class numbers")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    elif arr.ndim == 2:
        arr = _from_one_hot(arr, label, n_classes, name)
    if arr.ndim != 1:
        raise DataError(f"{name}: {label} must be class indices (N,) or one-hot rows (N, {n_classes}), "
                        f"got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise DataError(f"{name}: {label} is empty")
    if arr.dtype.kind == "f":
        finite = np.isfinite(arr)
        if not finite.all() or not np.array_equal(arr, np.round(arr)):
            bad = arr[~finite][0] if not finite.all() else arr[arr != np.round(arr)][0]
            raise DataError(f"{name}: {label} must hold integer class indices, found {float(bad)!r}")
    low, high = arr.min(), arr.max()
    if low < 0 or high >= n_classes:
        bad = low if low < 0 else high
        raise DataError(f"{name}: {label} holds class {int(bad)}, outside 0..{n_classes - 1} "
                        f"(n_classes={n_classes})")
    return arr.astype(np.int64)


def _from_one_hot(arr: np.ndarray, label: str, n_classes: int, name: str) -> np.ndarray:
    if arr.shape[1] != n_classes:
        raise DataError(f"{name}: {label} has {arr.shape[1]} columns; one-hot labels need n_classes="
                        f"{n_classes} columns")
    if arr.shape[0] == 0:
        raise DataError(f"{name}: {label} is empty")
    values = arr.astype(np.float64)
    if not np.isfinite(values).all() or values.min() < 0 or values.max() > 1 or \
            not np.allclose(values.sum(axis=1), 1.0, atol=1e-3):
        raise DataError(f"{name}: {label} has {n_classes} columns but its rows are not one-hot "
                        "(each row must be non-negative and sum to 1)")
    return values.argmax(axis=1)
