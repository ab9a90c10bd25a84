"""Streamed data sets: checks, the carved validation split, re-batching, and streaming under a memory limit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

tf = pytest.importorskip("tensorflow")
import keras  # noqa: E402

from symtuner.core.errors import ConfigError, DataError  # noqa: E402
from symtuner.data.dataset import MAX_CLASSES  # noqa: E402
from symtuner.data.streams import (  # noqa: E402
    SPLIT_BLOCK,
    StreamedDataset,
    carve_validation,
    evaluation_batches,
    iter_batches,
    rebatch,
    streamed_dataset,
    validation_batches,
    validation_positions,
)

SHAPE = (6, 6, 1)


def images(n: int, n_classes: int = 3, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images whose first pixel is their sample number (so a test can tell which it got)."""
    x = np.zeros((n, *SHAPE), dtype=np.float32)
    x[:, 0, 0, 0] = np.arange(start, start + n)
    return x, (np.arange(start, start + n) % n_classes).astype(np.int64)


def tf_batches(x: np.ndarray, y: np.ndarray, batch: int = 8) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch)


class ArrayBatches(keras.utils.PyDataset):
    """Batches of in-memory arrays; it records which batches were read and how many epochs ended."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch: int = 8, **kwargs) -> None:
        super().__init__(**kwargs)
        self.x, self.y, self.batch = x, y, batch
        self.reads: list[int] = []
        self.epochs_ended = 0

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch)

    def __getitem__(self, index: int):
        self.reads.append(index)
        return self.x[index * self.batch:(index + 1) * self.batch], self.y[index * self.batch:(index + 1) * self.batch]

    def on_epoch_end(self) -> None:
        self.epochs_ended += 1


class UnevenBatches(ArrayBatches):
    """Batch 1 is one sample short."""

    def __len__(self) -> int:
        return 3

    def __getitem__(self, index: int):
        sizes = (8, 7, 8)
        start = sum(sizes[:index])
        return self.x[start:start + sizes[index]], self.y[start:start + sizes[index]]


class Endless(ArrayBatches):
    @property
    def num_batches(self):
        return None


class NoLength(keras.utils.PyDataset):
    def __init__(self) -> None:
        super().__init__()

    def __getitem__(self, index: int):
        return images(4)


def ids(batches) -> list[int]:
    """The sample numbers a set serves, in order."""
    return [int(v) for x, _ in iter_batches(batches) for v in np.asarray(x)[:, 0, 0, 0]]


def sizes(batches) -> list[int]:
    return [len(np.asarray(y)) for _, y in iter_batches(batches)]


@pytest.fixture
def tf_data() -> StreamedDataset:
    """100 training samples in batches of 8 (the last one short), no validation set."""
    return streamed_dataset((tf_batches(*images(100)), tf_batches(*images(20, start=1000)), 3), "tf-set")


@pytest.fixture
def py_data() -> StreamedDataset:
    """100 training samples in batches of 8 (the last one short), no validation set."""
    return streamed_dataset((ArrayBatches(*images(100)), ArrayBatches(*images(20, start=1000)), 3), "py-set")


# -- checked sets -------------------------------------------------------------------
def test_a_tf_data_three_tuple_is_described_from_its_first_batch(tf_data):
    assert tf_data.streamed and tf_data.validation is None
    assert (tf_data.input_shape, tf_data.n_outputs, tf_data.n_classes) == (SHAPE, 3, 3)
    assert tf_data.n_train == 13 * 8  # cardinality times the first batch: a short last batch counts as full
    assert tf_data.loss_baseline == pytest.approx(np.log(3))
    assert "tf-set (streamed): 104 training and 24 test samples of shape (6, 6, 1), 3 classes" == \
        tf_data.describe()


def test_a_static_tf_batch_size_gives_an_exact_count():
    x, y = images(96)
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(8, drop_remainder=True)
    assert streamed_dataset((train, tf_batches(*images(8)), 3), "s").n_train == 96


def test_a_generator_set_has_an_unknown_size():
    def batches():
        yield images(8)

    spec = (tf.TensorSpec((None, *SHAPE), tf.float32), tf.TensorSpec((None,), tf.int64))
    data = streamed_dataset((tf.data.Dataset.from_generator(batches, output_signature=spec),
                             tf_batches(*images(8)), 3), "gen")
    assert data.n_train is None and "an unknown number of training" in data.describe()


def test_a_py_dataset_four_tuple_counts_its_samples_exactly():
    data = streamed_dataset((ArrayBatches(*images(50)), ArrayBatches(*images(16)), ArrayBatches(*images(9)), 3),
                            "py")
    assert (data.n_train, data.n_test, data.input_shape) == (50, 9, SHAPE)
    assert data.validation is not None and "a validation set" in data.describe()


@pytest.mark.parametrize("kind", ["tf", "py"])
def test_batches_take_the_in_memory_conventions(kind):
    """uint8 grey images are scaled and get a channel axis; one-hot rows become class indices."""
    x = np.full((10, 5, 5), 255, dtype=np.uint8)
    y = np.eye(4, dtype=np.float32)[np.arange(10) % 4]
    make = tf_batches if kind == "tf" else ArrayBatches
    data = streamed_dataset((make(x, y, 4), make(x, y, 4), 4), "grey")
    assert data.input_shape == (5, 5, 1)
    xs, ys = data.sample(6)
    assert xs.dtype == np.float32 and xs.shape == (6, 5, 5, 1) and xs.max() == 1.0
    assert ys.dtype == np.int64 and ys.tolist() == [0, 1, 2, 3, 0, 1]
    batch_x, batch_y = next(iter_batches(rebatch(data.train, 3, shuffle=False, seed=0)))
    assert np.asarray(batch_x).shape == (3, 5, 5, 1) and np.asarray(batch_y).tolist() == [0, 1, 2]


@pytest.mark.parametrize("kind", ["tf", "py"])
def test_a_regression_has_one_output_per_target_column(kind):
    make = tf_batches if kind == "tf" else ArrayBatches
    x, _ = images(12)
    scalar = streamed_dataset((make(x, np.linspace(0, 1, 12)), make(x, np.zeros(12)), 0), "r1")
    assert (scalar.n_outputs, scalar.loss_baseline, scalar.is_regression) == (1, None, True)
    assert scalar.sample(5)[1].shape == (5, 1) and scalar.sample(5)[1].dtype == np.float32
    wide = streamed_dataset((make(x, np.zeros((12, 2))), make(x, np.ones((12, 2))), 0), "r2")
    assert wide.n_outputs == 2 and "regression of 2 target(s)" in wide.describe()


def test_sample_reads_only_the_batches_it_needs():
    train = ArrayBatches(*images(100))
    data = streamed_dataset((train, ArrayBatches(*images(8)), 3), "py")
    train.reads.clear()
    xs, ys = data.sample(10)
    assert train.reads == [0, 1] and ids_of(xs) == list(range(10)) and len(ys) == 10
    assert len(data.sample(1000)[0]) == 100  # all there is

    served = []

    def batches():
        for start in range(0, 100, 8):
            served.append(start)
            yield images(8, start=start)

    spec = (tf.TensorSpec((None, *SHAPE), tf.float32), tf.TensorSpec((None,), tf.int64))
    gen = streamed_dataset((tf.data.Dataset.from_generator(batches, output_signature=spec),
                            tf_batches(*images(8)), 3), "gen")
    served.clear()
    assert ids_of(gen.sample(3)[0]) == [0, 1, 2] and len(served) <= 4  # tf.data reads a little ahead, not all 13


def ids_of(x: np.ndarray) -> list[int]:
    return [int(v) for v in x[:, 0, 0, 0]]


# -- every error ----------------------------------------------------------------------
def _bad_sets():
    x, y = images(16)
    ok = tf_batches(x, y)
    three = ok, ok, 3
    return {
        "two values": ((ok, 3), "a streamed data set is (train, test, n_classes)"),
        "five values": ((ok, ok, ok, ok, 3), "got 5 values"),
        "not a tuple": (ok, "got _BatchDataset"),
        "numpy train": ((x, ok, 3), "the training set must be a tf.data.Dataset of (x, y) batches or a "
                                    "keras.utils.PyDataset, got ndarray (numpy arrays go in the five-value form"),
        "list test": ((ok, [x, y], 3), "the test set must be a tf.data.Dataset"),
        "dict validation": ((ok, {"x": x}, ok, 3), "the validation set must be a tf.data.Dataset"),
        "bool classes": ((ok, ok, True), "n_classes must be an integer (0 for a regression), got True"),
        "float classes": ((ok, ok, 2.5), "n_classes must be an integer (0 for a regression), got 2.5"),
        "string classes": ((ok, ok, "3"), "n_classes must be an integer (0 for a regression), got '3'"),
        "one class": ((ok, ok, 1), "n_classes must be at least 2 for a classification, or 0 for a regression, "
                                   "got 1"),
        "negative classes": ((ok, ok, -2), "got -2"),
        "too many classes": ((ok, ok, MAX_CLASSES + 1), f"n_classes {MAX_CLASSES + 1} is more than"),
        "x only": ((tf.data.Dataset.from_tensor_slices(x).batch(4), ok, 3),
                   "the training set's elements must be (x, y) pairs of dense tensors"),
        "sample weights": ((tf.data.Dataset.from_tensor_slices((x, y, y)).batch(4), ok, 3),
                           "(x, y) pairs of dense tensors"),
        "not batched": ((tf.data.Dataset.from_tensor_slices((x, y)), ok, 3),
                        "the training set's y has shape (); elements must be batches"),
        "strings": ((ok, tf.data.Dataset.from_tensor_slices((np.array(["a"] * 4), y[:4])).batch(2), 3),
                    "x in the test set's first batch must hold numbers"),
        "string labels": ((ok, ArrayBatches(x, np.array(["cat"] * 16)), 3),
                          "y in the test set's first batch must hold class numbers"),
        "short labels": ((ArrayBatchesShortY(x, y), ok, 3),
                         "the training set's first batch has 8 samples in x but 7 in y"),
        "nan": ((ok, tf_batches(np.full_like(x, np.nan), y), 3), "x in the test set's first batch holds NaN"),
        "shapes": ((ok, tf_batches(np.zeros((16, 5, 5, 1), np.float32), y), 3),
                   "training samples have shape (6, 6, 1) but test samples have shape (5, 5, 1)"),
        "validation shapes": ((ok, ArrayBatches(np.zeros((16, 6, 6, 2), np.float32), y), ok, 3),
                              "but validation samples have shape (6, 6, 2)"),
        "target widths": ((tf_batches(x, np.zeros((16, 2))), tf_batches(x, np.zeros((16, 3))), 0),
                          "the training set has 2 target column(s) but the test set has 3"),
        "class too high": ((tf_batches(x, y + 1), ok, 3),
                           "y in the training set's first batch holds class 3, outside 0..2 (n_classes=3)"),
        "negative class": ((ok, ArrayBatches(x, y - 1), 3), "y in the test set's first batch holds class -1"),
        "one-hot width": ((tf_batches(x, np.eye(4)[y]), ok, 3), "has 4 columns; one-hot labels need n_classes=3"),
        "infinite tf": ((ok.repeat(), ok, 3), "the training set is infinite (tf.data cardinality INFINITE, e.g. "
                                              "from .repeat()); every epoch and evaluation must end"),
        "infinite test": (three[:1] + (ok.repeat(), 3), "the test set is infinite"),
        "infinite py": ((Endless(x, y), ok, 3), "the training set (Endless) is infinite (num_batches is None)"),
        "no length": ((NoLength(), ok, 3), "the training set (NoLength) defines neither __len__ nor num_batches"),
        "empty tf": ((ok, ok.take(0), 3), "the test set is empty"),
        "empty py": ((ArrayBatches(x[:0], y[:0]), ok, 3), "the training set (ArrayBatches) is empty"),
        "reshuffled": ((tf.data.Dataset.from_tensor_slices((x, y)).shuffle(16, reshuffle_each_iteration=True)
                        .batch(8), ok, 3), "the training set's first batch has different labels on two reads"),
        "failing": ((_failing_generator(), ok, 3),
                    "reading the training set's first batch failed: UnknownError"),
    }


class ArrayBatchesShortY(ArrayBatches):
    def __getitem__(self, index: int):
        x, y = super().__getitem__(index)
        return x, y[:-1]


def _failing_generator() -> tf.data.Dataset:
    def batches():
        raise OSError("disk gone")
        yield  # pragma: no cover

    spec = (tf.TensorSpec((None, *SHAPE), tf.float32), tf.TensorSpec((None,), tf.int64))
    return tf.data.Dataset.from_generator(batches, output_signature=spec)


@pytest.mark.parametrize("case", list(_bad_sets()))
def test_unusable_sets_raise_a_data_error_naming_the_value(case):
    values, message = _bad_sets()[case]
    with pytest.raises(DataError) as caught:
        streamed_dataset(values, "user:data")
    assert str(caught.value).startswith("user:data: ") and message in str(caught.value)


def test_a_reshuffled_training_set_is_fine_with_its_own_validation_set():
    x, y = images(16)
    train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(16, reshuffle_each_iteration=True).batch(8)
    assert streamed_dataset((train, tf_batches(x, y), tf_batches(x, y), 3), "s").validation is not None


# -- the carved validation set ------------------------------------------------------------
def test_a_tf_split_is_the_documented_rule_and_the_same_for_the_same_seed(tf_data):
    fit, val = carve_validation(tf_data, 0.2, seed=7)
    mask = validation_positions(0.2, 7)
    expected = [i for i in range(100) if mask[i % SPLIT_BLOCK]]
    assert ids(val) == expected and ids(fit) == [i for i in range(100) if not mask[i % SPLIT_BLOCK]]
    again_fit, again_val = carve_validation(tf_data, 0.2, seed=7)
    assert ids(again_val) == expected and ids(again_fit) == ids(fit)
    assert ids(carve_validation(tf_data, 0.2, seed=8)[1]) != expected
    assert mask.sum() == round(0.2 * SPLIT_BLOCK)


def test_a_tf_split_takes_the_fraction_from_every_block():
    x = np.zeros((3 * SPLIT_BLOCK, 1), np.float32)
    data = streamed_dataset((tf_batches(x, np.zeros(len(x), np.int64), 500), tf_batches(x[:4], np.zeros(4)), 2),
                            "big")
    fit, val = carve_validation(data, 0.25, seed=0)
    assert sum(sizes(val)) == 3 * round(0.25 * SPLIT_BLOCK)
    assert sum(sizes(fit)) + sum(sizes(val)) == len(x)


def test_a_py_split_holds_out_whole_batches_and_passes_epochs_on_from_the_fit_part(py_data):
    fit, val = carve_validation(py_data, 0.25, seed=3)
    held_out = validation_batches(13, 0.25, 3)
    assert len(held_out) == 3 and held_out == validation_batches(13, 0.25, 3)
    assert ids(val) == [i for b in held_out for i in range(8 * b, min(8 * b + 8, 100))]
    assert sorted(ids(fit) + ids(val)) == list(range(100))
    assert ids(carve_validation(py_data, 0.25, seed=3)[1]) == ids(val)
    assert validation_batches(13, 0.25, 4) != held_out
    source = py_data.train.source
    val.on_epoch_end()
    assert source.epochs_ended == 0
    fit.on_epoch_end()
    assert source.epochs_ended == 1


def test_a_given_validation_set_is_used_as_it_is():
    x, y = images(16)
    data = streamed_dataset((ArrayBatches(x, y), ArrayBatches(x, y), ArrayBatches(x, y), 3), "given")
    assert carve_validation(data, 0.2, seed=0) == (data.train, data.validation)


def test_a_split_needs_room_for_both_parts():
    x, y = images(8)
    one_batch = streamed_dataset((ArrayBatches(x, y), ArrayBatches(x, y), 3), "one")
    with pytest.raises(DataError, match="cannot hold out a validation fraction of 0.2 as whole batches of a "
                                        "training set of 1 batch"):
        carve_validation(one_batch, 0.2, seed=0)
    one_sample = streamed_dataset((tf_batches(x[:1], y[:1]), tf_batches(x, y), 3), "tiny")
    with pytest.raises(DataError, match="tiny: cannot hold out a validation fraction of 0.2 from 1 training"):
        carve_validation(one_sample, 0.2, seed=0)


@pytest.mark.parametrize("fraction, seed, message", [
    (0, 0, "validation fraction must be between 0 and 1, got 0"),
    (1.5, 0, "got 1.5"),
    (True, 0, "got True"),
    (0.2, -1, "seed must be a non-negative integer, got -1"),
    (0.2, 1.5, "got 1.5"),
])
def test_bad_split_arguments_are_config_errors(tf_data, fraction, seed, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        carve_validation(tf_data, fraction, seed)


# -- re-batching ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["tf", "py"])
@pytest.mark.parametrize("batch_size, expected", [(12, [12] * 8 + [4]), (5, [5] * 20), (300, [100])])
def test_rebatch_serves_the_trials_batch_size_in_order(tf_data, py_data, kind, batch_size, expected):
    data = tf_data if kind == "tf" else py_data
    batches = rebatch(data.train, batch_size, shuffle=False, seed=0)
    assert sizes(batches) == expected and ids(batches) == list(range(100))
    assert ids(evaluation_batches(data.train, batch_size)) == list(range(100))


@pytest.mark.parametrize("kind", ["tf", "py"])
def test_shuffled_batches_are_a_seeded_permutation_that_changes_every_epoch(tf_data, py_data, kind):
    data = tf_data if kind == "tf" else py_data

    def two_epochs(seed: int) -> list[list[int]]:
        batches = rebatch(data.train, 10, shuffle=True, seed=seed)
        epochs = []
        for _ in range(2):
            epochs.append(ids(batches))
            if kind == "py":
                batches.on_epoch_end()
        return epochs

    first, second = two_epochs(1)
    assert sorted(first) == sorted(second) == list(range(100))
    assert first != list(range(100)) and first != second
    assert two_epochs(1) == [first, second] and two_epochs(2)[0] != first


def test_a_shuffled_py_dataset_keeps_its_batches_together_and_sizes(py_data):
    batches = rebatch(py_data.train, 10, shuffle=True, seed=0)
    assert sizes(batches) == [10] * 10
    order = ids(batches)
    starts = [order[i] for i in range(len(order)) if order[i] % 8 == 0]
    assert all(order[order.index(s):order.index(s) + min(8, 100 - s)] == list(range(s, min(s + 8, 100)))
               for s in starts)


def test_a_carved_py_part_rebatches_with_its_short_batch_last(py_data):
    fit, val = carve_validation(py_data, 0.25, seed=3)
    assert sorted(ids(rebatch(fit, 7, shuffle=True, seed=0))) == sorted(ids(fit))
    assert ids(evaluation_batches(val, 5)) == ids(val)
    tf_fit, tf_val = carve_validation(streamed_dataset((tf_batches(*images(100)), tf_batches(*images(8)), 3),
                                                       "tf"), 0.25, seed=3)
    served = sizes(rebatch(tf_fit, 16, shuffle=False, seed=0))
    assert set(served[:-1]) == {16} and 0 < served[-1] <= 16 and sum(served) == sum(sizes(tf_fit)) == \
        100 - int(validation_positions(0.25, 3)[:100].sum())


def test_a_source_batch_shared_by_two_batches_is_read_once():
    source = ArrayBatches(*images(64))
    batches = rebatch(source, 4, shuffle=False, seed=0)
    source.reads.clear()
    assert ids(batches) == list(range(64)) and source.reads == list(range(8))


def test_a_py_dataset_with_uneven_batches_cannot_be_rebatched():
    x, y = images(23)
    batches = rebatch(UnevenBatches(x, y), 4, shuffle=False, seed=0)
    with pytest.raises(ConfigError, match="cannot re-batch UnevenBatches to batches of 4: its batch 1 has 7 "
                                          "samples but its first has 8; .* every batch but the last"):
        ids(batches)
    x, y = images(24)
    with pytest.raises(ConfigError, match="its batch 2 has 12 samples but its first has 6"):
        rebatch(LongLast(x, y, 6), 4, shuffle=False, seed=0)


class LongLast(ArrayBatches):
    def __len__(self) -> int:
        return 3

    def __getitem__(self, index: int):
        return (self.x[6 * index:6 * index + 6], self.y[6 * index:6 * index + 6]) if index < 2 else \
            (self.x[12:], self.y[12:])


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True, "8"])
def test_a_bad_batch_size_is_a_config_error(tf_data, batch_size):
    with pytest.raises(ConfigError, match=f"batch size must be a positive integer, got {batch_size!r}"):
        rebatch(tf_data.train, batch_size, shuffle=False, seed=0)


def test_only_streams_can_be_rebatched():
    with pytest.raises(ConfigError, match="cannot re-batch ndarray"):
        rebatch(np.zeros((4, 2)), 2, shuffle=False, seed=0)


def test_a_py_rebatch_keeps_the_sources_workers():
    source = ArrayBatches(*images(32), workers=2)
    assert rebatch(source, 4, shuffle=False, seed=0).workers == 2


@pytest.mark.filterwarnings("ignore:Your input ran out of data")  # Keras, on a set of unknown length
@pytest.mark.parametrize("kind", ["tf", "py"])
def test_model_fit_trains_on_rebatched_streams(kind):
    rng = np.random.default_rng(0)
    x = rng.random((120, *SHAPE), dtype=np.float32)
    y = (np.arange(120) % 3).astype(np.int64)
    make = tf_batches if kind == "tf" else ArrayBatches
    data = streamed_dataset((make(x, y, 16), make(x[:20], y[:20], 16), 3), kind)
    fit, val = carve_validation(data, 0.2, seed=0)
    model = keras.Sequential([keras.Input(SHAPE), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(rebatch(fit, 10, shuffle=True, seed=0), validation_data=evaluation_batches(val, 32),
                        epochs=2, shuffle=False, verbose=0)
    assert len(history.history["val_loss"]) == 2
    assert set(model.evaluate(evaluation_batches(data.test, 7), verbose=0, return_dict=True)) >= {"accuracy"}


# -- streaming under a real memory limit ------------------------------------------------------
#: Runs in a fresh interpreter: ~3 GiB of synthetic images streamed under an address-space limit of
#: the process's size after TensorFlow's start plus 1.5 GiB, then materialised under the same limit.
_UNDER_LIMIT = textwrap.dedent("""
    import json, resource, sys
    import numpy as np
    import keras
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(2)
    from symtuner.data.streams import carve_validation, evaluation_batches, rebatch, streamed_dataset

    KIND, SIDE, BATCH, N = sys.argv[1], 64, 256, 65536  # 65536 x 64 x 64 x 3 float32 = 3 GiB
    MARGIN = 3 * 2**29  # 1.5 GiB: streaming with a shuffle buffer takes about 0.9 GiB of it here

    def batch(index, n=BATCH):
        x = np.full((n, SIDE, SIDE, 3), (index % 7) / 7.0, dtype=np.float32)
        return x, (np.arange(index * BATCH, index * BATCH + n) % 3).astype(np.int64)

    def generate(n_batches=N // BATCH):
        for index in range(n_batches):
            yield batch(index)

    class Synthetic(keras.utils.PyDataset):
        def __init__(self, n_batches):
            super().__init__()
            self.n_batches = n_batches
        def __len__(self):
            return self.n_batches
        def __getitem__(self, index):
            return batch(index)

    def vm_size():
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))

    def make_train(n_batches):
        if KIND == "py":
            return Synthetic(n_batches)
        spec = (tf.TensorSpec((None, SIDE, SIDE, 3), tf.float32), tf.TensorSpec((None,), tf.int64))
        return tf.data.Dataset.from_generator(lambda: generate(n_batches), output_signature=spec)

    train, test = make_train(N // BATCH), make_train(1)
    data = streamed_dataset((train, test, 3), "synthetic")
    model = keras.Sequential([keras.Input((SIDE, SIDE, 3)), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    small = streamed_dataset((make_train(2), test, 3), "warm-up")  # start the threads that fit needs
    model.fit(rebatch(small.train, 128, shuffle=True, seed=0), epochs=1, shuffle=False, verbose=0)
    limit = vm_size() + MARGIN
    result = {"data_bytes": N * SIDE * SIDE * 3 * 4, "margin": MARGIN, "limit": limit}
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    result["served"] = sum(len(y) for _, y in rebatch(data.train, 200, shuffle=True, seed=0))
    fit, val = carve_validation(data, 0.1, seed=0)
    history = model.fit(rebatch(fit, 128, shuffle=True, seed=0), validation_data=evaluation_batches(val, 512),
                        epochs=1, shuffle=False, verbose=0)
    result["fitted"] = len(history.history["loss"]) == 1 and "val_loss" in history.history
    result["vm_after"] = vm_size()
    try:
        whole = np.concatenate([x for x, _ in generate()])
        result["materialised"] = "no MemoryError: " + str(whole.nbytes)
    except MemoryError:
        result["materialised"] = "MemoryError"
    print("RESULT " + json.dumps(result))
""")


@pytest.mark.parametrize("kind", ["tf", "py"])
def test_a_set_larger_than_the_memory_limit_streams_through_fit(kind):
    """The limit is on address space (RLIMIT_AS), set once TensorFlow has started and trained once.

    Threads reserve address space without storing anything (8 MiB stacks, and glibc's 64 MiB malloc
    arenas), so the subprocess caps TensorFlow's thread pools at 2 threads, MALLOC_ARENA_MAX=2 caps
    the arenas, and a two-batch warm-up fit starts the threads before the limit is measured
    (VmSize in /proc/self/status): what is left of the margin is then the room for data.
    """
    env = dict(os.environ, MALLOC_ARENA_MAX="2", TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    done = subprocess.run([sys.executable, "-c", _UNDER_LIMIT, kind], capture_output=True, text=True,
                          timeout=180, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    result = json.loads(lines[-1][len("RESULT "):])
    assert result["data_bytes"] >= 2 * result["margin"]
    assert result["served"] == 65536 and result["fitted"]
    assert result["materialised"] == "MemoryError"
