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
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from symtuner.core.errors import ConfigError, DataError
from symtuner.data.dataset import as_features, as_labels, as_targets, check_n_classes

#: A set of batches: a ``tf.data.Dataset`` of ``(x, y)`` or a ``keras.utils.PyDataset``.
Batches = Any

#: Samples form blocks of this many consecutive ones; the same seeded positions of every block are
#: held out for validation (a prime, so the pattern does not line up with periodic data).
SPLIT_BLOCK = 1009
#: Most samples a shuffled tf.data set keeps in its shuffle buffer ...
SHUFFLE_SAMPLES = 10_000
#: ... and most bytes of float32 samples it may take.
SHUFFLE_BYTES = 256 * 2**20
#: Buffer used when the sample shape is not known statically.
SHUFFLE_FALLBACK = 1024

_INDEX, _COLUMN, _ONE_HOT, _TARGETS, _SCALAR_TARGETS = "index", "column", "one_hot", "targets", "scalar_targets"


# -- the record ----------------------------------------------------------------
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
        raise DataError(f"{_innermost(source)}: the set gives no batch")
    return np.concatenate(xs), np.concatenate(ys)


def _count(n: int | None) -> str:
    return "an unknown number of" if n is None else str(n)


# -- checking the user's sets ------------------------------------------------------
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
    train_check = _StreamCheck.of(train, "training", n_classes, name)
    val_check = None if validation is None else _StreamCheck.of(validation, "validation", n_classes, name)
    test_check = _StreamCheck.of(test, "test", n_classes, name)
    for other in (val_check, test_check):
        if other is not None:
            _same_samples(train_check, other, name)
    if val_check is None:
        _check_repeatable(train_check, name)
    return StreamedDataset(train=train_check.converted(),
                           validation=None if val_check is None else val_check.converted(),
                           test=test_check.converted(), n_classes=n_classes, name=name,
                           input_shape=train_check.layout.sample_shape, n_outputs=train_check.n_outputs,
                           n_train=train_check.n_samples, n_test=test_check.n_samples)


@dataclass(frozen=True)
class _Layout:
    """How one set's batches become symtuner's: float32 ``x``, int64 labels or float32 target columns."""

    sample_shape: tuple[int, ...]
    scale: bool
    add_channel: bool
    labels: str

    @classmethod
    def of(cls, x: np.ndarray, y: np.ndarray, n_classes: int) -> _Layout:
        """The layout of a batch that :func:`_check_batch` accepted."""
        if n_classes == 0:
            labels = _SCALAR_TARGETS if y.ndim == 1 else _TARGETS
        else:
            labels = _INDEX if y.ndim == 1 else _COLUMN if y.shape[1] == 1 else _ONE_HOT
        shape = tuple(int(d) for d in x.shape[1:]) + ((1,) if x.ndim == 3 else ())
        return cls(shape, scale=x.dtype == np.uint8, add_channel=x.ndim == 3, labels=labels)

    @property
    def regression(self) -> bool:
        return self.labels in (_TARGETS, _SCALAR_TARGETS)

    def numpy(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """One batch converted with numpy."""
        xa, ya = np.asarray(x), np.asarray(y)
        xa = xa.astype(np.float32) / np.float32(255.0) if self.scale else xa.astype(np.float32, copy=False)
        if self.add_channel:
            xa = xa[..., np.newaxis]
        if self.labels == _COLUMN:
            ya = ya[:, 0]
        elif self.labels == _ONE_HOT:
            ya = ya.argmax(axis=1)
        elif self.labels == _SCALAR_TARGETS:
            ya = ya[:, np.newaxis]
        return xa, ya.astype(np.float32 if self.regression else np.int64, copy=False)

    def tensors(self, x: Any, y: Any) -> tuple[Any, Any]:
        """One batch converted with TensorFlow ops (inside a ``tf.data`` map)."""
        import tensorflow as tf

        x = tf.cast(x, tf.float32) / 255.0 if self.scale else tf.cast(x, tf.float32)
        if self.add_channel:
            x = tf.expand_dims(x, -1)
        x = tf.ensure_shape(x, (None, *self.sample_shape))
        if self.labels == _COLUMN:
            y = y[:, 0]
        elif self.labels == _ONE_HOT:
            y = tf.argmax(y, axis=1)
        elif self.labels == _SCALAR_TARGETS:
            y = tf.expand_dims(y, -1)
        return x, tf.cast(y, tf.float32 if self.regression else tf.int64)


@dataclass(frozen=True, eq=False)
class _StreamCheck:
    """One checked set: the user's object, its batch layout, outputs, size and first labels."""

    source: Batches
    part: str
    layout: _Layout
    n_outputs: int
    n_samples: int | None
    first_labels: np.ndarray

    @classmethod
    def of(cls, source: Batches, part: str, n_classes: int, name: str) -> _StreamCheck:
        if is_tf_dataset(source):
            first = _tf_first(source, part, name)
        elif isinstance(source, keras.utils.PyDataset):
            _py_len(source, f"the {part} set", name)
            first = _read(source, 0, part, name)
        else:
            hint = (" (numpy arrays go in the five-value form: x_train, x_test, y_train, y_test, n_classes)"
                    if isinstance(source, np.ndarray) else "")
            raise DataError(f"{name}: the {part} set must be a tf.data.Dataset of (x, y) batches or a "
                            f"keras.utils.PyDataset, got {type(source).__name__}{hint}")
        x, y = (np.asarray(v) for v in _pair(first, part, name))
        _, y_checked = _check_batch(x, y, n_classes, f"the {part} set's first batch", name)
        n_outputs = int(y_checked.shape[1]) if n_classes == 0 else n_classes
        size = _tf_size(source, len(x)) if is_tf_dataset(source) else _py_size(source, len(x), part, name)
        return cls(source, part, _Layout.of(x, y, n_classes), n_outputs, size, y)

    def converted(self) -> Batches:
        """The user's set with every batch converted to symtuner's layout."""
        if is_tf_dataset(self.source):
            return self.source.map(self.layout.tensors)
        return _Converted(self.source, self.layout)


def is_tf_dataset(value: Any) -> bool:
    """Whether ``value`` is a ``tf.data.Dataset`` (without importing TensorFlow when nothing has)."""
    tf = sys.modules.get("tensorflow")
    return tf is not None and isinstance(value, tf.data.Dataset)


def _tf_first(source: Any, part: str, name: str) -> Any:
    """A tf.data set's first element, once its spec and cardinality are checked."""
    import tensorflow as tf

    spec = source.element_spec
    if not (isinstance(spec, tuple) and len(spec) == 2 and all(isinstance(s, tf.TensorSpec) for s in spec)):
        raise DataError(f"{name}: the {part} set's elements must be (x, y) pairs of dense tensors (batches), "
                        f"got element_spec {spec}")
    for what, item in zip(("x", "y"), spec):
        if item.shape.rank is None or item.shape.rank < 1:
            raise DataError(f"{name}: the {part} set's {what} has shape {item.shape}; elements must be batches "
                            "with a known rank (call .batch(n), or give from_generator an output_signature)")
    cardinality = int(source.cardinality())
    if cardinality == tf.data.INFINITE_CARDINALITY:
        raise DataError(f"{name}: the {part} set is infinite (tf.data cardinality INFINITE, e.g. from "
                        ".repeat()); every epoch and evaluation must end: drop the .repeat() or .take() a "
                        "finite number of batches")
    first = _tf_next(source, part, name) if cardinality != 0 else None
    if first is None:
        raise DataError(f"{name}: the {part} set is empty")
    return first


def _tf_next(source: Any, part: str, name: str) -> Any:
    """The first element of a fresh iteration of ``source``, or None when it is empty."""
    try:
        return next(iter(source), None)
    except Exception as exc:
        raise DataError(f"{name}: reading the {part} set's first batch failed: {type(exc).__name__}: "
                        f"{exc}") from None


def _tf_size(source: Any, first_batch: int) -> int | None:
    """Cardinality times the batch size (static, or the first batch's); None when unknown."""
    cardinality = int(source.cardinality())
    if cardinality < 0:
        return None
    static = source.element_spec[0].shape[0]
    return cardinality * int(static if static is not None else first_batch)


def _py_size(source: Any, first_batch: int, part: str, name: str) -> int:
    """Samples of a PyDataset whose batches but the last have the first's size (the last is read)."""
    n_batches = int(source.num_batches)
    if n_batches == 1:
        return first_batch
    last, _ = _pair(_read(source, n_batches - 1, part, name), part, name)
    return (n_batches - 1) * first_batch + len(last)


def _py_len(source: Any, what: str, name: str) -> int:
    """The number of batches of a PyDataset, which must be finite and not zero."""
    try:
        n_batches = source.num_batches
    except NotImplementedError:
        raise DataError(f"{name}: {what} ({type(source).__name__}) defines neither __len__ nor "
                        "num_batches") from None
    if n_batches is None:
        raise DataError(f"{name}: {what} ({type(source).__name__}) is infinite (num_batches is None); every "
                        "epoch and evaluation must end: give it a __len__")
    if isinstance(n_batches, bool) or not isinstance(n_batches, (int, np.integer)) or n_batches < 0:
        raise DataError(f"{name}: {what} ({type(source).__name__}) has {n_batches!r} batches")
    if n_batches == 0:
        raise DataError(f"{name}: {what} ({type(source).__name__}) is empty")
    return int(n_batches)


def _read(source: Any, index: int, part: str, name: str) -> Any:
    try:
        return source[index]
    except Exception as exc:
        raise DataError(f"{name}: reading batch {index} of the {part} set ({type(source).__name__}) failed: "
                        f"{type(exc).__name__}: {exc}") from None


def _pair(element: Any, part: str, name: str) -> tuple[Any, Any]:
    if not isinstance(element, (tuple, list)) or len(element) != 2:
        got = f"{len(element)} values" if isinstance(element, (tuple, list)) else type(element).__name__
        raise DataError(f"{name}: the {part} set's batches must be (x, y) pairs (no sample weights, no "
                        f"dicts), got {got}")
    return element[0], element[1]


def _check_batch(x: np.ndarray, y: np.ndarray, n_classes: int, where: str,
                 name: str) -> tuple[np.ndarray, np.ndarray]:
    """The batch as :func:`~symtuner.data.validate_dataset` would take it, or a DataError."""
    x_checked = as_features(x, f"x in {where}", name)
    if n_classes == 0:
        y_checked = as_targets(y, f"y in {where}", name)
    else:
        y_checked = as_labels(y, f"y in {where}", n_classes, name)
    if len(x_checked) != len(y_checked):
        raise DataError(f"{name}: {where} has {len(x_checked)} samples in x but {len(y_checked)} in y")
    return x_checked, y_checked


def _same_samples(train: _StreamCheck, other: _StreamCheck, name: str) -> None:
    if other.layout.sample_shape != train.layout.sample_shape:
        raise DataError(f"{name}: training samples have shape {train.layout.sample_shape} but {other.part} "
                        f"samples have shape {other.layout.sample_shape}")
    if other.n_outputs != train.n_outputs:
        raise DataError(f"{name}: the training set has {train.n_outputs} target column(s) but the "
                        f"{other.part} set has {other.n_outputs}")


def _check_repeatable(train: _StreamCheck, name: str) -> None:
    """A training set to carve a validation set from must give the same first labels on every read."""
    if is_tf_dataset(train.source):
        again = _tf_next(train.source, "training", name)
    else:
        again = _read(train.source, 0, "training", name)
    labels = np.asarray(_pair(again, "training", name)[1])
    if labels.shape != train.first_labels.shape or not np.array_equal(labels, train.first_labels):
        raise DataError(f"{name}: the training set's first batch has different labels on two reads (is it "
                        "shuffled on every iteration?); a validation set is held out by position, so the "
                        "training set must read in the same order every time: shuffle it with "
                        "reshuffle_each_iteration=False, or give a validation set")


# -- reading batches ----------------------------------------------------------------
def iter_batches(source: Batches) -> Iterator[tuple[Any, Any]]:
    """The ``(x, y)`` batches of a set, in order, as numpy arrays (tf.data) or as the set gives them."""
    if is_tf_dataset(source):
        yield from source.as_numpy_iterator()
        return
    for index in range(_py_len(source, "the set", _innermost(source))):
        x, y = _pair(source[index], "given", _innermost(source))
        yield x, y


def _innermost(source: Any) -> str:
    """The class name of the user's set under symtuner's wrappers."""
    while isinstance(source, _Wrapper):
        source = source.source
    return type(source).__name__


class _Wrapper(keras.utils.PyDataset):
    """A PyDataset over another: it keeps the source's worker settings and passes its epoch hooks on."""

    def __init__(self, source: Any, *, forward_epochs: bool = True) -> None:
        super().__init__(workers=source.workers, use_multiprocessing=source.use_multiprocessing,
                         max_queue_size=source.max_queue_size)
        self.source = source
        self.forward_epochs = forward_epochs

    def on_epoch_begin(self) -> None:
        if self.forward_epochs:
            self.source.on_epoch_begin()

    def on_epoch_end(self) -> None:
        if self.forward_epochs:
            self.source.on_epoch_end()


class _Converted(_Wrapper):
    """A user's PyDataset with each batch converted to symtuner's layout (and its shape checked)."""

    def __init__(self, source: Any, layout: _Layout) -> None:
        super().__init__(source)
        self.layout = layout
        self.n_batches = int(source.num_batches)

    def __len__(self) -> int:
        return self.n_batches

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.layout.numpy(*_pair(self.source[index], "given", type(self.source).__name__))
        if x.shape[1:] != self.layout.sample_shape or len(x) != len(y):
            raise DataError(f"{type(self.source).__name__}: batch {index} has x of shape {x.shape} and "
                            f"{len(y)} labels; samples of shape {self.layout.sample_shape} were expected, one "
                            "label each")
        return x, y


# -- holding out a validation set ---------------------------------------------------
def validation_positions(fraction: float, seed: int) -> np.ndarray:
    """Which positions of every :data:`SPLIT_BLOCK` consecutive samples are held out (a bool mask).

    Sample ``i`` of a ``tf.data`` training set is a validation sample iff
    ``validation_positions(fraction, seed)[i % SPLIT_BLOCK]``: ``round(fraction
    * SPLIT_BLOCK)`` positions (at least one, and one short of all at most)
    chosen by ``numpy.random.default_rng(seed)``.
    """
    _check_fraction(fraction)
    _check_seed(seed)
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
    _check_fraction(fraction)
    _check_seed(seed)
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
    _check_fraction(fraction)
    _check_seed(seed)
    if data.validation is not None:
        return data.train, data.validation
    if is_tf_dataset(data.train):
        _check_carvable(data, fraction, seed)
        return _carve_tf(data.train, fraction, seed)
    held_out = validation_batches(_py_len(data.train, "the training set", data.name), fraction, seed)
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


class _BatchSubset(_Wrapper):
    """Some batches of a PyDataset, in their order."""

    def __init__(self, source: Any, indices: tuple[int, ...], *, forward_epochs: bool) -> None:
        super().__init__(source, forward_epochs=forward_epochs)
        self.indices = indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.source[self.indices[index]]


def _check_fraction(fraction: Any) -> None:
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
        raise ConfigError(f"validation fraction must be between 0 and 1, got {fraction!r}")


def _check_seed(seed: Any) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")


# -- batches of the trial's size ------------------------------------------------------
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
    _check_seed(seed)
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


class _Rebatched(_Wrapper):
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
        n_batches = _py_len(source, "the set to re-batch", _innermost(source))
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
        x, y = _pair(self.source[index], "given", _innermost(self.source))
        x, y = np.asarray(x), np.asarray(y)
        self._cache = (index, x, y)
        return x, y

    def _uneven(self, index: int, size: int, first: int) -> str:
        return (f"cannot re-batch {_innermost(self.source)} to batches of {self.batch_size}: its batch "
                f"{index} has {size} samples but its first has {first}; re-batching maps sample ranges onto "
                "the source's batches, so every batch but the last must have the first's size")

    def on_epoch_end(self) -> None:
        super().on_epoch_end()
        self._epoch += 1
        self._arrange()
