"""Symbolic early stopping: the diagnosis rules, after every epoch, on the curve so far.

A trial is stopped when the rules' ``stop/1`` holds (rules/diagnosis.pl): the
network is lost (``lost/1``: its loss diverged, exploded, or blew up and
stopped moving), it is stuck, or it cannot plausibly
beat the best trial so far. "Plausibly" is an optimistic projection: the
trial's best objective so far plus its best epoch-to-epoch gain of the last
``GAIN_EPOCHS`` epochs for every epoch left. The epochs saved buy more trials
when the study has an epoch budget.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from symtuner.core.records import LearningCurve
from symtuner.symbolic.engine import SymbolicEngine, stop_reasons

#: The projection uses the best gain among this many last epoch-to-epoch steps.
GAIN_EPOCHS = 3


def projection(values: Sequence[float], epochs_left: int) -> float:
    """Best value so far plus the best recent gain per epoch for every epoch left (higher is better)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return -math.inf
    steps = [b - a for a, b in zip(values, values[1:]) if math.isfinite(a) and math.isfinite(b)]
    gain = max([0.0, *steps[-GAIN_EPOCHS:]])
    return max(finite) + gain * max(0, epochs_left)


class SymbolicStopper:
    """Called with the curve so far after every epoch; returns why to stop ("" to go on).

    ``best`` is the best objective of the study so far (None before the first
    complete trial); ``maximize`` says whether the objective (``val_accuracy``
    or ``val_loss``) grows better upwards.
    """

    def __init__(self, engine: SymbolicEngine, n_classes: int | None, epochs: int, best: float | None,
                 objective: str, maximize: bool, loss_scale: float | None = None) -> None:
        self.engine = engine
        self.loss_scale = loss_scale
        self.n_classes = n_classes
        self.epochs = epochs
        self.best = best
        self.objective = objective
        self.maximize = maximize

    def __call__(self, curve: LearningCurve) -> str:
        if curve.n_epochs >= self.epochs:
            return ""
        series = curve.series(self.objective)
        sign = 1.0 if self.maximize else -1.0
        left = self.epochs - curve.n_epochs
        study = {"epochs_left": float(left)}
        if self.best is not None and math.isfinite(self.best) and series:
            projected = projection([sign * v for v in series], left)
            if math.isfinite(projected):
                study |= {"has_best": 1.0, "best_objective": sign * self.best, "projected_objective": projected}
        reasons = stop_reasons(curve, self.n_classes, self.engine, study, self.loss_scale)
        return "; ".join(reasons)
