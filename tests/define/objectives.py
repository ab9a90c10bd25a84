"""Objectives for the define-by-run tests: synthetic learning curves from the parameters (no training)."""

from __future__ import annotations

import math


def curve_objective(trial, epochs: int = 6):
    """A classifier whose curves depend on the learning rate: too low learns slowly, too high diverges."""
    lr = trial.suggest_float("learning_rate", 1e-5, 1e-1, log=True)
    units = trial.suggest_int("unit_d", 8, 64)
    optimizer = trial.suggest_categorical("optimizer", ["adam", "sgd"])
    if optimizer == "sgd":
        trial.suggest_float("momentum", 0.0, 0.99)  # conditional: asked only under sgd
    speed = min(1.0, lr / 3e-3) * (1.0 if lr < 3e-2 else 0.2)
    ceiling = 0.55 + 0.35 * min(1.0, units / 48)
    acc = 0.1
    for epoch in range(epochs):
        acc = acc + (ceiling - acc) * speed * 0.6
        loss = -math.log(max(acc, 1e-3)) * 1.1
        trial.report(epoch, loss=loss * 0.95, accuracy=min(1.0, acc + 0.02), val_loss=loss, val_accuracy=acc)
        if trial.should_stop():
            break
    return None  # the last reported val_accuracy
