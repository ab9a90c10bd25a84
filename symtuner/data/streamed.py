"""The record of a streamed data set, :class:`StreamedDataset`, and reading its first samples."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from symtuner.core.errors import ConfigError, DataError
from symtuner.data.batches import Batches, innermost, iter_batches


@dataclass(frozen=True, eq=False)
class StreamedDataset:
    """Training, validation and test sets streamed batch by batch.

    ``train``, ``validation`` and ``test`` are the user's sets with the
    batches converted (see the module's docstring); ``validation`` is None
    when it is to be carved from ``train`` (:func:`carve_validation`).
    ``n_train`` and ``n_test`` are None when the set's size cannot be known
    without reading it all (a generator's). For a ``keras.utils.PyDataset``
    they are exact (the first and last batches are read, all batches but
    the last having the first's size); for a ``tf.data.Dataset`` they are
    its cardinality times its first batch's size, exact when its batch size
    is static (``drop_remainder=True``), otherwise counting a short last
    batch as full.
    """

    train: Batches
    validation: Batches | None
    test: Batches
    n_classes: int
    name: str
    input_shape: tuple[int, ...]
    n_outputs: int
    n_train: int | None
    n_test: int | None = None

    @property
    def streamed(self) -> bool:
        """Always True: tells a streamed data set from an in-memory :class:`~symtuner.data.Dataset`."""
        return True

    @property
    def is_regression(self) -> bool:
        return self.n_classes == 0

    @property
    def loss_baseline(self) -> float | None:
        """ln(n_classes) for a classifier; None for a regression (the targets' variance needs a full pass)."""
        return None if self.is_regression else math.log(self.n_classes)

    def sample(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The first ``n`` training samples and their labels, as numpy (fewer if the set is smaller).

        Only the batches that hold them are read.
        """
        return sample_of(self.train, n)

    def describe(self) -> str:
        """One line for logs: name, sizes, sample shape and classes (or targets)."""
        task = f"regression of {self.n_outputs} target(s)" if self.is_regression else f"{self.n_classes} classes"
        validation = "" if self.validation is None else ", a validation set"
        return (f"{self.name} (streamed): {_count(self.n_train)} training{validation} and "
                f"{_count(self.n_test)} test samples of shape {self.input_shape}, {task}")


def sample_of(source: Batches, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` samples of a set of batches and their labels, as numpy (fewer if it is smaller).

    Only the batches that hold them are read.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"the number of samples to read must be a positive integer, got {n!r}")
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    have = 0
    for x, y in iter_batches(source):
        xs.append(np.asarray(x)[:n - have])
        ys.append(np.asarray(y)[:n - have])
        have += len(xs[-1])
        if have >= n:
            break
    if not xs:
        raise DataError(f"{innermost(source)}: the set gives no batch")
    return np.concatenate(xs), np.concatenate(ys)


def _count(n: int | None) -> str:
    return "an unknown number of" if n is None else str(n)
