"""Turn one learning curve into the numeric facts the diagnosis rules read.

Pure and ProbLog-free: every value is a plain, finite Python float, so the
facts can be stored, shown and injected into a logic program as numbers.
Nothing here decides a problem: the facts only measure the curve (levels,
trends, gaps, shapes) and the rules compare them with their thresholds.

Scale. A loss is only "high" or "rising a lot" relative to something. For a
classifier trained with cross-entropy whose class count is known, that is
ln(n_classes), the loss of a uniform guess (the same thresholds then serve 2
classes and 1,000). Without a class count (a history from elsewhere, another
loss such as MSE) it is the curve's own first-epoch level. The fact
``loss_scale`` holds the one used; the rules multiply their loss thresholds
by it.

Robustness. Values at "the end of the run" are medians of the last
``END_EPOCHS`` epochs, so one noisy last point cannot decide a gap; the
validation loss's minimum is that of its rolling median of three; training
trends are read on an exponentially smoothed copy (weight ``SMOOTHING`` on
the previous value), as in the original implementation, counting its steps
only at epochs where the loss itself moved.

Missing series. Only the training loss is required. Without accuracy
(``has_accuracy = 0``) or validation series (``has_val = 0``) the facts that
need them are 0 and the rules that read them do not fire.

A curve holding NaN or infinities (a diverged training) gets ``diverged = 1``
and ``diverged_epoch`` (1-based, the first non-finite epoch); its non-finite
points are replaced before anything is computed: a loss by
``DIVERGED_LOSS_FACTOR`` times the larger of the scale and the largest finite
loss seen, an accuracy by chance level.
"""

from __future__ import annotations

import math
import numbers
import statistics
from collections.abc import Sequence

from symtuner.core.errors import ConfigError
from symtuner.core.records import LearningCurve

#: Weight of the previous value in the exponentially smoothed losses.
SMOOTHING = 0.6

#: "The end of the run" is the median of this many last epochs.
END_EPOCHS = 3

#: A non-finite loss stands for "this many times the worst finite loss".
DIVERGED_LOSS_FACTOR = 10.0

#: Losses beyond this magnitude count as diverged, like NaN and infinities
#: (it keeps every derived fact, such as areas, finite).
MAX_LOSS = 1e100

#: Epoch-to-epoch loss changes smaller than this times the scale are flat:
#: they count neither as rising nor as falling steps (float noise).
FLAT_STEP = 1e-4

#: Every fact ``curve_facts`` returns, in a stable order (rules may read any).
FACT_NAMES = (
    "n_epochs", "n_classes", "chance", "ln_classes", "loss_scale", "known_scale",
    "has_val", "has_accuracy", "has_val_accuracy", "diverged", "diverged_epoch",
    "first_loss", "last_loss", "min_loss", "max_loss", "later_max_loss", "end_loss",
    "first_val_loss", "last_val_loss", "min_val_loss", "end_val_loss",
    "last_accuracy", "last_val_accuracy", "best_accuracy", "end_accuracy", "end_val_accuracy",
    "train_skill", "val_skill", "acc_gap", "loss_gap",
    "smoothed_loss", "smoothed_loss_min", "smoothed_rebound",
    "rising_steps", "falling_steps", "smoothed_rising_steps", "smoothed_falling_steps",
    "turns", "mean_rise", "mean_rise_scaled",
    "val_rise", "val_rise_share", "val_rise_epochs", "train_fall_since_val_min",
    "val_loss_area", "val_loss_line_area", "fall_bend",
    "last_fall_share", "late_loss_move", "late_acc_range",
)


#: Facts about the study rather than the curve, added by symbolic early
#: stopping (``symtuner.symbolic.stopping``); 0 in a plain diagnosis. Objectives are
#: "higher is better" (a loss is negated).
STUDY_FACT_NAMES = ("has_best", "best_objective", "projected_objective", "epochs_left")
#: Facts about a study's trial besides its curve (``symtuner.tuning.actions.relax.trial_facts``): whether a
#: dropout or the L2 factor lay in the upper half of its range, whether a dropout was strong, and the
#: optimizer steps of one epoch and of its whole training.
TRIAL_FACT_NAMES = ("dropout_high", "dropout_strong", "l2_high", "epoch_steps", "train_steps")


#: Smallest "flat" step: keeps the shares of a rise finite when the scale is a subnormal number.
_TINY = 1e-300


def _check_n_classes(n_classes: object) -> int | None:
    if n_classes is None:
        return None
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


def _end(values: Sequence[float]) -> float:
    """The run's end value: median of the last ``END_EPOCHS`` values (0 when empty)."""
    return float(statistics.median(values[-END_EPOCHS:])) if values else 0.0


def _steps(values: Sequence[float], flat: float) -> tuple[int, int]:
    """(rising, falling) epoch-to-epoch steps; changes within ``flat`` are neither."""
    rising = falling = 0
    for before, after in zip(values, values[1:]):
        if after - before > flat:
            rising += 1
        elif before - after > flat:
            falling += 1
    return rising, falling


def _moving_steps(smoothed: Sequence[float], raw: Sequence[float], flat: float) -> tuple[int, int]:
    """(rising, falling) steps of the smoothed loss at epochs where the loss itself moved.

    Where the loss is flat the smoothed copy only catches up with an earlier
    move, rising or falling on every epoch by less each time; a loss frozen
    after one jump would otherwise read as rising at every epoch.
    """
    rising = falling = 0
    for i in range(1, len(smoothed)):
        if abs(raw[i] - raw[i - 1]) <= flat:
            continue
        if smoothed[i] - smoothed[i - 1] > flat:
            rising += 1
        elif smoothed[i - 1] - smoothed[i] > flat:
            falling += 1
    return rising, falling


def _turns(values: Sequence[float], flat: float) -> int:
    """How often the loss changes direction (flat steps are skipped)."""
    signs = [1 if after - before > flat else -1
             for before, after in zip(values, values[1:]) if abs(after - before) > flat]
    return sum(1 for a, b in zip(signs, signs[1:]) if a != b)


def _rises(values: Sequence[float], flat: float) -> list[tuple[float, float]]:
    """(rise, level before it) of every rising step."""
    return [(after - before, before) for before, after in zip(values, values[1:]) if after - before > flat]


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


def _fall_bend(values: Sequence[float], flat: float) -> float:
    """How far a falling loss bends below its straight line, as a share of the drop's triangle.

    0 for a straight-line fall, towards 1 for a fast early drop that levels
    off (the usual healthy shape), negative for a fall that speeds up. A loss
    that did not fall gives 1 (no straight-line fall to speak of).
    """
    n = len(values)
    drop = values[0] - values[-1]
    if n < 2 or drop <= flat:
        return 1.0
    line = (values[0] + values[-1]) / 2.0 * (n - 1)
    triangle = drop * (n - 1) / 2.0
    return (line - _trapezoid(values)) / triangle


def _rolling_median(values: Sequence[float]) -> list[float]:
    """Median of each value and its neighbours (one spike cannot make a minimum or a rise)."""
    return [float(statistics.median(values[max(i - 1, 0):i + 2])) for i in range(len(values))]


def _skill(accuracy: float, chance: float) -> float:
    """Share of the way from chance level to a perfect score."""
    return (accuracy - chance) / (1.0 - chance) if chance < 1.0 else 0.0


def infer_chance(scale: float) -> float:
    """Chance accuracy without a class count: a uniform guess over exp(scale) classes."""
    return 1.0 / max(2.0, math.exp(min(scale, math.log(1000.0))))


def curve_facts(curve: LearningCurve, n_classes: int | None = None,
                loss_scale: float | None = None) -> dict[str, float]:
    """The facts of one training's curves (see ``FACT_NAMES``), all finite floats.

    ``n_classes`` (None when unknown) gives chance accuracy and, unless
    ``loss_scale`` is given, the scale ln(n_classes). Gaps are signed (train
    minus validation accuracy, validation minus train loss), so a validation
    score better than the training one is no gap.
    """
    k = _check_n_classes(n_classes)
    if not isinstance(curve, LearningCurve):
        raise ConfigError(f"curve_facts needs a LearningCurve, got {type(curve).__name__}")
    n = curve.n_epochs
    if n == 0:
        raise ConfigError("a learning curve needs at least one epoch")
    has_val = bool(curve.val_loss)
    has_acc = bool(curve.accuracy)
    has_val_acc = bool(curve.val_accuracy)
    all_losses = (*curve.loss, *curve.val_loss)
    finite = [abs(v) for v in all_losses if _usable_loss(v)]
    scale = _scale(curve, k, loss_scale)
    chance = 1.0 / k if k is not None else infer_chance(scale)
    acc = _finite_accuracies(curve.accuracy, chance, "accuracy")
    val_acc = _finite_accuracies(curve.val_accuracy, chance, "val_accuracy")

    bad_epochs = _bad_epochs(curve)
    blown_up = DIVERGED_LOSS_FACTOR * max([scale, *finite])
    loss = [v if _usable_loss(v) else blown_up for v in curve.loss]
    val_loss = [v if _usable_loss(v) else blown_up for v in curve.val_loss]

    flat = max(FLAT_STEP * scale, _TINY)  # a subnormal scale must not make "flat" zero (a division by it)
    end_acc = _end(acc)
    facts: dict[str, float] = {
        "n_epochs": n,
        "n_classes": k or 0,
        "chance": chance,
        "ln_classes": math.log(k) if k is not None else scale,
        "loss_scale": scale,
        "known_scale": 1.0 if (k is not None or loss_scale is not None) else 0.0,
        "has_val": float(has_val),
        "has_accuracy": float(has_acc),
        "has_val_accuracy": float(has_val_acc),
        "diverged": 1.0 if bad_epochs else 0.0,
        "diverged_epoch": bad_epochs[0] + 1 if bad_epochs else 0,
        "first_loss": loss[0],
        "last_loss": loss[-1],
        "min_loss": min(loss),
        "max_loss": max(loss),
        "later_max_loss": max(loss[1:]) if n > 1 else loss[0],
        "end_loss": _end(loss),
        "last_accuracy": acc[-1] if acc else 0.0,
        "best_accuracy": max(acc) if acc else 0.0,
        "end_accuracy": end_acc,
        "train_skill": _skill(end_acc, chance) if acc else 0.0,
        "late_loss_move": max(loss[1:]) - min(loss[1:]) if n > 1 else 0.0,
        "late_acc_range": max(acc[1:]) - min(acc[1:]) if len(acc) > 1 else 0.0,
        "fall_bend": _fall_bend(val_loss if has_val else loss, flat),
    }
    facts |= _loss_shape_facts(loss, scale, flat)
    facts |= _validation_facts(loss, val_loss, acc, val_acc, chance, has_val_acc)
    return {name: float(facts[name]) for name in FACT_NAMES}


def _bad_epochs(curve: LearningCurve) -> list[int]:
    """The epochs (0-based) with a loss that is not usable or an accuracy that is not finite."""
    return [i for i in range(curve.n_epochs) if not all(
        _usable_loss(getattr(curve, key)[i]) if key.endswith("loss") else math.isfinite(getattr(curve, key)[i])
        for key in ("loss", "val_loss", "accuracy", "val_accuracy") if getattr(curve, key))]


def _loss_shape_facts(loss: list[float], scale: float, flat: float) -> dict[str, float]:
    """Facts about the training loss's shape: its smoothed level, its steps, turns and rises."""
    smoothed = smooth(loss)
    rising, falling = _steps(loss, flat)
    s_rising, s_falling = _moving_steps(smoothed, loss, flat)
    rises = _rises(loss, flat)
    return {
        "smoothed_loss": smoothed[-1],
        "smoothed_loss_min": min(smoothed),
        "smoothed_rebound": smoothed[-1] - min(smoothed),
        "rising_steps": rising,
        "falling_steps": falling,
        "smoothed_rising_steps": s_rising,
        "smoothed_falling_steps": s_falling,
        "turns": _turns(loss, flat),
        "mean_rise": sum(r / max(level, flat) for r, level in rises) / len(rises) if rises else 0.0,
        "mean_rise_scaled": sum(r for r, _ in rises) / len(rises) / scale if rises else 0.0,
        "last_fall_share": _last_fall_share(loss, flat),
    }


def _scale(curve: LearningCurve, k: int | None, loss_scale: float | None) -> float:
    if loss_scale is not None:
        if isinstance(loss_scale, bool) or not isinstance(loss_scale, numbers.Real) \
                or not math.isfinite(loss_scale) or loss_scale <= 0:
            raise ConfigError(f"the loss scale must be a positive number, got {loss_scale!r}")
        return float(loss_scale)
    if k is not None:
        return math.log(k)
    firsts = [abs(series[0]) for series in (curve.loss, curve.val_loss)
              if series and _usable_loss(series[0])]
    level = max(firsts) if firsts else 0.0
    return level if level > 0 else 1.0


def _validation_facts(loss: list[float], val_loss: list[float], acc: list[float], val_acc: list[float],
                      chance: float, has_val_acc: bool) -> dict[str, float]:
    """Facts comparing the validation curves with the training ones (0 without them)."""
    n = len(loss)
    facts = {name: 0.0 for name in (
        "first_val_loss", "last_val_loss", "min_val_loss", "end_val_loss", "last_val_accuracy",
        "end_val_accuracy", "val_skill", "acc_gap", "loss_gap", "val_rise", "val_rise_share",
        "val_rise_epochs", "train_fall_since_val_min", "val_loss_area", "val_loss_line_area")}
    if has_val_acc:
        end_val_acc = _end(val_acc)
        facts |= {"last_val_accuracy": val_acc[-1], "end_val_accuracy": end_val_acc,
                  "val_skill": _skill(end_val_acc, chance)}
        if acc:
            facts["acc_gap"] = _end([a - v for a, v in zip(acc, val_acc)])
    if not val_loss:
        return facts
    rolling = _rolling_median(val_loss)
    low = min(range(n), key=lambda i: rolling[i])
    rise = _end(val_loss) - rolling[low]
    facts |= {
        "first_val_loss": val_loss[0],
        "last_val_loss": val_loss[-1],
        "min_val_loss": min(val_loss),
        "end_val_loss": _end(val_loss),
        "loss_gap": _end([v - t for t, v in zip(loss, val_loss)]),
        "val_rise": rise,
        "val_rise_share": rise / rolling[low] if rolling[low] > 0 else 0.0,
        "val_rise_epochs": n - 1 - low,
        "train_fall_since_val_min": smooth(loss)[low] - smooth(loss)[-1],
        "val_loss_area": _trapezoid(val_loss),
        "val_loss_line_area": (val_loss[0] + val_loss[-1]) / 2.0 * (n - 1),
    }
    return facts
