"""The data set record and the checks that turn raw arrays into one.

A user's data function returns the seed's five values ``(x_train, x_test,
y_train, y_test, n_classes)``; :func:`validate_dataset` checks them once, up
front, so a bad data set fails with one message instead of deep inside Keras.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from symtuner.errors import DataError

#: Rows checked for NaN at a time, so huge sets need no full-size temporary.
_NAN_CHUNK = 4096


@dataclass(frozen=True, eq=False)
class Dataset:
    """Training and test arrays of one classification task.

    ``x`` arrays are float32 with the sample axis first (images as
    ``(N, H, W, C)``); ``y`` arrays hold integer class indices.
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

    def describe(self) -> str:
        """One line for logs: name, sizes, sample shape and classes."""
        return (f"{self.name}: {self.n_train} training and {self.n_test} test samples of shape "
                f"{self.input_shape}, {self.n_classes} classes")


#: Most classes a data set may declare (the output layer has one unit per class).
MAX_CLASSES = 2**20


def validate_dataset(x_train: Any, x_test: Any, y_train: Any, y_test: Any, n_classes: Any,
                     name: str = "data set") -> Dataset:
    """Check the seed's five values and return them as a :class:`Dataset`.

    Labels may be class indices or one-hot rows; ``(N, H, W)`` images get a
    channel axis; uint8 images are scaled to [0, 1]. Anything unusable raises
    one :class:`~symtuner.errors.DataError` that names the bad value.
    """
    if isinstance(n_classes, (bool, np.bool_)) or not isinstance(n_classes, (int, np.integer)):
        raise DataError(f"{name}: n_classes must be an integer, got {n_classes!r}")
    n_classes = int(n_classes)
    if n_classes < 2:
        raise DataError(f"{name}: n_classes must be at least 2, got {n_classes}")
    if n_classes > MAX_CLASSES:
        raise DataError(f"{name}: n_classes {n_classes} is more than a classifier's output layer can hold here "
                        f"(at most {MAX_CLASSES})")
    xs = {"x_train": _features(x_train, "x_train", name), "x_test": _features(x_test, "x_test", name)}
    if xs["x_train"].shape[1:] != xs["x_test"].shape[1:]:
        raise DataError(f"{name}: x_train samples have shape {xs['x_train'].shape[1:]} but x_test samples "
                        f"have shape {xs['x_test'].shape[1:]}")
    ys = {"y_train": _labels(y_train, "y_train", n_classes, name),
          "y_test": _labels(y_test, "y_test", n_classes, name)}
    for part in ("train", "test"):
        n_x, n_y = len(xs[f"x_{part}"]), len(ys[f"y_{part}"])
        if n_x != n_y:
            raise DataError(f"{name}: x_{part} has {n_x} samples but y_{part} has {n_y} labels")
    return Dataset(xs["x_train"], ys["y_train"], xs["x_test"], ys["y_test"], n_classes, name)


def _features(x: Any, label: str, name: str) -> np.ndarray:
    """Float32 inputs, sample axis first, with a channel axis on grey images."""
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{name}: {label} is not an array ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise DataError(f"{name}: {label} must hold numbers, got dtype {arr.dtype}")
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


def _labels(y: Any, label: str, n_classes: int, name: str) -> np.ndarray:
    """Integer class indices from indices, a column of indices, or one-hot rows."""
    try:
        arr = np.asarray(y)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{name}: {label} is not an array ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise DataError(f"{name}: {label} must hold class numbers, got dtype {arr.dtype}")
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
