"""Turn one learning curve into the numeric facts the diagnosis rules read.

Pure and ProbLog-free: every value is a plain, finite Python float, so the
facts can be stored, shown and injected into a logic program as numbers.
A curve holding NaN or infinities (a diverged training) gets the fact
``diverged = 1.0``; its non-finite points are replaced before anything is
computed: a loss by ``DIVERGED_LOSS_FACTOR`` times the larger of ln(n_classes)
and the largest finite loss seen, an accuracy by chance level (1/n_classes).
Losses are cross-entropies, so ln(n_classes) (the loss of a uniform guess)
is the scale the rules measure them against.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

from symtuner.errors import ConfigError
from symtuner.records import LearningCurve

#: Weight of the previous value in the exponentially smoothed training loss.
SMOOTHING = 0.6

#: A non-finite loss stands for "this many times the worst finite loss".
DIVERGED_LOSS_FACTOR = 10.0

#: Losses beyond this magnitude count as diverged, like NaN and infinities
#: (it keeps every derived fact, such as areas, finite).
MAX_LOSS = 1e100

#: Epoch-to-epoch loss changes smaller than this times ln(n_classes) are flat:
#: they count neither as rising nor as falling steps.
FLAT_STEP = 1e-4

#: Relative rises are measured against the previous loss, but never against
#: less than this times ln(n_classes): near-zero losses jitter harmlessly.
RISE_FLOOR = 0.01

#: Every fact ``curve_facts`` returns, in a stable order (rules may read any).
FACT_NAMES = (
    "n_epochs", "n_classes", "ln_classes", "diverged",
    "last_loss", "last_val_loss", "last_accuracy", "last_val_accuracy",
    "acc_gap", "loss_gap",
    "first_loss", "min_loss", "max_loss", "best_accuracy",
    "first_val_loss", "min_val_loss",
    "smoothed_loss", "smoothed_loss_min", "smoothed_rebound",
    "rising_steps", "falling_steps", "smoothed_rising_steps", "smoothed_falling_steps",
    "turns", "mean_rise",
    "val_loss_area", "val_loss_line_area",
    "last_fall_share",
)


def _check_n_classes(n_classes: object) -> int:
    if isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral) or int(n_classes) < 2:
        raise ConfigError(f"the number of classes must be an integer >= 2, got {n_classes!r}")
    return int(n_classes)


def _usable_loss(value: float) -> bool:
    return math.isfinite(value) and abs(value) <= MAX_LOSS


def _finite_accuracies(values: Sequence[float], chance: float, key: str) -> list[float]:
    for epoch, value in enumerate(values, start=1):
        if math.isfinite(value) and not 0.0 <= value <= 1.0:
            raise ConfigError(f"{key} values must lie in [0, 1], got {value!r} at epoch {epoch}")
    return [v if math.isfinite(v) else chance for v in values]


def smooth(values: Sequence[float], weight: float = SMOOTHING) -> list[float]:
    """Exponential smoothing: ``s[t] = weight * s[t-1] + (1 - weight) * x[t]``."""
    out: list[float] = []
    for value in values:
        out.append(value if not out else weight * out[-1] + (1.0 - weight) * value)
    return out


def _steps(values: Sequence[float], flat: float) -> tuple[int, int]:
    """(rising, falling) epoch-to-epoch steps; changes within ``flat`` are neither."""
    rising = falling = 0
    for before, after in zip(values, values[1:]):
        if after - before > flat:
            rising += 1
        elif before - after > flat:
            falling += 1
    return rising, falling


def _turns(values: Sequence[float], flat: float) -> int:
    """How often the loss changes direction (flat steps are skipped)."""
    signs = [1 if after - before > flat else -1
             for before, after in zip(values, values[1:]) if abs(after - before) > flat]
    return sum(1 for a, b in zip(signs, signs[1:]) if a != b)


def _mean_relative_rise(values: Sequence[float], flat: float, floor: float) -> float:
    """Mean size of the rising steps, each relative to the loss before it."""
    rises = [(after - before) / max(before, floor)
             for before, after in zip(values, values[1:]) if after - before > flat]
    return sum(rises) / len(rises) if rises else 0.0


def _last_fall_share(values: Sequence[float], flat: float) -> float:
    """The last epoch's fall of the loss, as a share of its mean fall per epoch.

    About 1 for a loss still falling in a straight line, well below 1 for one
    that has levelled off, 0 for one that ends without falling (or did not
    fall at all). With a single epoch there is no step: 0.
    """
    if len(values) < 2:
        return 0.0
    total = values[0] - values[-1]
    last = values[-2] - values[-1]
    if total <= flat or last <= 0:
        return 0.0
    return last / (total / (len(values) - 1))


def _trapezoid(values: Sequence[float]) -> float:
    return sum((a + b) / 2.0 for a, b in zip(values, values[1:]))


def curve_facts(curve: LearningCurve, n_classes: int) -> dict[str, float]:
    """The facts of one training's curves (see ``FACT_NAMES``), all finite floats.

    Gaps are signed (train minus validation accuracy, validation minus train
    loss), so a validation score better than the training one is no gap.
    """
    k = _check_n_classes(n_classes)
    if not isinstance(curve, LearningCurve):
        raise ConfigError(f"curve_facts needs a LearningCurve, got {type(curve).__name__}")
    n = curve.n_epochs
    if n == 0:
        raise ConfigError("a learning curve needs at least one epoch")
    ln_k = math.log(k)
    chance = 1.0 / k
    acc = _finite_accuracies(curve.accuracy, chance, "accuracy")
    val_acc = _finite_accuracies(curve.val_accuracy, chance, "val_accuracy")
    all_losses = (*curve.loss, *curve.val_loss)
    diverged = (not all(_usable_loss(v) for v in all_losses)
                or not all(math.isfinite(v) for v in (*curve.accuracy, *curve.val_accuracy)))
    blown_up = DIVERGED_LOSS_FACTOR * max([ln_k, *(abs(v) for v in all_losses if _usable_loss(v))])
    loss = [v if _usable_loss(v) else blown_up for v in curve.loss]
    val_loss = [v if _usable_loss(v) else blown_up for v in curve.val_loss]

    flat = FLAT_STEP * ln_k
    smoothed = smooth(loss)
    rising, falling = _steps(loss, flat)
    s_rising, s_falling = _steps(smoothed, flat)
    facts = {
        "n_epochs": n,
        "n_classes": k,
        "ln_classes": ln_k,
        "diverged": 1.0 if diverged else 0.0,
        "last_loss": loss[-1],
        "last_val_loss": val_loss[-1],
        "last_accuracy": acc[-1],
        "last_val_accuracy": val_acc[-1],
        "acc_gap": acc[-1] - val_acc[-1],
        "loss_gap": val_loss[-1] - loss[-1],
        "first_loss": loss[0],
        "min_loss": min(loss),
        "max_loss": max(loss),
        "best_accuracy": max(acc),
        "first_val_loss": val_loss[0],
        "min_val_loss": min(val_loss),
        "smoothed_loss": smoothed[-1],
        "smoothed_loss_min": min(smoothed),
        "smoothed_rebound": smoothed[-1] - min(smoothed),
        "rising_steps": rising,
        "falling_steps": falling,
        "smoothed_rising_steps": s_rising,
        "smoothed_falling_steps": s_falling,
        "turns": _turns(loss, flat),
        "mean_rise": _mean_relative_rise(loss, flat, RISE_FLOOR * ln_k),
        "val_loss_area": _trapezoid(val_loss),
        "val_loss_line_area": (val_loss[0] + val_loss[-1]) / 2.0 * (n - 1),
        "last_fall_share": _last_fall_share(loss, flat),
    }
    return {name: float(facts[name]) for name in FACT_NAMES}
