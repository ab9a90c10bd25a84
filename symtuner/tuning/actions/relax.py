"""Actions that reach past the first range where the evidence points there: less regularisation for a
network that underfits, smaller batches for a training that took too few steps.

Each reads the diagnosed trial: a dropout or L2 factor in the upper half of
its range (or a dropout above ``STRONG_DROPOUT``, which drops more than half
the units whatever range it came from) is what "regularised" means here, and its value is where the new
upper bound is cut (that much proved too strong); the lower bound moves down
past the first range (by ``dropout_step``, or to a hundredth of the new upper
L2 bound), since the user's first guess may have been too strong throughout.
Like every change, each is a hypothesis the next trials judge.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from symtuner.core.architecture import L2_NAME, Architecture
from symtuner.core.space import Integer, Real, SearchSpace
from symtuner.tuning.actions.base import ActionContext, NotApplicable
from symtuner.tuning.actions.bounds import BATCH_SIZE, DROPOUT_PREFIX, _positive

#: ``decr_l2`` keeps the L2 range at least this many times wide (high / low).
L2_SPAN = 100.0

#: A dropout rate above this is strong in any range: it drops more than half of the units. Half is the
#: classic rate for hidden units (Srivastava et al., *Dropout*, 2014), with which networks train; it slows
#: learning, while more can stop a network learning at all. Only strong dropout is a cause the rules
#: look at for a network that never learned (fact ``dropout_strong``).
STRONG_DROPOUT = 0.5


def decr_dropout(space: SearchSpace, arch: Architecture, ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Lower every dropout range whose diagnosed value lay in its upper half or was strong
    (above ``STRONG_DROPOUT``).

    New high = the trial's dropout (kept at least ``dropout_min_width`` above
    the new low); new low = low - ``dropout_step``, not below 0. Not
    applicable when the trial's dropouts all lay in the lower halves (the
    network was not much regularised by dropout) or nothing would move.
    """
    settings = ctx.settings
    dims = [d for d in space.dimensions if d.name.startswith(DROPOUT_PREFIX) and isinstance(d, Real)]
    if not dims:
        raise NotApplicable(f"decr_dropout: the search space has no real dimension named {DROPOUT_PREFIX}...")
    new = space
    for dim in dims:
        value = _number(ctx.trial(dim.name))
        if value is None or not _high_dropout(dim, value):
            continue
        low = max(0.0, dim.low - settings.dropout_step)
        high = max(min(value, dim.high), low + settings.dropout_min_width)
        if not (math.isclose(low, dim.low) and math.isclose(high, dim.high)):
            new = new.with_bounds(dim.name, round(low, 12), round(high, 12))
    if new is space:
        raise NotApplicable("decr_dropout: the diagnosed trial's dropouts lay in the lower half of their ranges "
                            f"and at most {STRONG_DROPOUT:g} ({_values(dims, ctx)}): dropout is not what held it back")
    return new, arch


def decr_l2(space: SearchSpace, arch: Architecture, ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Lower the L2 factor's range when the diagnosed trial's factor lay in its upper half (log scale).

    New high = the trial's factor; new low = min(low, new high / ``L2_SPAN``).
    Only with L2 regularisation on (``reg_l2``) and its ``l2`` HP in the space.
    """
    if not arch.l2 or L2_NAME not in space:
        raise NotApplicable("decr_l2: L2 regularisation is off")
    dim = space[L2_NAME]
    if not isinstance(dim, Real) or dim.low <= 0:
        raise NotApplicable(f"decr_l2: {L2_NAME!r} is not a positive real dimension")
    value = _positive(ctx.trial(L2_NAME))
    if value is None or value <= math.sqrt(dim.low * dim.high):
        raise NotApplicable(f"decr_l2: the diagnosed trial's L2 factor ({value}) lay in the lower half of "
                            f"[{dim.low:g}, {dim.high:g}]: L2 is not what held it back")
    high = min(value, dim.high)
    low = min(dim.low, high / L2_SPAN)
    return space.with_bounds(L2_NAME, low, high), arch


def trial_facts(space: SearchSpace, arch: Architecture, params: Mapping[str, Any], n_train: int | None,
                epochs: int | None) -> dict[str, float]:
    """The facts the rules read of a study's trial besides its curve (``TRIAL_FACT_NAMES``).

    - ``dropout_high``: 1.0 when a dropout lay in the upper half of its range or was strong (above
      ``STRONG_DROPOUT``); ``dropout_strong``: 1.0 when a dropout was strong.
    - ``l2_high``: with L2 on, 1.0 when the L2 factor lay in the upper half of its range (log scale).
    - ``epoch_steps`` and ``train_steps``: the optimizer steps of one epoch and of the whole training,
      when the training size is known.
    """
    dropouts = [(d, _number(params.get(d.name))) for d in space.dimensions
                if d.name.startswith(DROPOUT_PREFIX) and isinstance(d, Real)]
    facts = {"dropout_high": float(any(_high_dropout(d, value) for d, value in dropouts)),
             "dropout_strong": float(any(value is not None and value > STRONG_DROPOUT for _, value in dropouts))}
    if arch.l2 and L2_NAME in space and isinstance(space[L2_NAME], Real):
        dim = space[L2_NAME]
        assert isinstance(dim, Real)
        facts["l2_high"] = float(_upper_half(dim, params.get(L2_NAME), log=dim.low > 0))
    batch = _number(params.get(BATCH_SIZE))
    if batch is not None and batch >= 1 and n_train is not None:
        facts["epoch_steps"] = float(math.ceil(n_train / batch))
        if epochs is not None:
            facts["train_steps"] = facts["epoch_steps"] * epochs
    return facts


def _high_dropout(dim: Real, value: Any) -> bool:
    """A dropout in the upper half of its range, or strong (above ``STRONG_DROPOUT``) in any range."""
    number = _number(value)
    return number is not None and (number > STRONG_DROPOUT or _upper_half(dim, number, log=False))


def _upper_half(dim: Real, value: Any, log: bool) -> bool:
    number = _number(value)
    if number is None:
        return False
    middle = math.sqrt(dim.low * dim.high) if log else (dim.low + dim.high) / 2
    return number > middle


def decr_batch_size(space: SearchSpace, arch: Architecture,
                    ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Smaller batches for a training that took too few optimizer steps to finish learning (the rule
    ``decr_batch_size`` reads the fact ``train_steps`` against the threshold ``few_steps``).

    The diagnosed trial's batch proved too large: new high = that batch / ``batch_size_factor``
    (kept above the new low, never raised); new low = low / ``batch_size_factor``, not below
    ``min_batch_size`` (nor raised): past the first range, since it may have been too large
    throughout. Not applicable to a trial whose batch was at most twice ``min_batch_size``: its few
    steps come from a small data set.
    """
    if BATCH_SIZE not in space or not isinstance(space[BATCH_SIZE], Integer):
        raise NotApplicable(f"decr_batch_size: the search space has no integer {BATCH_SIZE!r} dimension")
    dim = space[BATCH_SIZE]
    assert isinstance(dim, Integer)
    batch = _number(ctx.trial(BATCH_SIZE))
    if batch is None:
        raise NotApplicable("decr_batch_size: the diagnosed trial's batch size is unknown")
    settings = ctx.settings
    floor = settings.min_batch_size
    if batch <= 2 * floor:
        raise NotApplicable(f"decr_batch_size: the trial's batch of {batch:g} is already small (at most twice "
                            f"min_batch_size {floor}): its few steps come from a small data set")
    low = max(math.floor(dim.low / settings.batch_size_factor), min(dim.low, floor), 1)
    high = min(max(math.floor(batch / settings.batch_size_factor), low + 1), dim.high)
    if (low, high) == (dim.low, dim.high) or high <= low:
        raise NotApplicable(f"decr_batch_size: the batch-size range [{dim.low}, {dim.high}] cannot move down")
    return space.with_bounds(BATCH_SIZE, low, high), arch


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _values(dims: list[Real], ctx: ActionContext) -> str:
    return ", ".join(f"{d.name} {ctx.trial(d.name)} in [{d.low:g}, {d.high:g}]" for d in dims)


__all__ = ["decr_batch_size", "decr_dropout", "decr_l2", "trial_facts"]
