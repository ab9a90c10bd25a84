import numpy as np


def tiny():
    rng = np.random.default_rng(0)
    x = rng.random((48, 28, 28, 1), dtype=np.float32)
    y = np.arange(48) % 3
    return x[:40], x[40:], y[:40], y[40:], 3
