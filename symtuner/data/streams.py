"""Streamed data sets: training data read batch by batch, never held whole.

A user's data function may return, instead of the five numpy values,
``(train, test, n_classes)`` or ``(train, validation, test, n_classes)``,
where each set is a ``tf.data.Dataset`` whose elements are ``(x, y)``
batches, or a ``keras.utils.PyDataset`` whose items are. ``n_classes`` is an
integer >= 2 for a classification (labels as class indices or one-hot rows)
or 0 for a regression (float targets, ``(B,)`` or ``(B, outputs)``).
:func:`streamed_dataset` checks the sets on their first batches and returns
a :class:`StreamedDataset`; nothing in this module holds a whole set.

Batches follow :mod:`symtuner.data.dataset`'s conventions: ``x`` becomes
float32 (uint8 images are scaled to [0, 1], ``(B, H, W)`` grey images get a
channel axis), labels become int64 class indices and regression targets
float32 ``(B, outputs)``. The sets a :class:`StreamedDataset` holds are the
user's, with that conversion applied batch by batch.

A trial trains on :func:`rebatch` of the training part, which serves
batches of the trial's (tuned) batch size whatever the source's batches,
and evaluates on :func:`evaluation_batches`. Without a validation set,
:func:`carve_validation` holds one out by a fixed, seeded rule that does not
depend on the trial, so every trial of a study validates on the same
samples.

Limits: only the first batch of each set is checked (a label out of range
further on fails inside Keras); a generator that never ends cannot be told
from a long one (tf.data reports both as of unknown cardinality), only a
``.repeat()``-ed set or a PyDataset without a length is refused as
infinite; a carved validation set costs a second read of the training set
per epoch; a shuffled PyDataset keeps each source batch's samples together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from symtuner.core.errors import ConfigError, DataError
from symtuner.data.batches import Batches, innermost, is_tf_dataset, iter_batches
from symtuner.data.carving import SPLIT_BLOCK, carve_validation, validation_batches, validation_positions
from symtuner.data.dataset import check_n_classes
from symtuner.data.rebatching import (
    SHUFFLE_BYTES,
    SHUFFLE_FALLBACK,
    SHUFFLE_SAMPLES,
    evaluation_batches,
    rebatch,
    shuffle_buffer,
)
from symtuner.data.stream_checks import StreamCheck, check_repeatable, same_samples

#: The checks, the reading of batches, the hold-out and the re-batching live in
#: :mod:`symtuner.data.stream_checks`, :mod:`symtuner.data.batches`, :mod:`symtuner.data.carving` and
#: :mod:`symtuner.data.rebatching`; their public names are offered here, where callers import them.
__all__ = [
    "SHUFFLE_BYTES", "SHUFFLE_FALLBACK", "SHUFFLE_SAMPLES", "SPLIT_BLOCK", "Batches", "StreamedDataset",
    "carve_validation", "evaluation_batches", "is_tf_dataset", "iter_batches", "rebatch", "sample_of",
    "shuffle_buffer", "streamed_dataset", "validation_batches", "validation_positions",
]


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


def streamed_dataset(values: tuple[Any, ...] | list[Any], name: str) -> StreamedDataset:
    """Check ``(train, test, n_classes)`` or ``(train, validation, test, n_classes)``.

    Each set must be a ``tf.data.Dataset`` of ``(x, y)`` batches or a
    ``keras.utils.PyDataset``, finite (epochs must end) and not empty; its
    first batch must hold numeric ``x`` with a label (or target row) per
    sample, labels in ``0..n_classes-1``; all sets' samples must have the
    training set's shape. Without a validation set the training set must
    read in the same order every time (its first batch's labels are
    compared on two reads), or a validation set carved by position would
    take different samples in every epoch. Anything unusable raises one
    :class:`~symtuner.core.errors.DataError` that names the set and the value.
    """
    if not isinstance(values, (tuple, list)) or len(values) not in (3, 4):
        got = f"{len(values)} values" if isinstance(values, (tuple, list)) else type(values).__name__
        raise DataError(f"{name}: a streamed data set is (train, test, n_classes) or (train, validation, "
                        f"test, n_classes), got {got}")
    *sets, n_classes = values
    train, test = sets[0], sets[-1]
    validation = sets[1] if len(sets) == 3 else None
    n_classes = check_n_classes(n_classes, name)
    train_check = StreamCheck.of(train, "training", n_classes, name)
    val_check = None if validation is None else StreamCheck.of(validation, "validation", n_classes, name)
    test_check = StreamCheck.of(test, "test", n_classes, name)
    for other in (val_check, test_check):
        if other is not None:
            same_samples(train_check, other, name)
    if val_check is None:
        check_repeatable(train_check, name)
    return StreamedDataset(train=train_check.converted(),
                           validation=None if val_check is None else val_check.converted(),
                           test=test_check.converted(), n_classes=n_classes, name=name,
                           input_shape=train_check.layout.sample_shape, n_outputs=train_check.n_outputs,
                           n_train=train_check.n_samples, n_test=test_check.n_samples)
