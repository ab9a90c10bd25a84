"""The diagnosis of a training seen epoch by epoch, for the callbacks of any framework (Keras, Lightning).

A :class:`TrainingWatch` collects each epoch's logged metrics, says whether
the loss has diverged or exploded (the rules run on the epochs so far), and
diagnoses the whole run at its end. No framework is imported here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from symtuner.core.errors import ConfigError
from symtuner.core.records import Diagnosis, LearningCurve
from symtuner.core.series import normalise_series
from symtuner.symbolic.engine import diagnose_partial
from symtuner.symbolic.facts import curve_facts
from symtuner.tuning.actions import OPPOSITES
from symtuner.tuning.rulebase import rules_engine


class TrainingWatch:
    """Epoch logs in, diagnoses out. ``n_classes``: the class count (None: losses read on the scale of the
    first epoch, or of ``loss_scale``); ``rules``: a directory of ``.pl`` files extending the shipped rules."""

    def __init__(self, n_classes: int | None = None, rules: str | Path | None = None,
                 loss_scale: float | None = None) -> None:
        if loss_scale is not None and (isinstance(loss_scale, bool) or not isinstance(loss_scale, (int, float))
                                       or not 0 < loss_scale < math.inf):
            raise ConfigError(f"loss_scale must be a positive number, got {loss_scale!r}")
        if n_classes is not None and (isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 1):
            raise ConfigError(f"n_classes must be a positive integer, got {n_classes!r}")
        self.n_classes = n_classes
        self.loss_scale = loss_scale
        self.engine = rules_engine(rules)
        self.history: dict[str, list[float]] = {}

    def reset(self) -> None:
        self.history = {}

    def add(self, logs: Mapping[str, Any]) -> None:
        """One epoch's logs (values that are not numbers are skipped)."""
        for key, value in logs.items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            self.history.setdefault(key, []).append(number)

    @property
    def has_loss(self) -> bool:
        return "loss" in self.history

    def curve(self) -> LearningCurve:
        lengths = {len(values) for values in self.history.values()}
        n = min(lengths) if lengths else 0
        return LearningCurve.from_history(normalise_series({key: v[:n] for key, v in self.history.items()}))

    def diagnose(self, n_classes: int | None = None) -> Diagnosis:
        """The diagnosis of the epochs so far."""
        curve = self.curve()
        classes = n_classes if n_classes is not None else self.n_classes
        return diagnose_partial(curve, curve.n_epochs, classes, self.engine, self.loss_scale, OPPOSITES)

    def lost(self, n_classes: int | None = None) -> Diagnosis | None:
        """The diagnosis so far when the rules call the training lost (``lost/1``: the loss diverged,
        exploded, or blew up and then stopped moving), else None."""
        curve = self.curve()
        classes = n_classes if n_classes is not None else self.n_classes
        if not self.engine.lost(curve_facts(curve, classes, self.loss_scale)):
            return None
        return self.diagnose(n_classes)


def format_diagnosis(diagnosis: Diagnosis) -> str:
    """The diagnosis as a few lines of text (what the callbacks print)."""
    lines = ["symtuner diagnosis: " + (", ".join(diagnosis.problems) or "no problem found")]
    if diagnosis.causes:
        lines.append("  causes: " + ", ".join(f"{s} <- {c}" for s, c in diagnosis.causes.items()))
    if diagnosis.actions:
        lines.append("  suggested: " + ", ".join(f"{a.name} (for {a.problem}, p {a.probability:.2f})"
                                                for a in diagnosis.actions))
    lines.append("  why: " + diagnosis.explanation)
    return "\n".join(lines)
