"""Holding out a validation set from a streamed training set, by a seeded rule that does not depend on the trial.

See :func:`carve_validation`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symtuner.core.errors import ConfigError, DataError
from symtuner.data.batches import Batches, Wrapper, is_tf_dataset, py_len
from symtuner.data.streamed import StreamedDataset

#: Samples form blocks of this many consecutive ones; the same seeded positions of every block are
#: held out for validation (a prime, so the pattern does not line up with periodic data).
SPLIT_BLOCK = 1009


def validation_positions(fraction: float, seed: int) -> np.ndarray:
    """Which positions of every :data:`SPLIT_BLOCK` consecutive samples are held out (a bool mask).

    Sample ``i`` of a ``tf.data`` training set is a validation sample iff
    ``validation_positions(fraction, seed)[i % SPLIT_BLOCK]``: ``round(fraction
    * SPLIT_BLOCK)`` positions (at least one, and one short of all at most)
    chosen by ``numpy.random.default_rng(seed)``.
    """
    check_fraction(fraction)
    check_seed(seed)
    k = min(max(int(round(fraction * SPLIT_BLOCK)), 1), SPLIT_BLOCK - 1)
    mask = np.zeros(SPLIT_BLOCK, dtype=bool)
    mask[np.random.default_rng(int(seed)).permutation(SPLIT_BLOCK)[:k]] = True
    return mask


def validation_batches(n_batches: int, fraction: float, seed: int) -> tuple[int, ...]:
    """Which batches of a PyDataset training set of ``n_batches`` batches are held out, in order.

    ``round(fraction * n_batches)`` of them, chosen by
    ``numpy.random.default_rng(seed)``; a DataError when that leaves no
    validation batch or no training batch.
    """
    check_fraction(fraction)
    check_seed(seed)
    k = int(round(fraction * n_batches))
    if k < 1 or k >= n_batches:
        raise DataError(f"cannot hold out a validation fraction of {fraction} as whole batches of a training "
                        f"set of {n_batches} batch(es); give a validation set, or smaller batches")
    chosen = np.random.default_rng(int(seed)).permutation(n_batches)[:k]
    return tuple(int(i) for i in np.sort(chosen))


def carve_validation(data: StreamedDataset, fraction: float, seed: int) -> tuple[Batches, Batches]:
    """The training part to fit on and the validation part, without reading either.

    The rule depends only on ``fraction`` and ``seed``, so every trial of a
    study (same seed) validates on the same samples:

    * a ``tf.data`` set holds out sample ``i`` (counted across batches) iff
      :func:`validation_positions` marks ``i % SPLIT_BLOCK``: in every block
      of :data:`SPLIT_BLOCK` consecutive samples the same positions, so a
      sorted set gives validation samples from all its parts. Both parts
      read the whole source and keep their samples (batches shrink to about
      ``fraction`` and ``1 - fraction`` of the source's).
    * a ``PyDataset`` holds out whole batches (:func:`validation_batches`);
      its batch ``i`` must hold the same samples in every epoch. Only the
      training part passes the epoch hooks (``on_epoch_end``) on.

    A data set that has its own validation set returns it unchanged, with
    the whole training set.
    """
    check_fraction(fraction)
    check_seed(seed)
    if data.validation is not None:
        return data.train, data.validation
    if is_tf_dataset(data.train):
        _check_carvable(data, fraction, seed)
        return _carve_tf(data.train, fraction, seed)
    held_out = validation_batches(py_len(data.train, "the training set", data.name), fraction, seed)
    chosen = set(held_out)
    kept = tuple(i for i in range(int(data.train.num_batches)) if i not in chosen)
    return _BatchSubset(data.train, kept, forward_epochs=True), _BatchSubset(data.train, held_out,
                                                                            forward_epochs=False)


def _check_carvable(data: StreamedDataset, fraction: float, seed: int) -> None:
    """Both parts of a known-size tf.data training set must get samples."""
    if data.n_train is None:
        return
    mask = validation_positions(fraction, seed)
    full, rest = divmod(data.n_train, SPLIT_BLOCK)
    n_val = full * int(mask.sum()) + int(mask[:rest].sum())
    if n_val < 1 or n_val >= data.n_train:
        raise DataError(f"{data.name}: cannot hold out a validation fraction of {fraction} from "
                        f"{data.n_train} training samples; give a validation set")


def _carve_tf(train: Any, fraction: float, seed: int) -> tuple[Any, Any]:
    import tensorflow as tf

    held_out = tf.constant(validation_positions(fraction, seed))
    block = tf.constant(SPLIT_BLOCK, tf.int64)

    def with_offset(start: Any, batch: Any) -> tuple[Any, Any]:
        x, y = batch
        return start + tf.shape(x, out_type=tf.int64)[0], (start, x, y)

    indexed = train.scan(tf.constant(0, tf.int64), with_offset)

    def part(validation: bool) -> Any:
        def select(start: Any, x: Any, y: Any) -> tuple[Any, Any]:
            positions = (start + tf.range(tf.shape(x, out_type=tf.int64)[0], dtype=tf.int64)) % block
            mask = tf.gather(held_out, positions)
            mask = mask if validation else tf.logical_not(mask)
            return tf.boolean_mask(x, mask), tf.boolean_mask(y, mask)

        return indexed.map(select).filter(lambda x, y: tf.shape(x)[0] > 0)

    return part(False), part(True)


class _BatchSubset(Wrapper):
    """Some batches of a PyDataset, in their order."""

    def __init__(self, source: Any, indices: tuple[int, ...], *, forward_epochs: bool) -> None:
        super().__init__(source, forward_epochs=forward_epochs)
        self.indices = indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.source[self.indices[index]]


def check_fraction(fraction: Any) -> None:
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
        raise ConfigError(f"validation fraction must be between 0 and 1, got {fraction!r}")


def check_seed(seed: Any) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
