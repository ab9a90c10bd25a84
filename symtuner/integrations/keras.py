"""symtuner's diagnosis inside any Keras training: ``DiagnosisCallback``.

    from symtuner.integrations.keras import DiagnosisCallback

    diagnosis = DiagnosisCallback()
    model.fit(x, y, validation_split=0.2, epochs=20, callbacks=[diagnosis])
    diagnosis.diagnosis.problems      # e.g. ("underfitting", "low_lr")

At the end of training the callback prints the problems, their causes, the
suggested actions and the explanation, and keeps them in ``.diagnosis`` (a
``symtuner.core.records.Diagnosis``). With ``stop_on_divergence=True`` it stops
the training as soon as the rules, run on the epochs seen so far, find the
loss diverged (NaN or infinite) or exploded. It uses only ``keras`` APIs, so
it works under every Keras backend.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras

from symtuner.core.errors import ConfigError
from symtuner.core.records import Diagnosis, LearningCurve
from symtuner.integrations.histories import normalise_series
from symtuner.symbolic.engine import diagnose_partial
from symtuner.tuning.actions import OPPOSITES
from symtuner.tuning.rulebase import rules_engine

#: Reason terms of high_lr that mean the training is lost (stopped with stop_on_divergence).
LOST = ("diverged", "exploded")


def _loss_name(model: Any) -> str:
    loss = getattr(model, "loss", None)
    if isinstance(loss, str):
        return loss
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None)
    return str(name or type(loss).__name__).lower()


def classes_of(model: Any) -> int | None:
    """The class count of a classifier trained with a cross-entropy, else None.

    Taken from the output layer: its width, or 2 for a single sigmoid unit.
    Another loss (MSE, a custom one) has no class count: the diagnosis then
    measures losses against the curve's own first-epoch level.
    """
    if "crossentropy" not in _loss_name(model).replace("_", ""):
        return None
    shape = getattr(model, "output_shape", None)
    if not isinstance(shape, tuple) or not shape or not isinstance(shape[-1], int):
        return None
    return max(2, shape[-1])


class DiagnosisCallback(keras.callbacks.Callback):
    """Diagnose the training it is attached to with symtuner's rules.

    ``n_classes`` overrides the class count read from the model;
    ``loss_scale`` is the loss of a guess that knows nothing, the unit of the
    loss thresholds (for a regression with the MSE: the targets' variance;
    without it, and without a class count, the first epoch's loss); ``rules``
    is a directory of ``.pl`` files extending the shipped rules;
    ``stop_on_divergence`` stops training once the loss has diverged;
    ``verbose`` prints the diagnosis at the end (through ``print_fn``).
    """

    def __init__(self, n_classes: int | None = None, rules: str | Path | None = None,
                 stop_on_divergence: bool = False, verbose: bool = True,
                 print_fn: Callable[[str], None] = print, loss_scale: float | None = None) -> None:
        super().__init__()
        if loss_scale is not None and (isinstance(loss_scale, bool) or not isinstance(loss_scale, (int, float))
                                       or not 0 < loss_scale < float("inf")):
            raise ConfigError(f"loss_scale must be a positive number, got {loss_scale!r}")
        self.n_classes = n_classes
        self.loss_scale = loss_scale
        self.engine = rules_engine(rules)
        self.stop_on_divergence = bool(stop_on_divergence)
        self.verbose = bool(verbose)
        self.print_fn = print_fn
        self.history: dict[str, list[Any]] = {}
        self.diagnosis: Diagnosis | None = None
        self.stopped: Diagnosis | None = None

    def _classes(self) -> int | None:
        return self.n_classes if self.n_classes is not None else classes_of(self.model)

    def _curve(self) -> LearningCurve:
        lengths = {len(values) for values in self.history.values()}
        n = min(lengths) if lengths else 0
        series = {key: values[:n] for key, values in self.history.items()}
        return LearningCurve.from_history(normalise_series(series))

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.history, self.diagnosis, self.stopped = {}, None, None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for key, value in (logs or {}).items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            self.history.setdefault(key, []).append(number)
        if not self.stop_on_divergence or "loss" not in self.history:
            return
        curve = self._curve()
        now = diagnose_partial(curve, curve.n_epochs, self._classes(), self.engine, self.loss_scale,
                               OPPOSITES)
        terms = [reason.term for reason in now.reasons.get("high_lr", ())]
        if any(term.startswith(f"{lost}(") for term in terms for lost in LOST):
            self.stopped = now
            self.model.stop_training = True
            if self.verbose:
                self.print_fn(f"symtuner: stopping at epoch {epoch + 1}: {now.explanation}")

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if "loss" not in self.history:
            return
        curve = self._curve()
        self.diagnosis = diagnose_partial(curve, curve.n_epochs, self._classes(), self.engine, self.loss_scale,
                                          OPPOSITES)
        if self.verbose:
            self.print_fn(format_diagnosis(self.diagnosis))


def format_diagnosis(diagnosis: Diagnosis) -> str:
    """The diagnosis as a few lines of text (what the callback prints)."""
    lines = ["symtuner diagnosis: " + (", ".join(diagnosis.problems) or "no problem found")]
    if diagnosis.causes:
        lines.append("  causes: " + ", ".join(f"{s} <- {c}" for s, c in diagnosis.causes.items()))
    if diagnosis.actions:
        lines.append("  suggested: " + ", ".join(f"{a.name} (for {a.problem}, p {a.probability:.2f})"
                                                for a in diagnosis.actions))
    lines.append("  why: " + diagnosis.explanation)
    return "\n".join(lines)
