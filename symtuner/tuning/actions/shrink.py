"""Actions that make the network smaller: narrower layers, and the added layers taken back.

The rules of ``rules/resources.pl`` choose them when a network is over a
limit on what it costs (or near one while the networks grow). Like every
action they return a new space and architecture, which the next trials test
as a hypothesis (kept when a trial beats the best before it, which under hard
limits a trial within them does against every trial over them).
"""

from __future__ import annotations

import math
from typing import Any

from symtuner.core.architecture import Architecture, conv_filters_name, dense_units_name
from symtuner.core.space import Integer, SearchSpace
from symtuner.tuning.actions.base import ActionContext, NotApplicable
from symtuner.tuning.actions.bounds import UNITS_PREFIX

#: The costs each resource problem is about: ``decr_neurons`` shrinks by how far these are over.
PROBLEM_COSTS = {"model_size": ("params", "model_mb"), "latency": ("flops", "latency_ms")}


def shrink_factor(ctx: ActionContext) -> float:
    """How much narrower the layers become: ``1 / sqrt(r)`` for a diagnosed trial whose costs are ``r``
    times their limits (a network's weights and FLOPs grow about with the square of its widths), and at
    least ``1 / neurons_factor`` (a network near its limit, or one whose costs are unknown)."""
    wanted = PROBLEM_COSTS.get(ctx.problem or "", tuple(ctx.cost_ratios))
    ratios = [ctx.cost_ratios[name] for name in wanted if name in ctx.cost_ratios]
    step = 1.0 / ctx.settings.neurons_factor
    return min(step, 1.0 / math.sqrt(max(ratios))) if ratios and max(ratios) > 1.0 else step


def decr_neurons(space: SearchSpace, arch: Architecture, ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Lower the range of every unit/filter HP below the diagnosed trial's width (:func:`shrink_factor`).

    Each upper bound becomes the diagnosed trial's width (the middle of the
    range when it has none) times the factor, if that is lower. A lower
    bound is kept while it leaves ``min_width_fraction`` of the new upper
    bound (at least 1) between them; otherwise it falls with the range,
    keeping the range's old ratio of low to high: the limit is the user's
    too, and a network that cannot meet it inside the range needs a
    narrower one. Never below one unit.
    """
    factor = shrink_factor(ctx)
    dims = [d for d in space.dimensions if d.name.startswith(UNITS_PREFIX) and isinstance(d, Integer)]
    if not dims:
        raise NotApplicable(f"decr_neurons: the search space has no integer dimension named {UNITS_PREFIX}...")
    new = space
    for dim in dims:
        bounds = _lowered(dim, _anchor(dim, ctx.trial(dim.name)) * factor, ctx.settings.min_width_fraction)
        if bounds is not None:
            new = new.with_bounds(dim.name, *bounds)
    if new is space:
        raise NotApplicable("decr_neurons: every unit/filter range is already at its narrowest "
                            f"({', '.join(f'{d.name} [{d.low}, {d.high}]' for d in dims)})")
    return new, arch


def _anchor(dim: Integer, value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 1:
        return min(float(value), float(dim.high))
    return (dim.low + dim.high) / 2


def _lowered(dim: Integer, target: float, width_fraction: float) -> tuple[int, int] | None:
    """The new (low, high) of a unit/filter HP whose upper bound falls to ``target``, or None."""
    high = max(2, math.floor(target))
    if high >= dim.high or dim.low < 1:
        return None
    gap = max(1, math.floor(high * width_fraction))
    low = dim.low if dim.low <= high - gap else max(1, min(high - gap, math.floor(high * dim.low / dim.high)))
    return low, high


def remove_fc_layer(space: SearchSpace, arch: Architecture,
                    ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Take back the dense layer the tuning added last, with its units HP (``unit_fcI``) if an action added it."""
    if arch.extra_dense < 1:
        raise NotApplicable("remove_fc_layer: the tuning added no dense layer")
    return _without(space, dense_units_name(arch.extra_dense)), arch.with_changes(extra_dense=arch.extra_dense - 1)


def remove_conv_layer(space: SearchSpace, arch: Architecture,
                      ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Take back the conv block the tuning added last, with its filters HP (``unit_cK``) if an action added it."""
    if arch.extra_conv < 1:
        raise NotApplicable("remove_conv_layer: the tuning added no conv block")
    return _without(space, conv_filters_name(arch.extra_conv)), arch.with_changes(extra_conv=arch.extra_conv - 1)


def _without(space: SearchSpace, name: str) -> SearchSpace:
    """``space`` without the dimension ``name`` when an action added it (a dimension of the user's own
    first space stays)."""
    if name not in space or space.fill_for(name) is None or len(space.dimensions) < 2:
        return space
    return SearchSpace(tuple(d for d in space.dimensions if d.name != name),
                       tuple((key, fill) for key, fill in space.fills if key != name))


__all__ = ["PROBLEM_COSTS", "decr_neurons", "remove_conv_layer", "remove_fc_layer", "shrink_factor"]
