"""What ``symtuner status`` prints of what the networks cost: a table of every trial's costs against the
study's limits, and (``--pareto``) the trials on the Pareto front of the objective against parameters and
FLOPs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from symtuner.core.costs import (
    COST_LABELS,
    COSTS,
    format_amount,
    format_cost,
    over_text,
    pareto_front,
    trade_points,
    trial_costs,
)
from symtuner.core.records import Trial

#: The costs the Pareto fronts are drawn against.
FRONT_COSTS = ("params", "flops")


def limits_line(settings: Any) -> str:
    """``limits (hard): 150 k parameters, 5.00 ms latency`` ("" without limits)."""
    limits = settings.limits
    if not limits:
        return ""
    shown = ", ".join(format_cost(name, value) for name, value in limits.items())
    penalty = f", penalty {settings.limit_penalty:g} per unit of excess" if settings.limit_mode == "soft" else ""
    return f"limits ({settings.limit_mode}{penalty}): {shown}"


def costs_table(trials: Sequence[Trial], settings: Any) -> str:
    """One row per complete trial that measured its costs, with where it stands against the limits ("" when
    no trial measured any)."""
    measured = [t for t in trials if t.is_complete and trial_costs(t)]
    if not measured:
        return ""
    header = ["#", *(COST_LABELS[name] for name in COSTS)]
    if settings.limits:
        header.append("limits")
    rows = [header]
    for trial in measured:
        costs = trial_costs(trial)
        row = [str(trial.number)] + [format_amount(name, costs[name]) if name in costs else "-" for name in COSTS]
        if settings.limits:
            over = over_text(trial.extra)
            row.append(("infeasible: " if trial.infeasible else "penalised: ") + over if over else "within")
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    table = "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)
    line = limits_line(settings)
    return (f"{line}\n" if line else "") + "costs:\n" + table


def pareto_text(trials: Sequence[Trial], settings: Any) -> str:
    """The trials no other trial beats on both the objective and parameters (and FLOPs), cheapest first."""
    maximize = settings.maximize
    points = trade_points(trials, maximize)
    if not points:
        return "Pareto front: no complete trial measured its costs"
    lines = []
    for cost in FRONT_COSTS:
        front = pareto_front(points, cost)
        if not front:
            continue
        lines.append(f"Pareto front of {settings.objective} against {COST_LABELS[cost]} ({len(front)} of "
                     f"{len(points)} trials; cheapest first):")
        for point in front:
            value = point.score if maximize else -point.score
            mark = "" if point.feasible else "  (over the limits)"
            lines.append(f"  #{point.number}  {settings.objective} {value:.4f}  "
                         f"{format_cost(cost, point.costs[cost])}{mark}")
    return "\n".join(lines)


__all__ = ["FRONT_COSTS", "costs_table", "limits_line", "pareto_text"]
