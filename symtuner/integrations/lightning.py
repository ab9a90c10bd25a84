"""symtuner inside PyTorch Lightning: report a define-by-run trial's epochs, or diagnose any run.

    trainer = lightning.Trainer(max_epochs=10, callbacks=[SymtunerCallback(trial)])

reports each epoch's logged metrics (``train_loss``, ``val_loss``,
``train_acc``, ``val_acc`` ... under Keras's names) to ``trial`` and stops the
trainer when ``trial.should_stop()``. ``DiagnosisCallback`` diagnoses any
Lightning run at its end, as the Keras callback does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import lightning.pytorch as pl

from symtuner.core.records import Diagnosis
from symtuner.core.series import canonical_name
from symtuner.integrations.watch import TrainingWatch, format_diagnosis


def epoch_metrics(logged: Mapping[str, Any]) -> dict[str, float]:
    """An epoch's metrics under Keras's names: ``*_step`` values left out, ``*_epoch`` suffixes dropped."""
    out: dict[str, float] = {}
    for key, value in logged.items():
        if key.endswith("_step"):
            continue
        try:
            out[canonical_name(key)] = float(value)
        except (TypeError, ValueError):
            continue
    return out


class SymtunerCallback(pl.Callback):  # type: ignore[misc]
    """Reports each epoch's logged metrics to a define-by-run ``trial`` and stops the trainer when the
    study's stopper says so."""

    def __init__(self, trial: Any) -> None:
        super().__init__()
        self.trial = trial
        self._epoch = 0

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.sanity_checking:
            return
        self.trial.report(self._epoch, **epoch_metrics(trainer.callback_metrics))
        self._epoch += 1
        if self.trial.should_stop():
            trainer.should_stop = True


class DiagnosisCallback(pl.Callback):  # type: ignore[misc]
    """Diagnose the Lightning run it is attached to with symtuner's rules (see the Keras callback of the
    same name): ``.diagnosis`` after ``fit``; printed through ``print_fn`` when ``verbose``."""

    def __init__(self, n_classes: int | None = None, rules: str | Path | None = None,
                 stop_on_divergence: bool = False, verbose: bool = True,
                 print_fn: Callable[[str], None] = print, loss_scale: float | None = None) -> None:
        super().__init__()
        self.watch = TrainingWatch(n_classes, rules, loss_scale)
        self.stop_on_divergence = bool(stop_on_divergence)
        self.verbose = bool(verbose)
        self.print_fn = print_fn
        self.diagnosis: Diagnosis | None = None
        self.stopped: Diagnosis | None = None

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        self.watch.reset()
        self.diagnosis = self.stopped = None

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.sanity_checking:
            return
        self.watch.add(epoch_metrics(trainer.callback_metrics))
        if self.stop_on_divergence and self.watch.has_loss:
            self.stopped = self.watch.lost()
            if self.stopped is not None:
                trainer.should_stop = True
                if self.verbose:
                    self.print_fn(f"symtuner: stopping at epoch {trainer.current_epoch + 1}: "
                                  f"{self.stopped.explanation}")

    def on_fit_end(self, trainer: Any, pl_module: Any) -> None:
        if not self.watch.has_loss:
            return
        self.diagnosis = self.watch.diagnose()
        if self.verbose:
            self.print_fn(format_diagnosis(self.diagnosis))
