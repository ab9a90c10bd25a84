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

Limits: only the first batch of each set is checked before the study; the
batches after it are checked as trials read them (a label out of range or
another sample shape stops the study, naming the set); a set whose size
tf.data cannot tell (a generator's) is read through once before the study
and refused if it has not ended after ``ENDLESS_SECONDS`` (a long finite one
should state its size with ``assert_cardinality``), a ``.repeat()``-ed set or
a PyDataset without a length is refused as infinite; a carved validation set costs a second read of the training set
per epoch; a shuffled PyDataset keeps each source batch's samples together.
"""

from __future__ import annotations

from typing import Any

from symtuner.core.errors import DataError
from symtuner.data.batches import Batches, is_tf_dataset, iter_batches
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
from symtuner.data.streamed import StreamedDataset, sample_of

#: The record, the checks, the reading of batches, the hold-out and the re-batching live in
#: :mod:`symtuner.data.streamed`, :mod:`symtuner.data.stream_checks`, :mod:`symtuner.data.batches`,
#: :mod:`symtuner.data.carving` and :mod:`symtuner.data.rebatching`; their public names are offered
#: here, where callers import them.
__all__ = [
    "SHUFFLE_BYTES", "SHUFFLE_FALLBACK", "SHUFFLE_SAMPLES", "SPLIT_BLOCK", "Batches", "StreamedDataset",
    "carve_validation", "evaluation_batches", "is_tf_dataset", "iter_batches", "rebatch", "sample_of",
    "shuffle_buffer", "streamed_dataset", "validation_batches", "validation_positions",
]


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
