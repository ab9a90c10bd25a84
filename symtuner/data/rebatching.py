"""Serving a streamed set's samples in batches of the trial's (tuned) batch size. See :func:`rebatch`."""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from symtuner.core.errors import ConfigError
from symtuner.data.batches import Batches, Wrapper, innermost, is_tf_dataset, pair, py_len
from symtuner.data.carving import check_seed

#: Most samples a shuffled tf.data set keeps in its shuffle buffer ...
SHUFFLE_SAMPLES = 10_000
#: ... and most bytes of float32 samples it may take.
SHUFFLE_BYTES = 256 * 2**20
#: Buffer used when the sample shape is not known statically.
SHUFFLE_FALLBACK = 1024


def rebatch(source: Batches, batch_size: int, *, shuffle: bool, seed: int) -> Batches:
    """``source``'s samples in batches of ``batch_size`` (the last may be short), for ``model.fit``.

    A ``tf.data`` set is re-batched with ``Dataset.rebatch``, or, when
    ``shuffle``, unbatched, shuffled through a seeded buffer of at most
    :data:`SHUFFLE_SAMPLES` samples and :data:`SHUFFLE_BYTES` bytes of them
    (reshuffled every epoch) and batched again; either is prefetched.

    A ``PyDataset`` is wrapped in one that maps each batch's sample range
    onto the source's batches: all of them but the last must have the
    first's size (a ConfigError otherwise); shuffling permutes the order of
    the source's batches every epoch (seeded by ``seed`` and the epoch), so
    samples of one source batch stay together.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ConfigError(f"batch size must be a positive integer, got {batch_size!r}")
    check_seed(seed)
    if is_tf_dataset(source):
        return _rebatch_tf(source, int(batch_size), bool(shuffle), int(seed))
    if isinstance(source, keras.utils.PyDataset):
        return _Rebatched(source, int(batch_size), shuffle=bool(shuffle), seed=int(seed))
    raise ConfigError(f"cannot re-batch {type(source).__name__}: only a tf.data.Dataset or a "
                      "keras.utils.PyDataset")


def evaluation_batches(source: Batches, batch_size: int) -> Batches:
    """``source`` in order, in batches of ``batch_size``: for ``validation_data`` and ``evaluate``."""
    return rebatch(source, batch_size, shuffle=False, seed=0)


def shuffle_buffer(sample_shape: tuple[int | None, ...]) -> int:
    """Samples a shuffle buffer of float32 samples of this shape holds (see :func:`rebatch`)."""
    if any(d is None for d in sample_shape):
        return SHUFFLE_FALLBACK
    sample_bytes = 4 * math.prod(int(d) for d in sample_shape if d is not None)
    return max(1, min(SHUFFLE_SAMPLES, SHUFFLE_BYTES // max(sample_bytes, 1)))


def _rebatch_tf(source: Any, batch_size: int, shuffle: bool, seed: int) -> Any:
    import tensorflow as tf

    if not shuffle:  # splits and joins the batches' tensors, without a step per sample
        return source.rebatch(batch_size).prefetch(tf.data.AUTOTUNE)
    buffer = shuffle_buffer(tuple(source.element_spec[0].shape[1:]))
    samples = source.unbatch().shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    return samples.batch(batch_size).prefetch(tf.data.AUTOTUNE)


class _Rebatched(Wrapper):
    """A PyDataset's samples served in batches of another size.

    The source's batch size is its first batch's; batch ``i`` here is the
    sample range ``[i * batch_size, (i + 1) * batch_size)`` of the source's
    batches laid end to end (in a seeded order per epoch when shuffling).
    The last source batch read is kept, so a source batch that two of
    these batches share is read once.
    """

    def __init__(self, source: Any, batch_size: int, *, shuffle: bool, seed: int) -> None:
        super().__init__(source)
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        n_batches = py_len(source, "the set to re-batch", innermost(source))
        self._cache: tuple[int, np.ndarray, np.ndarray] | None = None
        first = len(self._fetch(0)[0])
        last = len(self._fetch(n_batches - 1)[0]) if n_batches > 1 else first
        if last > first:
            raise ConfigError(self._uneven(n_batches - 1, last, first))
        self._sizes = np.full(n_batches, first, dtype=np.int64)
        self._sizes[-1] = last
        self.n_samples = int(self._sizes.sum())
        self._epoch = 0
        self._arrange()

    def _arrange(self) -> None:
        """The source batches' order for this epoch and where each starts."""
        n_batches = len(self._sizes)
        if self.shuffle:
            self._order = np.random.default_rng((self.seed, self._epoch)).permutation(n_batches)
        else:
            self._order = np.arange(n_batches)
        self._offsets = np.concatenate([[0], np.cumsum(self._sizes[self._order])])
        self._cache = None

    def __len__(self) -> int:
        return -(-self.n_samples // self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        start = index * self.batch_size
        stop = min(start + self.batch_size, self.n_samples)
        first = int(np.searchsorted(self._offsets, start, side="right")) - 1
        last = int(np.searchsorted(self._offsets, stop - 1, side="right")) - 1
        xs, ys = [], []
        for position in range(first, last + 1):
            x, y = self._source_batch(int(self._order[position]))
            low = max(start - int(self._offsets[position]), 0)
            high = min(stop - int(self._offsets[position]), len(x))
            xs.append(x[low:high])
            ys.append(y[low:high])
        if len(xs) == 1:
            return xs[0], ys[0]
        return np.concatenate(xs), np.concatenate(ys)

    def _source_batch(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        cached = self._cache
        if cached is not None and cached[0] == index:
            return cached[1], cached[2]
        x, y = self._fetch(index)
        if len(x) != self._sizes[index]:
            raise ConfigError(self._uneven(index, len(x), int(self._sizes[0])))
        return x, y

    def _fetch(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = pair(self.source[index], "given", innermost(self.source))
        x, y = np.asarray(x), np.asarray(y)
        self._cache = (index, x, y)
        return x, y

    def _uneven(self, index: int, size: int, first: int) -> str:
        return (f"cannot re-batch {innermost(self.source)} to batches of {self.batch_size}: its batch "
                f"{index} has {size} samples but its first has {first}; re-batching maps sample ranges onto "
                "the source's batches, so every batch but the last must have the first's size")

    def on_epoch_end(self) -> None:
        super().on_epoch_end()
        self._epoch += 1
        self._arrange()
