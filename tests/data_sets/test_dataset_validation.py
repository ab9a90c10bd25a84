"""validate_dataset: conversions of good data, one named DataError for bad data."""

from __future__ import annotations

import numpy as np
import pytest

from symtuner.core.errors import DataError
from symtuner.data import Dataset, validate_dataset


def good(**changes):
    rng = np.random.default_rng(0)
    values = {"x_train": rng.random((20, 8, 8, 1)).astype(np.float32),
              "x_test": rng.random((6, 8, 8, 1)).astype(np.float32),
              "y_train": np.arange(20) % 3, "y_test": np.arange(6) % 3, "n_classes": 3}
    values.update(changes)
    return values


def test_good_data_passes_unchanged():
    values = good()
    data = validate_dataset(**values, name="ok")
    assert isinstance(data, Dataset) and data.name == "ok"
    assert data.input_shape == (8, 8, 1) and data.n_train == 20 and data.n_test == 6
    np.testing.assert_array_equal(data.x_train, values["x_train"])
    assert data.y_train.dtype == np.int64 and data.x_train.dtype == np.float32
    assert "20 training and 6 test samples" in data.describe()


def test_positional_order_is_the_seeds():
    values = good()
    data = validate_dataset(values["x_train"], values["x_test"], values["y_train"], values["y_test"], 3)
    assert data.n_train == 20 and data.n_test == 6


def test_one_hot_and_column_labels_become_indices():
    y_train = np.eye(3)[np.arange(20) % 3]
    y_test = (np.arange(6) % 3).reshape(-1, 1)
    data = validate_dataset(**good(y_train=y_train, y_test=y_test))
    np.testing.assert_array_equal(data.y_train, np.arange(20) % 3)
    np.testing.assert_array_equal(data.y_test, np.arange(6) % 3)


def test_grey_uint8_images_get_a_channel_and_unit_range():
    x = np.full((20, 5, 7), 255, np.uint8)
    x[0, 0, 0] = 0
    data = validate_dataset(**good(x_train=x, x_test=x[:6]))
    assert data.x_train.shape == (20, 5, 7, 1) and data.x_train.dtype == np.float32
    assert data.x_train.max() == 1.0 and data.x_train.min() == 0.0


def test_float64_and_integral_float_labels_are_accepted():
    data = validate_dataset(**good(x_train=np.ones((20, 4), np.float64), x_test=np.ones((6, 4)),
                                   y_train=(np.arange(20) % 3).astype(float)))
    assert data.x_train.dtype == np.float32 and data.input_shape == (4,)
    assert data.y_train.tolist() == (np.arange(20) % 3).tolist()


@pytest.mark.parametrize("changes, message", [
    ({"y_train": np.arange(19) % 3}, "x_train has 20 samples but y_train has 19 labels"),
    ({"x_test": np.zeros((5, 8, 8, 1))}, "x_test has 5 samples but y_test has 6 labels"),
    ({"y_test": np.array([0, 1, 2, 3, 0, 1])}, "y_test holds class 3, outside 0..2"),
    ({"y_train": np.full(20, -1)}, "y_train holds class -1"),
    ({"y_train": np.full(20, 0.5)}, "y_train must hold integer class indices, found 0.5"),
    ({"y_train": np.full(20, np.nan)}, "y_train must hold integer class indices, found nan"),
    ({"y_train": np.array(["a"] * 20)}, "y_train must hold class numbers"),
    ({"y_train": np.ones((20, 4))}, "y_train has 4 columns; one-hot labels need n_classes=3"),
    ({"y_train": np.full((20, 3), 0.9)}, "rows are not one-hot"),
    ({"y_train": np.zeros((20, 2, 2))}, r"class indices \(N,\) or one-hot rows"),
    ({"x_train": np.zeros((0, 8, 8, 1)), "y_train": np.zeros(0, int)}, "x_train is empty"),
    ({"x_test": np.zeros((0, 8, 8, 1)), "y_test": np.zeros(0, int)}, "x_test is empty"),
    ({"n_classes": 1}, r"n_classes must be at least 2 for a classification, or 0 for a regression, got 1"),
    ({"n_classes": -2}, r"n_classes must be at least 2 for a classification, or 0 for a regression, got -2"),
    ({"n_classes": 3.0}, r"n_classes must be an integer \(0 for a regression\), got 3.0"),
    ({"n_classes": True}, r"n_classes must be an integer \(0 for a regression\), got True"),
    ({"x_train": np.zeros(20)}, r"x_train must have a sample axis and at least one feature axis, got shape \(20,\)"),
    ({"x_test": np.zeros((6, 9, 8, 1))}, r"x_train samples have shape \(8, 8, 1\) but x_test samples have shape \(9, 8, 1\)"),
    ({"x_train": np.array([["a"]] * 20)}, "x_train must hold numbers"),
])
def test_bad_data_is_named(changes, message):
    with pytest.raises(DataError, match=message):
        validate_dataset(**good(**changes), name="mine")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_inputs_are_found(bad):
    x = good()["x_train"].copy()
    x[13, 2, 3, 0] = bad
    with pytest.raises(DataError, match="mine: x_train holds NaN or infinite values \\(first in sample 13\\)"):
        validate_dataset(**good(x_train=x), name="mine")


def test_numpy_integer_class_count_is_accepted():
    assert validate_dataset(**good(n_classes=np.int64(3))).n_classes == 3
