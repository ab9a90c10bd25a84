"""Saving a trained model without its optimizer's state."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from symtuner.training.compiling import CompileRule


def save_model(model: Any, path: Path, params: Mapping[str, Any], rule: CompileRule | None = None) -> None:
    """Save a trained model to ``path`` (a ``.keras`` file) without its optimizer's state.

    Adam-like optimizers keep two values per weight, so with their state a
    file is three times the weights, and nothing symtuner does with a saved
    model (predict, evaluate, inspect, export) needs it. Keras 3's
    ``.keras`` format saves the state of the optimizer the model holds
    (``include_optimizer`` applies to HDF5 files only), so the model is
    compiled again first, as it trained (``rule``; symtuner's classifier
    compile when None), with a fresh optimizer that has no state yet: the
    file keeps the compile settings and the weights. It loads with
    ``keras.saving.load_model(path)`` (Keras says that no optimizer state
    was saved) or :func:`symtuner.storage.models.load_model`. The model's metrics
    are reset by the new compile: save after evaluating.
    """
    (rule or CompileRule(n_classes=_classes_of(model) or 10)).compile(model, params)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)


def _classes_of(model: Any) -> int:
    """The output width of a user's classifier (extra metrics need the class count)."""
    width = model.outputs[0].shape[-1] if getattr(model, "outputs", None) else None
    return int(width) if width else 0
