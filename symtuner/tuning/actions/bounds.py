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
from symtuner.core.space import Categorical, Integer, Real, SearchSpace
from symtuner.tuning.actions.base import ActionContext, NotApplicable, plain_value

LEARNING_RATE = "learning_rate"
#: The categorical HP whose choice a learning rate belongs to.
OPTIMIZER = "optimizer"
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
    below it. An upper bound is the user's first guess, and it is raised
    (times ``neurons_factor``, rounded up) only where the diagnosed trial's
    width lay at it (within that same gap): the widest networks tried
    underfit too, so the evidence points past the first range. A dimension
    that can move neither way is left as it is.
    """
    settings = ctx.settings
    dims = [d for d in space.dimensions if d.name.startswith(UNITS_PREFIX) and isinstance(d, Integer)]
    if not dims:
        raise NotApplicable(f"inc_neurons: the search space has no integer dimension named {UNITS_PREFIX}...")
    new = space
    for dim in dims:
        high = dim.high
        width = _positive(ctx.trial(dim.name))
        if width is not None and width >= dim.high - max(1, math.floor(dim.high * settings.min_width_fraction)):
            high = math.ceil(dim.high * settings.neurons_factor)
        target = _raised_low(Integer(dim.name, dim.low, high), settings.neurons_factor, settings.min_width_fraction)
        if target is not None or high != dim.high:
            new = new.with_bounds(dim.name, target if target is not None else dim.low, high)
    if new is space:
        raise NotApplicable(f"inc_neurons: every unit/filter lower bound ({_bounds_text(dims)}) is already "
                            f"as close to its upper bound as allowed, and no trial's width lay at its upper bound")
    return new, arch


def inc_batch_size(space: SearchSpace, arch: Architecture,
                   ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Multiply the batch-size lower bound by ``batch_size_factor``, keeping it below the upper bound.

    The upper bound is the user's first guess; it is raised (times
    ``batch_size_factor``) only where the diagnosed trial's batch lay at it
    (within ``min_width_fraction`` of it): the largest batches tried were too
    noisy too, so the evidence points past the first range. Never above
    training images / ``min_steps_per_epoch`` (when the context knows the
    training size): a batch as large as the data set is one step per epoch.
    """
    if BATCH_SIZE not in space:
        raise NotApplicable(f"inc_batch_size: the search space has no {BATCH_SIZE!r} dimension")
    dim = space[BATCH_SIZE]
    if not isinstance(dim, Integer):
        raise NotApplicable(f"inc_batch_size: {BATCH_SIZE!r} is not an integer dimension")
    settings = ctx.settings
    cap = ctx.n_train // settings.min_steps_per_epoch \
        if ctx.n_train is not None and settings.min_steps_per_epoch > 0 else None
    high = dim.high
    batch = _positive(ctx.trial(BATCH_SIZE))
    if batch is not None and batch >= dim.high - max(1, math.floor(dim.high * settings.min_width_fraction)):
        high = math.ceil(dim.high * settings.batch_size_factor)
        if cap is not None:
            high = max(dim.high, min(high, cap))
    target = _raised_low(Integer(dim.name, dim.low, high), settings.batch_size_factor, settings.min_width_fraction)
    if target is not None and cap is not None:
        target = min(target, cap)
        if target <= dim.low:
            target = None
            if high == dim.high:
                raise NotApplicable(f"inc_batch_size: a lower bound above {cap} would leave fewer than "
                                    f"{settings.min_steps_per_epoch} optimizer steps per epoch on "
                                    f"{ctx.n_train} training images")
    if target is None and high == dim.high:
        raise NotApplicable(f"inc_batch_size: the lower bound {dim.low} is already as close to the upper "
                            f"bound {dim.high} as allowed")
    return space.with_bounds(BATCH_SIZE, target if target is not None else dim.low, high), arch


def decr_lr(space: SearchSpace, arch: Architecture, ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Lower the diagnosed optimizer's learning-rate range: rates at and above the diagnosed trial's
    proved too high for it.

    The anchor is the diagnosed trial's learning rate (the range's geometric
    middle when there is none), raised to the best trial's rate if that is
    higher, inside the range and of the same optimizer, so the best value
    found is never cut off. New high = min(high, anchor); new low = min(low,
    new high / ``lr_factor``), not below ``lr_floor``: the range stays at
    least ``lr_factor`` wide and its bounds are never raised. When that
    changes nothing (the range already ends at the anchor and is wide
    enough), the action is not applicable: the trial says nothing new about
    the rate.

    Learning rates belong to an optimizer (see :func:`_moved`): the move
    changes the diagnosed trial's optimizer's range, and never takes away a
    rate at which another optimizer trained well.
    """
    settings = ctx.settings

    def move(low: float, high: float, anchor: float, best: float | None) -> tuple[float, float]:
        if best is not None and anchor < best <= high:
            anchor = best
        new_high = min(high, anchor)
        new_low = min(low, max(new_high / settings.lr_factor, settings.lr_floor))
        if new_high <= new_low:
            new_high = min(high, new_low * settings.lr_factor)
        if _same(new_low, low) and _same(new_high, high):
            raise NotApplicable(f"decr_lr: {_range_text(space, ctx, low, high)} cannot move down: it ends at "
                                f"{param_text(anchor)} (the diagnosed or the best trial's rate) and reaches down "
                                f"{settings.lr_factor:g}x below it or to the floor {param_text(settings.lr_floor)}")
        return new_low, new_high

    return _moved(space, ctx, "decr_lr", "high_lr", move), arch


def inc_lr(space: SearchSpace, arch: Architecture, ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Raise the diagnosed optimizer's learning-rate range: rates at and below the diagnosed trial's
    proved too low for it.

    Mirror of :func:`decr_lr`: the anchor is the diagnosed trial's rate (the
    geometric middle without one), lowered to the best trial's rate if that
    is lower, inside the range and of the same optimizer. New low = max(low,
    anchor); new high = max(high, new low x ``lr_factor``), not above
    ``lr_ceiling``. When that changes nothing, the action is not applicable.
    """
    settings = ctx.settings

    def move(low: float, high: float, anchor: float, best: float | None) -> tuple[float, float]:
        if best is not None and low <= best < anchor:
            anchor = best
        new_low = max(low, anchor)
        new_high = max(high, min(new_low * settings.lr_factor, settings.lr_ceiling))
        if new_low >= new_high:
            new_low = max(low, new_high / settings.lr_factor)
        if _same(new_low, low) and _same(new_high, high):
            raise NotApplicable(f"inc_lr: {_range_text(space, ctx, low, high)} cannot move up: it starts at "
                                f"{param_text(anchor)} (the diagnosed or the best trial's rate) and reaches up "
                                f"{settings.lr_factor:g}x above it or to the ceiling {param_text(settings.lr_ceiling)}")
        return new_low, new_high

    return _moved(space, ctx, "inc_lr", "low_lr", move), arch


#: An optimizer's move of its learning-rate range: (low, high, anchor, best rate or None) -> new (low, high).
Move = Callable[[float, float, float, "float | None"], tuple[float, float]]


def _moved(space: SearchSpace, ctx: ActionContext, action: str, problem: str, move: Move) -> SearchSpace:
    """The space after moving the diagnosed optimizer's learning-rate range with ``move``.

    A learning-rate diagnosis is about one optimizer at one rate (Keras's
    Adadelta trains well at rates where Adam diverges). Without an
    ``optimizer`` choice in the space (or a trial to read it from) the one
    range moves. Otherwise the diagnosed optimizer's range moves: its own
    range if it has one (``Real.ranges``), else the shared range, after
    every other optimizer on the shared range that trained well at a rate
    the move would leave (the best trial, unless it shows ``problem``, or a
    trial of ``ctx.learned``), or whose own trials were diagnosed with a
    learning-rate problem that says the opposite way (``ctx.rate_diagnoses``:
    ``high_lr`` or ``increasing_loss`` against a move up, ``low_lr`` against
    a move down), has been given the current range as its own. So opposite
    moves answered for two optimizers never cancel: each optimizer's range
    moves only on its own trials' evidence, and an optimizer without evidence
    of its own follows the shared range.
    """
    dim = _lr_dimension(space, action)
    optimizer = ctx.trial(OPTIMIZER)
    choices = space[OPTIMIZER] if OPTIMIZER in space else None
    offered = choices.categories if isinstance(choices, Categorical) else ()
    per_optimizer = len(offered) > 1 and optimizer is not None and optimizer in offered
    low, high = dim.bounds(optimizer) if per_optimizer else (dim.low, dim.high)
    anchor = _anchor(low, high, ctx)
    best = _best_lr(ctx, problem) if not per_optimizer or ctx.best(OPTIMIZER) == optimizer else None
    new_low, new_high = move(low, high, anchor, best)
    if not per_optimizer:
        return space.with_bounds(LEARNING_RATE, new_low, new_high)
    if dim.has_range(optimizer):
        return space.with_range(LEARNING_RATE, OPTIMIZER, optimizer, new_low, new_high)
    left = {other for other, rate in _trained_well(ctx, problem) if not new_low <= rate <= new_high and low <= rate <= high}
    against = {other for other, _, said in ctx.rate_diagnoses if said in _AGAINST[problem]}
    new = space
    for other in offered:
        if other != optimizer and other in left | against and not dim.has_range(other):
            new = new.with_range(LEARNING_RATE, OPTIMIZER, other, low, high)
            new_dim = new[LEARNING_RATE]
            assert isinstance(new_dim, Real)
            dim = new_dim
    return new.with_bounds(LEARNING_RATE, new_low, new_high)


#: Per problem a move answers (``low_lr``: up, ``high_lr``: down), the problems of another optimizer's
#: trials that say its rates must move the other way.
_AGAINST = {"low_lr": ("high_lr", "increasing_loss"), "high_lr": ("low_lr",)}


def _trained_well(ctx: ActionContext, problem: str) -> list[tuple[Any, float]]:
    """(optimizer, learning rate) of the trials known to train well: the best one (unless it shows
    ``problem``) and those of ``ctx.learned``."""
    out = []
    best = _best_lr(ctx, problem)
    if best is not None and ctx.best(OPTIMIZER) is not None:
        out.append((ctx.best(OPTIMIZER), best))
    for params in ctx.learned:
        optimizer, rate = plain_value(params.get(OPTIMIZER)), _positive(plain_value(params.get(LEARNING_RATE)))
        if optimizer is not None and rate is not None:
            out.append((optimizer, rate))
    return out


def _range_text(space: SearchSpace, ctx: ActionContext, low: float, high: float) -> str:
    """``learning_rate [a, b]``, with ``for Adam`` when the space holds a range per optimizer."""
    optimizer = ctx.trial(OPTIMIZER)
    dim = space[LEARNING_RATE]
    whose = f" for {optimizer}" if isinstance(dim, Real) and dim.given == OPTIMIZER and optimizer is not None else ""
    return f"learning_rate [{param_text(low)}, {param_text(high)}]{whose}"


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


def _anchor(low: float, high: float, ctx: ActionContext) -> float:
    """The diagnosed trial's learning rate if it lies in ``low..high``, else the range's geometric middle."""
    value = _positive(ctx.trial(LEARNING_RATE))
    if value is not None and low <= value <= high:
        return value
    return math.sqrt(low * high)


def _positive(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value <= 0:
        return None
    return float(value)


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)


def _bounds_text(dims: list[Any]) -> str:
    return ", ".join(f"{d.name} [{param_text(d.low)}, {param_text(d.high)}]" for d in dims)
