"""Small params, data and models shared by the neural tests."""

from __future__ import annotations

import os
from types import MappingProxyType

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from symtuner.data import Dataset, validate_dataset  # noqa: E402


@pytest.fixture(scope="session")
def small_params_template() -> MappingProxyType:
    """The default network's HPs with tiny layers, so building is quick."""
    return MappingProxyType({"unit_c1": 4, "dr1_2": 0.1, "unit_c2": 6, "unit_d": 8, "dr_f": 0.2,
                             "learning_rate": 1e-2, "batch_size": 16, "optimizer": "Adam",
                             "activation": "relu"})


@pytest.fixture
def small_params(small_params_template) -> dict:
    """A fresh, changeable copy of the tiny HPs."""
    return dict(small_params_template)


@pytest.fixture(scope="session")
def tiny_dataset() -> Dataset:
    """A learnable 3-class set of 12x12 images: the class sets the bright quadrant."""
    rng = np.random.default_rng(0)
    n = 96
    y = np.arange(n) % 3
    x = rng.random((n, 12, 12, 1)).astype(np.float32) * 0.3
    for i, label in enumerate(y):
        row, col = divmod(int(label), 2)
        x[i, row * 6:(row + 1) * 6, col * 6:(col + 1) * 6, 0] += 0.7
    return validate_dataset(x[:72], x[72:], y[:72], y[72:], 3, name="tiny")
