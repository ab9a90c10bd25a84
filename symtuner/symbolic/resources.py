"""What a trained network costs, as facts for the rules of ``rules/resources.pl``.

For each cost a trial measured (``params``, ``flops``, ``model_mb``,
``latency_ms``: :mod:`symtuner.core.costs`) the rules read ``fact(Cost,
Value)``; for each the study limits, ``fact(max_Cost, Limit)``; and
``fact(Cost_growth, Ratio)``, the cost over that of the trial before (1 when
there is none). Nothing here decides anything: ``resources.pl`` compares
these facts with its thresholds. This module also words the reasons those
rules derive (``over/3`` and ``near/4``) with each cost's unit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from symtuner.core.costs import COSTS, format_amount, format_cost

#: Every fact about costs the rules may read.
COST_FACT_NAMES = tuple(name for cost in COSTS for name in (cost, f"max_{cost}", f"{cost}_growth"))

#: The reason terms of ``resources.pl`` worded here: (functor, arity).
COST_REASONS = frozenset({("over", 3), ("near", 4)})


def cost_facts(costs: Mapping[str, float], limits: Mapping[str, float],
               previous: Mapping[str, float] | None = None) -> dict[str, float]:
    """The facts of one trial's ``costs`` under ``limits`` (cost -> limit), ``previous`` being the costs of
    the trial before it (None: the first). Costs that are not finite are left out."""
    out: dict[str, float] = {}
    for name in COSTS:
        value = costs.get(name)
        if value is None or not math.isfinite(value):
            continue
        out[name] = float(value)
        before = (previous or {}).get(name)
        out[f"{name}_growth"] = float(value) / before if before and math.isfinite(before) and before > 0 else 1.0
    for name, limit in limits.items():
        if name in COSTS:
            out[f"max_{name}"] = float(limit)
    return out


def cost_reason_text(term: Any) -> str:
    """``over(params, 3.1e6, 2.5e6)`` -> ``3.1 M parameters > 2.5 M``; ``near(params, V, L, G)`` -> ``2.4 M
    parameters, near the limit of 2.5 M and 12 % up on the trial before``."""
    functor, args = term
    name = str(args[0])
    value, limit = float(args[1]), float(args[2])
    if functor == "over":
        return f"{format_cost(name, value)} > {format_amount(name, limit)}"
    return (f"{format_cost(name, value)}, near the limit of {format_amount(name, limit)} and "
            f"{float(args[3]) - 1:.0%} up on the trial before")


__all__ = ["COST_FACT_NAMES", "COST_REASONS", "cost_facts", "cost_reason_text"]
