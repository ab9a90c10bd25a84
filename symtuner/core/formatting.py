"""Numbers and scores in words, as every output of symtuner writes them (log lines, console, reports)."""

from __future__ import annotations

import math
from typing import Any


def fmt(value: Any, digits: int = 4) -> str:
    """A value for display: ``-`` for none or a non-finite float, fixed or scientific notation by size."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e-3 or abs(value) >= 1e4 else f"{value:.{digits}f}"
    return str(value)


def param_text(value: Any, digits: int = 3) -> str:
    """A hyper-parameter's value or bound in ``digits`` significant digits (``0.000214``, ``0.0015``,
    ``1e-05``, ``507``), the same in every line that prints it: a trial's start, its description, the
    search space, the change an action made."""
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.{digits}g}"
    return str(value)


def test_score(trial: Any) -> str:
    """A trial's (or a training result's) test score in words: its accuracy, or a regression's test loss."""
    accuracy = getattr(trial, "test_accuracy", None)
    if accuracy is not None and math.isfinite(accuracy):
        return f"test accuracy {accuracy:.4f}"
    return f"test loss {fmt(trial.test_loss)}"
