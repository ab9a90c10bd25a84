"""Reading a streamed set's batches: a ``tf.data.Dataset`` of ``(x, y)`` or a ``keras.utils.PyDataset``.

The helpers here are shared by the checks (:mod:`symtuner.data.stream_checks`),
the validation hold-out (:mod:`symtuner.data.carving`) and the re-batching
(:mod:`symtuner.data.rebatching`); :mod:`symtuner.data.streams` offers the
public ones.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np

from symtuner.core.errors import DataError

#: A set of batches: a ``tf.data.Dataset`` of ``(x, y)`` or a ``keras.utils.PyDataset``.
Batches = Any


def is_tf_dataset(value: Any) -> bool:
    """Whether ``value`` is a ``tf.data.Dataset`` (without importing TensorFlow when nothing has)."""
    tf = sys.modules.get("tensorflow")
    return tf is not None and isinstance(value, tf.data.Dataset)


def iter_batches(source: Batches) -> Iterator[tuple[Any, Any]]:
    """The ``(x, y)`` batches of a set, in order, as numpy arrays (tf.data) or as the set gives them."""
    if is_tf_dataset(source):
        yield from source.as_numpy_iterator()
        return
    for index in range(py_len(source, "the set", innermost(source))):
        x, y = pair(source[index], "given", innermost(source))
        yield x, y


def py_len(source: Any, what: str, name: str) -> int:
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


def read_batch(source: Any, index: int, part: str, name: str) -> Any:
    try:
        return source[index]
    except Exception as exc:
        raise DataError(f"{name}: reading batch {index} of the {part} set ({type(source).__name__}) failed: "
                        f"{type(exc).__name__}: {exc}") from None


def pair(element: Any, part: str, name: str) -> tuple[Any, Any]:
    if not isinstance(element, (tuple, list)) or len(element) != 2:
        got = f"{len(element)} values" if isinstance(element, (tuple, list)) else type(element).__name__
        raise DataError(f"{name}: the {part} set's batches must be (x, y) pairs (no sample weights, no "
                        f"dicts), got {got}")
    return element[0], element[1]


def innermost(source: Any) -> str:
    """The class name of the user's set under symtuner's wrappers."""
    while isinstance(source, Wrapper):
        source = source.source
    return type(source).__name__


class Wrapper(keras.utils.PyDataset):
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
