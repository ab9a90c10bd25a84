"""Actions that move the bounds of existing HPs (dropout, learning rate, units, batch size).

Each returns a new space (the architecture is passed through untouched) whose
bounds never cross (low < high). Old trials keep counting: the space's
``project`` clips their values into the new bounds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from symtuner.core.architecture import Architecture
from symtuner.core.formatting import param_text
from symtuner.core.space import Integer, Real, SearchSpace
from symtuner.tuning.actions.base import ActionContext, NotApplicable, plain_value

LEARNING_RATE = "learning_rate"
BATCH_SIZE = "batch_size"
#: Dropout HPs are the real dimensions whose name starts with this.
DROPOUT_PREFIX = "dr"
#: Unit and filter HPs are the integer dimensions whose name starts with this.
UNITS_PREFIX = "unit_"
#: Moves smaller than this are treated as no move (float noise).
_EPS = 1e-12


def inc_dropout(space: SearchSpace, arch: Architecture, ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Raise every dropout lower bound by ``dropout_step``.

    A bound stops ``dropout_min_width`` below its upper bound, so the range
    never closes; the upper bounds and the architecture (augmentation
    included) are left as they are.
    """
    step, width = ctx.settings.dropout_step, ctx.settings.dropout_min_width
    dims = [d for d in space.dimensions if d.name.startswith(DROPOUT_PREFIX) and isinstance(d, Real)]
    if not dims:
        raise NotApplicable(f"inc_dropout: the search space has no real dimension named {DROPOUT_PREFIX}...")
    new = space
    for dim in dims:
        target = round(min(dim.low + step, dim.high - width), 12)
        if target > dim.low + _EPS:
            new = new.with_bounds(dim.name, target, dim.high)
    if new is space:
        raise NotApplicable(f"inc_dropout: every dropout lower bound ({_bounds_text(dims)}) is within "
                            f"{width:g} of its upper bound")
    return new, arch


def inc_neurons(space: SearchSpace, arch: Architecture, ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Multiply the lower bound of every unit/filter HP by ``neurons_factor`` (rounded up, at least +1).

    A bound stops ``min_width_fraction`` of the upper bound (at least 1)
    below it; upper bounds are the user's limits and are never raised, so a
    dimension whose range cannot shrink further is left as it is.
    """
    settings = ctx.settings
    dims = [d for d in space.dimensions if d.name.startswith(UNITS_PREFIX) and isinstance(d, Integer)]
    if not dims:
        raise NotApplicable(f"inc_neurons: the search space has no integer dimension named {UNITS_PREFIX}...")
    new = space
    for dim in dims:
        target = _raised_low(dim, settings.neurons_factor, settings.min_width_fraction)
        if target is not None:
            new = new.with_bounds(dim.name, target, dim.high)
    if new is space:
        raise NotApplicable(f"inc_neurons: every unit/filter lower bound ({_bounds_text(dims)}) is already "
                            f"as close to its upper bound as allowed")
    return new, arch


def inc_batch_size(space: SearchSpace, arch: Architecture,
                   ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Multiply the batch-size lower bound by ``batch_size_factor``, keeping it below the upper bound.

    Never above training images / ``min_steps_per_epoch`` (when the context
    knows the training size): a batch as large as the data set is one step
    per epoch.
    """
    if BATCH_SIZE not in space:
        raise NotApplicable(f"inc_batch_size: the search space has no {BATCH_SIZE!r} dimension")
    dim = space[BATCH_SIZE]
    if not isinstance(dim, Integer):
        raise NotApplicable(f"inc_batch_size: {BATCH_SIZE!r} is not an integer dimension")
    target = _raised_low(dim, ctx.settings.batch_size_factor, ctx.settings.min_width_fraction)
    if target is None:
        raise NotApplicable(f"inc_batch_size: the lower bound {dim.low} is already as close to the upper "
                            f"bound {dim.high} as allowed")
    if ctx.n_train is not None and ctx.settings.min_steps_per_epoch > 0:
        cap = ctx.n_train // ctx.settings.min_steps_per_epoch
        target = min(target, cap)
        if target <= dim.low:
            raise NotApplicable(f"inc_batch_size: a lower bound above {cap} would leave fewer than "
                                f"{ctx.settings.min_steps_per_epoch} optimizer steps per epoch on "
                                f"{ctx.n_train} training images")
    return space.with_bounds(BATCH_SIZE, target, dim.high), arch


def decr_lr(space: SearchSpace, arch: Architecture, ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Lower the learning-rate range: rates at and above the diagnosed trial's proved too high.

    The anchor is the diagnosed trial's learning rate (the range's geometric
    middle when there is none), raised to the best trial's rate if that is
    higher and inside the range, so the best value found is never cut off.
    New high = min(high, anchor); new low = min(low, new high / ``lr_factor``),
    not below ``lr_floor``: the range stays at least ``lr_factor`` wide and
    its bounds are never raised. When that changes nothing (the range already
    ends at the anchor and is wide enough), the action is not applicable: the
    trial says nothing new about the rate. (Dividing the low again would only
    widen the range with every trial that fails for another reason, e.g. an
    optimizer that barely moves at any rate of the range.)
    """
    dim = _lr_dimension(space, "decr_lr")
    _check_optimizer_evidence("decr_lr", ctx, "high_lr")
    settings = ctx.settings
    anchor = _anchor(dim, ctx)
    best = _best_lr(ctx, "high_lr")
    if best is not None and anchor < best <= dim.high:
        anchor = best
    high = min(dim.high, anchor)
    low = min(dim.low, max(high / settings.lr_factor, settings.lr_floor))
    if high <= low:
        high = min(dim.high, low * settings.lr_factor)
    if _same(low, dim.low) and _same(high, dim.high):
        raise NotApplicable(f"decr_lr: learning_rate [{param_text(dim.low)}, {param_text(dim.high)}] cannot move down: it ends "
                            f"at {param_text(anchor)} (the diagnosed or the best trial's rate) and reaches down "
                            f"{settings.lr_factor:g}x below it or to the floor {param_text(settings.lr_floor)}")
    return space.with_bounds(LEARNING_RATE, low, high), arch


def inc_lr(space: SearchSpace, arch: Architecture, ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Raise the learning-rate range: rates at and below the diagnosed trial's proved too low.

    Mirror of :func:`decr_lr`: the anchor is the diagnosed trial's rate (the
    geometric middle without one), lowered to the best trial's rate if that
    is lower and inside the range. New low = max(low, anchor); new high =
    max(high, new low x ``lr_factor``), not above ``lr_ceiling``. When that
    changes nothing, the action is not applicable.
    """
    dim = _lr_dimension(space, "inc_lr")
    _check_optimizer_evidence("inc_lr", ctx, "low_lr")
    settings = ctx.settings
    anchor = _anchor(dim, ctx)
    best = _best_lr(ctx, "low_lr")
    if best is not None and dim.low <= best < anchor:
        anchor = best
    low = max(dim.low, anchor)
    high = max(dim.high, min(low * settings.lr_factor, settings.lr_ceiling))
    if low >= high:
        low = max(dim.low, high / settings.lr_factor)
    if _same(low, dim.low) and _same(high, dim.high):
        raise NotApplicable(f"inc_lr: learning_rate [{param_text(dim.low)}, {param_text(dim.high)}] cannot move up: it starts "
                            f"at {param_text(anchor)} (the diagnosed or the best trial's rate) and reaches up "
                            f"{settings.lr_factor:g}x above it or to the ceiling {param_text(settings.lr_ceiling)}")
    return space.with_bounds(LEARNING_RATE, low, high), arch


# -- helpers -------------------------------------------------------------------------
def _raised_low(dim: Integer, factor: float, width_fraction: float) -> int | None:
    """The raised lower bound of an integer HP, or None when it cannot move."""
    gap = max(1, math.floor(dim.high * width_fraction))
    target = min(max(dim.low + 1, math.ceil(dim.low * factor - 1e-9)), dim.high - gap)
    return target if target > dim.low else None


def _lr_dimension(space: SearchSpace, action: str) -> Real:
    if LEARNING_RATE not in space:
        raise NotApplicable(f"{action}: the search space has no {LEARNING_RATE!r} dimension")
    dim = space[LEARNING_RATE]
    if not isinstance(dim, Real):
        raise NotApplicable(f"{action}: {LEARNING_RATE!r} is not a real dimension")
    return dim


def _best_lr(ctx: ActionContext, problem: str) -> float | None:
    """The best trial's rate, unless the best trial shows ``problem`` itself (then its rate is no evidence:
    when every trial so far crept along at a too-small rate, the "best" one did too)."""
    if problem in ctx.best_problems:
        return None
    return _positive(ctx.best(LEARNING_RATE))


#: Which side of the diagnosed trial's rate a better trial's rate must lie on to contradict each
#: learning-rate problem: as low or lower for "too low", as high or higher for "too high".
_CONTRADICTS: dict[str, Callable[[float, float], bool]] = {
    "low_lr": lambda best, rate: best <= rate,
    "high_lr": lambda best, rate: best >= rate,
}


def optimizer_evidence(ctx: ActionContext, problem: str | None, among: Sequence[Any] | None = None) -> str:
    """Why the diagnosed trial's optimizer, not its learning rate, failed ("" when nothing says so).

    A learning rate's scale belongs to its optimizer (Adadelta's 1e-3 is not
    Adam's 1e-3). When another optimizer trained well at a rate that
    contradicts the diagnosis (as low or lower for ``low_lr``, as high or
    higher for ``high_lr``; within ``lr_factor`` of the diagnosed trial's
    rate for any other problem), the rate is not what failed. "Trained well":
    the best trial so far, unless it shows ``problem`` itself, or any trial
    of ``ctx.learned``; with ``among``, only one whose optimizer is among
    these choices.
    """
    trial_opt, rate = ctx.trial("optimizer"), _positive(ctx.trial(LEARNING_RATE))
    if trial_opt is None or rate is None:
        return ""
    factor = ctx.settings.lr_factor
    contradicts = _CONTRADICTS.get(problem or "", lambda best, at: at / factor <= best <= at * factor)
    witnesses: list[tuple[str, Any, float | None]] = [("the best trial", ctx.best("optimizer"),
                                                       _best_lr(ctx, problem or ""))]
    witnesses += [("a trial", plain_value(params.get("optimizer")), _positive(plain_value(params.get(LEARNING_RATE))))
                  for params in ctx.learned]
    for who, optimizer, other_rate in witnesses:
        if optimizer is None or other_rate is None or optimizer == trial_opt or not contradicts(other_rate, rate):
            continue
        if among is not None and optimizer not in among:
            continue
        return (f"{who} trained well with {optimizer} at learning rate {param_text(other_rate)}; the diagnosed "
                f"trial's {trial_opt} at {param_text(rate)} failed for its optimizer, not for its rate")
    return ""


def _check_optimizer_evidence(action: str, ctx: ActionContext, problem: str) -> None:
    """Moving the shared range would only hurt the optimizers that work (see :func:`optimizer_evidence`)."""
    why = optimizer_evidence(ctx, problem)
    if why:
        raise NotApplicable(f"{action}: {why}")


def _anchor(dim: Real, ctx: ActionContext) -> float:
    """The diagnosed trial's learning rate if it lies in the range, else the range's geometric middle."""
    value = _positive(ctx.trial(LEARNING_RATE))
    if value is not None and dim.low <= value <= dim.high:
        return value
    return math.sqrt(dim.low * dim.high)


def _positive(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value <= 0:
        return None
    return float(value)


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)


def _bounds_text(dims: list[Any]) -> str:
    return ", ".join(f"{d.name} [{param_text(d.low)}, {param_text(d.high)}]" for d in dims)
