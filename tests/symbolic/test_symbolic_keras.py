"""End to end: real (tiny) Keras trainings diagnosed by the shipped rules."""

from __future__ import annotations

import os

import pytest

from symtuner.symbolic.engine import SymbolicEngine, diagnose_history
from symtuner.symbolic.rules import load_rules


def train(optimizer_name: str, lr: float, epochs: int) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    y = digits.target
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    optimizer = keras.optimizers.Adam(lr) if optimizer_name == "adam" else keras.optimizers.SGD(lr)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x[:600], y[:600], validation_data=(x[1400:], y[1400:]), epochs=epochs,
                        batch_size=32, verbose=0)
    return history.history


@pytest.mark.keras
def test_real_trainings_with_wrong_learning_rates_are_diagnosed():
    engine = SymbolicEngine(load_rules())
    too_high = diagnose_history(train("adam", 1.0, 5), 10, engine)
    assert "high_lr" in too_high.problems, too_high.explanation
    assert [a.name for a in too_high.actions] == ["decr_lr"]  # the optimizer's own range first
    too_low = diagnose_history(train("sgd", 1e-3, 5), 10, engine)
    assert too_low.problems == ("underfitting", "low_lr"), too_low.explanation
    assert too_low.causes == {"underfitting": "low_lr"}
    assert [a.name for a in too_low.actions] == ["inc_lr"]
