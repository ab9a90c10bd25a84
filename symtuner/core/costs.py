"""What a trained network costs, the limits a study sets on it, and how a limit ranks trials.

Every trial records its cost, measured by the trainer (``TrainResult.costs``,
stored in the trial's ``extra["costs"]``), by the names of :data:`COSTS`:
``params`` (weights), ``flops`` (one forward pass of one sample),
``model_mb`` (the saved file) and ``latency_ms`` (the median time to predict
a batch of one). A study may limit each (``max_params``, ``max_flops``,
``max_model_mb``, ``max_latency_ms``), in one of two modes:

- **hard**: a trial over any limit is *infeasible*. It is never the best
  trial (nor its model the best model), and the optimizer is told it is bad
  (:func:`symtuner.search.surrogate.observations`). Trials are ordered as in
  Deb's constraint handling (:func:`standing`): feasible ones by their
  objective, ahead of every infeasible one; infeasible ones by their
  :func:`violation`, the smaller the better.
- **soft**: the study ranks trials by a penalised objective,
  ``objective - penalty x violation`` for an objective that is maximised
  (``+`` for one minimised), ``violation`` being the summed relative excess
  over the limits (0 within them). With the default ``penalty`` of 1 and
  ``val_accuracy``, a network 10 % over its parameter limit loses 0.1 of
  accuracy. The unpenalised value is kept in ``extra["raw_objective"]``.

Plain values only: nothing here measures anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from symtuner.core.errors import ConfigError

#: The measured costs, in the order they are shown.
COSTS = ("params", "flops", "model_mb", "latency_ms")

#: The study setting that limits each cost.
LIMIT_SETTINGS = {"params": "max_params", "flops": "max_flops", "model_mb": "max_model_mb",
                  "latency_ms": "max_latency_ms"}

#: How a limit is enforced.
LIMIT_MODES = ("hard", "soft")

#: What each cost is called in tables and explanations.
COST_LABELS = {"params": "parameters", "flops": "FLOPs", "model_mb": "MB saved", "latency_ms": "ms latency"}


def check_limit(name: str, value: Any) -> float | None:
    """A limit's value: None (no limit) or a positive finite number; a ConfigError naming it otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def limits_of(settings: Any) -> dict[str, float]:
    """Cost name -> limit, for the limits ``settings`` (a StudySettings, or any object with the
    ``max_*`` attributes) sets."""
    out = {}
    for cost, setting in LIMIT_SETTINGS.items():
        value = getattr(settings, setting, None)
        if value is not None:
            out[cost] = float(value)
    return out


def over_limits(costs: Mapping[str, float], limits: Mapping[str, float]) -> dict[str, tuple[float, float]]:
    """Cost name -> (value, limit) for every measured cost above its limit."""
    out = {}
    for name, limit in limits.items():
        value = costs.get(name)
        if value is not None and math.isfinite(value) and value > limit:
            out[name] = (float(value), float(limit))
    return out


def violation(costs: Mapping[str, float], limits: Mapping[str, float]) -> float:
    """The summed relative excess over the limits: sum of max(0, value / limit - 1) (0 within them)."""
    return float(sum(value / limit - 1.0 for value, limit in over_limits(costs, limits).values()))


def penalised(objective: float, excess: float, maximize: bool, penalty: float) -> float:
    """The soft mode's objective: ``objective`` made worse by ``penalty`` x ``excess``."""
    return objective - penalty * excess if maximize else objective + penalty * excess


def limit_outcome(costs: Mapping[str, float], settings: Any, objective: float) -> tuple[float, dict[str, Any]]:
    """The objective a trial is ranked by and what its ``extra`` records of the limits of ``settings``.

    Within every limit (or with none): the objective as it is, nothing to
    record. Over one: ``over_limits`` (cost -> [value, limit]) and
    ``violation``; in hard mode ``infeasible``, in soft mode the penalised
    objective, with the measured one as ``raw_objective``.
    """
    limits = limits_of(settings)
    over = over_limits(costs, limits)
    if not over:
        return objective, {}
    excess = violation(costs, limits)
    extra: dict[str, Any] = {"over_limits": {name: list(pair) for name, pair in over.items()}, "violation": excess}
    if settings.limit_mode == "soft":
        extra["raw_objective"] = objective
        return penalised(objective, excess, settings.maximize, settings.limit_penalty), extra
    extra["infeasible"] = True
    return objective, extra


def over_text(extra: Mapping[str, Any]) -> str:
    """``3.1 M parameters > 2.5 M; ...`` for a trial's recorded ``over_limits`` ("" when within them)."""
    over = extra.get("over_limits") or {}
    return "; ".join(f"{format_cost(name, value)} > {format_amount(name, limit)}"
                     for name, (value, limit) in over.items())


def trial_costs(trial: Any) -> dict[str, float]:
    """The costs a trial recorded (empty when it measured none)."""
    costs = getattr(trial, "extra", {}).get("costs") or {}
    return {name: float(value) for name, value in costs.items() if isinstance(value, (int, float))}


def is_infeasible(trial: Any) -> bool:
    """Whether a trial is over a hard limit."""
    return bool(getattr(trial, "extra", {}).get("infeasible"))


def standing(trial: Any, maximize: bool) -> tuple[float, float] | None:
    """A trial's rank, higher is better (None without a finite objective): Deb's order.

    Feasible trials come first, by their objective; infeasible ones after
    them, by their violation (the smaller the better).
    """
    value = getattr(trial, "objective", None)
    if not getattr(trial, "is_complete", False) or value is None or not math.isfinite(value):
        return None
    if is_infeasible(trial):
        return (0.0, -float(trial.extra.get("violation") or 0.0))
    return (1.0, float(value) if maximize else -float(value))


def format_cost(name: str, value: float) -> str:
    """A cost for people: ``3.1 M parameters``, ``152 M FLOPs``, ``12.4 MB saved``, ``4.20 ms latency``."""
    label = COST_LABELS.get(name, name)
    return f"{format_amount(name, value)} {label}"


def format_amount(name: str, value: float) -> str:
    """A cost's number alone, in the unit :func:`format_cost` uses (``3.1 M``, ``12.4``, ``4.20``)."""
    if not math.isfinite(value):
        return str(value)
    if name in ("params", "flops"):
        for size, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
            if abs(value) >= size:
                return f"{value / size:.3g}{suffix}"
        return f"{value:.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


@dataclass(frozen=True)
class TradePoint:
    """One complete trial on the trade-off: its score (higher is better) and its costs."""

    number: int
    score: float
    costs: dict[str, float]
    feasible: bool


def pareto_front(points: Sequence[TradePoint], cost: str) -> list[TradePoint]:
    """The points no other point beats on both ``score`` (higher) and ``cost`` (lower), by cost.

    Points without that cost are left out; of equal points the earliest trial stays.
    """
    measured = sorted((p for p in points if cost in p.costs and math.isfinite(p.costs[cost])
                       and math.isfinite(p.score)), key=lambda p: (p.costs[cost], -p.score, p.number))
    front: list[TradePoint] = []
    for point in measured:
        if not front or point.score > front[-1].score:
            front.append(point)
    return front


def trade_points(trials: Sequence[Any], maximize: bool, score: str = "objective") -> list[TradePoint]:
    """The complete trials with a finite ``score`` attribute and measured costs.

    ``score`` is the attribute read (``objective``, ``val_accuracy``,
    ``test_accuracy``); for an ``objective`` that is minimised the score is
    its negation, so that higher is always better. In soft mode the
    unpenalised objective is used: the trade-off shows what the network
    scores, and its costs beside it.
    """
    out = []
    for trial in trials:
        costs = trial_costs(trial)
        value = trial.extra.get("raw_objective", trial.objective) if score == "objective" else getattr(trial, score)
        if not trial.is_complete or not costs or value is None or not math.isfinite(float(value)):
            continue
        signed = float(value) if maximize or score != "objective" else -float(value)
        out.append(TradePoint(trial.number, signed, costs, not is_infeasible(trial)
                              and not trial.extra.get("over_limits")))
    return out


__all__ = ["COSTS", "COST_LABELS", "LIMIT_MODES", "LIMIT_SETTINGS", "TradePoint", "check_limit", "format_amount",
           "format_cost", "is_infeasible", "limit_outcome", "limits_of", "over_limits", "over_text", "pareto_front", "penalised", "standing",
           "trade_points", "trial_costs", "violation"]
