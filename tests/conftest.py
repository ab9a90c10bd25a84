import numpy as np
import pytest

from symtuner.data import validate_dataset


@pytest.fixture
def tiny_dataset():
    """A small image data set: enough for the loop, never trained on by the simulated executor."""
    rng = np.random.default_rng(0)
    x = rng.random((60, 28, 28, 1), dtype=np.float32)
    y = np.arange(60) % 3
    return validate_dataset(x[:48], x[48:], y[:48], y[48:], 3, name="tiny")
