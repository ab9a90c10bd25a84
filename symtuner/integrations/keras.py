"""symtuner's diagnosis inside any Keras training: ``DiagnosisCallback``.

    from symtuner.integrations.keras import DiagnosisCallback

    diagnosis = DiagnosisCallback()
    model.fit(x, y, validation_split=0.2, epochs=20, callbacks=[diagnosis])
    diagnosis.diagnosis.problems      # e.g. ("underfitting", "low_lr")

At the end of training the callback prints the problems, their causes, the
suggested actions and the explanation, and keeps them in ``.diagnosis`` (a
``symtuner.core.records.Diagnosis``). With ``stop_on_divergence=True`` it stops
the training as soon as the rules, run on the epochs seen so far, call it
lost (``lost/1``): the loss diverged (NaN or infinite), exploded, or blew up
and then stopped moving. It uses only ``keras`` APIs, so
it works under every Keras backend.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras

from symtuner.core.records import Diagnosis
from symtuner.integrations.watch import TrainingWatch, format_diagnosis


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
        self.watch = TrainingWatch(n_classes, rules, loss_scale)
        self.n_classes = n_classes
        self.loss_scale = loss_scale
        self.engine = self.watch.engine
        self.stop_on_divergence = bool(stop_on_divergence)
        self.verbose = bool(verbose)
        self.print_fn = print_fn
        self.diagnosis: Diagnosis | None = None
        self.stopped: Diagnosis | None = None

    @property
    def history(self) -> dict[str, list[float]]:
        """Every epoch's logged metrics so far, by name."""
        return self.watch.history

    def _classes(self) -> int | None:
        return self.n_classes if self.n_classes is not None else classes_of(self.model)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.watch.reset()
        self.diagnosis, self.stopped = None, None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.watch.add(logs or {})
        if not self.stop_on_divergence or not self.watch.has_loss:
            return
        self.stopped = self.watch.lost(self._classes())
        if self.stopped is not None:
            self.model.stop_training = True
            if self.verbose:
                self.print_fn(f"symtuner: stopping at epoch {epoch + 1}: {self.stopped.explanation}")

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if not self.watch.has_loss:
            return
        self.diagnosis = self.watch.diagnose(self._classes())
        if self.verbose:
            self.print_fn(format_diagnosis(self.diagnosis))


__all__ = ["DiagnosisCallback", "classes_of", "format_diagnosis"]
