"""Checking a user's streamed sets on their first batches, and converting their batches to symtuner's layout.

See :func:`symtuner.data.streams.streamed_dataset`, which uses these checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from symtuner.core.errors import DataError
from symtuner.data.batches import Batches, Wrapper, is_tf_dataset, pair, py_len, read_batch
from symtuner.data.dataset import as_features, as_labels, as_targets

_INDEX, _COLUMN, _ONE_HOT, _TARGETS, _SCALAR_TARGETS = "index", "column", "one_hot", "targets", "scalar_targets"

#: How every message of a batch that fails the checks while a trial reads it begins (see
#: :func:`batch_check_failure`, which finds it in the error TensorFlow or Keras wraps it in).
BATCH_CHECK = "a batch fails the checks its data set passed: "
#: Seconds a set of unknown size (a generator's) may take to be read through once before a study.
ENDLESS_SECONDS = 20.0


def batch_check_failure(exc: BaseException) -> str | None:
    """The message of a batch check that ``exc`` carries (raised inside a trial's data pipeline), or None."""
    text = str(exc)
    at = text.find(BATCH_CHECK)
    if at < 0:
        return None
    message = text[at + len(BATCH_CHECK):].splitlines()[0]
    return message.split("]")[0].strip(" '\"") if message else None


@dataclass(frozen=True)
class _Layout:
    """How one set's batches become symtuner's: float32 ``x``, int64 labels or float32 target columns."""

    sample_shape: tuple[int, ...]
    scale: bool
    add_channel: bool
    labels: str
    n_classes: int = 0
    #: the set in messages: ``data.py:load: the training set``
    name: str = ""

    @classmethod
    def of(cls, x: np.ndarray, y: np.ndarray, n_classes: int, name: str = "") -> _Layout:
        """The layout of a batch that :func:`_check_batch` accepted."""
        if n_classes == 0:
            labels = _SCALAR_TARGETS if y.ndim == 1 else _TARGETS
        else:
            labels = _INDEX if y.ndim == 1 else _COLUMN if y.shape[1] == 1 else _ONE_HOT
        shape = tuple(int(d) for d in x.shape[1:]) + ((1,) if x.ndim == 3 else ())
        return cls(shape, scale=x.dtype == np.uint8, add_channel=x.ndim == 3, labels=labels, n_classes=n_classes,
                   name=name)

    def bad_labels(self, y: np.ndarray) -> str:
        """Why a converted batch's class labels cannot be trained on ('' when they can)."""
        if self.regression or not len(y):
            return ""
        bad = y[(y < 0) | (y >= self.n_classes)]
        return f"a label {bad[0]} outside 0..{self.n_classes - 1}" if len(bad) else ""

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
        if self.labels == _COLUMN:
            y = y[:, 0]
        elif self.labels == _ONE_HOT:
            y = tf.argmax(y, axis=1)
        elif self.labels == _SCALAR_TARGETS:
            y = tf.expand_dims(y, -1)
        y = tf.cast(y, tf.float32 if self.regression else tf.int64)
        return self._checked(x, y)

    def _checked(self, x: Any, y: Any) -> tuple[Any, Any]:
        """``x, y`` once they pass the checks the first batch passed (inside a ``tf.data`` map): samples of
        the first batch's shape, one label each, class labels in range. A failure raises inside the
        trial with a :data:`BATCH_CHECK` message."""
        import tensorflow as tf

        where = f"{BATCH_CHECK}{self.name} has a batch with"
        shape, want = tf.shape(x)[1:], tf.constant(self.sample_shape, tf.int32)
        same = tf.cond(tf.equal(tf.size(shape), len(self.sample_shape)),
                       lambda: tf.reduce_all(tf.equal(shape, want)), lambda: tf.constant(False))
        checks = [tf.debugging.Assert(same, [f"{where} samples of another shape than those of the first "
                                             f"batch, {self.sample_shape}"]),
                  tf.debugging.assert_equal(tf.shape(x)[0], tf.shape(y)[0],
                                            message=f"{where} not one label per sample")]
        if not self.regression:
            checks += [tf.debugging.assert_non_negative(y, message=f"{where} a negative class label"),
                       tf.debugging.assert_less(y, tf.constant(self.n_classes, tf.int64),
                                                message=f"{where} a class label above {self.n_classes - 1}")]
        with tf.control_dependencies(checks):
            return tf.ensure_shape(tf.identity(x), (None, *self.sample_shape)), tf.identity(y)


@dataclass(frozen=True, eq=False)
class StreamCheck:
    """One checked set: the user's object, its batch layout, outputs, size and first labels."""

    source: Batches
    part: str
    layout: _Layout
    n_outputs: int
    n_samples: int | None
    first_labels: np.ndarray

    @classmethod
    def of(cls, source: Batches, part: str, n_classes: int, name: str) -> StreamCheck:
        if is_tf_dataset(source):
            first = _tf_first(source, part, name)
        elif isinstance(source, keras.utils.PyDataset):
            py_len(source, f"the {part} set", name)
            first = read_batch(source, 0, part, name)
        else:
            hint = (" (numpy arrays go in the five-value form: x_train, x_test, y_train, y_test, n_classes)"
                    if isinstance(source, np.ndarray) else "")
            raise DataError(f"{name}: the {part} set must be a tf.data.Dataset of (x, y) batches or a "
                            f"keras.utils.PyDataset, got {type(source).__name__}{hint}")
        x, y = (np.asarray(v) for v in pair(first, part, name))
        _, y_checked = _check_batch(x, y, n_classes, f"the {part} set's first batch", name)
        n_outputs = int(y_checked.shape[1]) if n_classes == 0 else n_classes
        size = _tf_size(source, len(x)) if is_tf_dataset(source) else _py_size(source, len(x), part, name)
        return cls(source, part, _Layout.of(x, y, n_classes, f"{name}: the {part} set"), n_outputs, size, y)

    def converted(self) -> Batches:
        """The user's set with every batch converted to symtuner's layout."""
        if is_tf_dataset(self.source):
            return self.source.map(self.layout.tensors)
        return _Converted(self.source, self.layout)


class _Converted(Wrapper):
    """A user's PyDataset with each batch converted to symtuner's layout (and its shape checked)."""

    def __init__(self, source: Any, layout: _Layout) -> None:
        super().__init__(source)
        self.layout = layout
        self.n_batches = int(source.num_batches)

    def __len__(self) -> int:
        return self.n_batches

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.layout.numpy(*pair(self.source[index], "given", type(self.source).__name__))
        where = f"{BATCH_CHECK}{self.layout.name or type(self.source).__name__}: its batch {index}"
        if x.shape[1:] != self.layout.sample_shape or len(x) != len(y):
            raise DataError(f"{where} has x of shape {x.shape} and {len(y)} labels; samples of shape "
                            f"{self.layout.sample_shape} were expected, one label each")
        bad = self.layout.bad_labels(y)
        if bad:
            raise DataError(f"{where} has {bad}")
        return x, y


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
    if cardinality == tf.data.UNKNOWN_CARDINALITY:
        _tf_must_end(source, part, name)
    first = _tf_next(source, part, name) if cardinality != 0 else None
    if first is None:
        raise DataError(f"{name}: the {part} set is empty")
    return first


def _tf_must_end(source: Any, part: str, name: str) -> None:
    """A set whose size tf.data cannot tell (a generator's) is read through once: one that does not end
    within :data:`ENDLESS_SECONDS` would make every epoch endless (DataError saying how to fix it)."""
    import time

    started = time.monotonic()
    batches = 0
    try:
        for _ in source:
            batches += 1
            if time.monotonic() - started > ENDLESS_SECONDS:
                raise DataError(f"{name}: the {part} set (tf.data of unknown size) gave {batches} batches in "
                                f"{ENDLESS_SECONDS:g} s without ending; an epoch must end: if it is finite, give "
                                "its size with .apply(tf.data.experimental.assert_cardinality(N)); if it never "
                                "ends, .take(N) batches")
    except DataError:
        raise
    except Exception as exc:
        which = f"the {part} set's first batch" if batches == 0 else f"batch {batches + 1} of the {part} set"
        raise DataError(f"{name}: reading {which} failed: {type(exc).__name__}: {exc}") from None


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
    last, _ = pair(read_batch(source, n_batches - 1, part, name), part, name)
    return (n_batches - 1) * first_batch + len(last)


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


def same_samples(train: StreamCheck, other: StreamCheck, name: str) -> None:
    if other.layout.sample_shape != train.layout.sample_shape:
        raise DataError(f"{name}: training samples have shape {train.layout.sample_shape} but {other.part} "
                        f"samples have shape {other.layout.sample_shape}")
    if other.n_outputs != train.n_outputs:
        raise DataError(f"{name}: the training set has {train.n_outputs} target column(s) but the "
                        f"{other.part} set has {other.n_outputs}")


def check_repeatable(train: StreamCheck, name: str) -> None:
    """A training set to carve a validation set from must give the same first labels on every read."""
    if is_tf_dataset(train.source):
        again = _tf_next(train.source, "training", name)
    else:
        again = read_batch(train.source, 0, "training", name)
    labels = np.asarray(pair(again, "training", name)[1])
    if labels.shape != train.first_labels.shape or not np.array_equal(labels, train.first_labels):
        raise DataError(f"{name}: the training set's first batch has different labels on two reads (is it "
                        "shuffled on every iteration?); a validation set is held out by position, so the "
                        "training set must read in the same order every time: shuffle it with "
                        "reshuffle_each_iteration=False, or give a validation set")
