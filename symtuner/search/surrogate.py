"""What the surrogate model is fitted on: every trial at the point it really ran.

A search space narrows, widens, gains and (after a revert) loses dimensions,
and the architecture changes. The model-based optimizer is fitted in the span
of every space used (``symtuner.core.space.span``) plus one dimension per
architecture change that has taken more than one value; each trial keeps its
true parameters and the architecture it was trained with. Nothing is clipped:
a batch size of 17 stays 17 after the lower bound rose to 128. Proposals are
still drawn inside the current space only (``Surrogate.fixed`` holds the
current architecture).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from symtuner.core.architecture import Architecture
from symtuner.core.costs import trial_costs
from symtuner.core.records import Trial, TuningVersion
from symtuner.core.space import Integer, SearchSpace, span
from symtuner.search.optimizers import Observation, Surrogate


def true_point(params: dict[str, Any], architecture: Architecture) -> dict[str, Any]:
    """A trial's coordinates: its parameters and its architecture's features."""
    return {**params, **architecture.features()}


def observations(trials: Sequence[Trial], versions: Sequence[TuningVersion], maximize: bool,
                 limits: Mapping[str, float] | None = None) -> list[Observation]:
    """Every complete trial with an objective, at its true point, as a loss to minimise.

    ``limits`` (cost name -> limit) are the study's hard limits: a trial over
    them (``Trial.infeasible``) is observed at the worst loss of the trials
    within them plus ``spread x (1 + v) / (2 + v)`` (``spread`` the range of
    those losses, ``v`` the trial's summed relative excess over the limits):
    at least half the spread worse than every trial within the limits, and
    the further over, the worse. Every observation carries its ``constraints`` and its measured
    ``raw_loss`` for an optimizer that handles constraints itself.
    """
    by_version = {v.version: v.architecture for v in versions}
    out = []
    for trial in trials:
        if not trial.is_complete or trial.objective is None:
            continue
        value = float(trial.objective)
        loss = -value if maximize else value
        arch = by_version.get(trial.tuning_version, Architecture())
        constraints = _constraints(trial, limits or {})
        out.append(Observation(true_point(dict(trial.params), arch), loss, constraints,
                               loss if constraints else None))
    return _penalised(out, [t for t in trials if t.is_complete and t.objective is not None])


def _constraints(trial: Trial, limits: Mapping[str, float]) -> tuple[float, ...]:
    """``cost / limit - 1`` per limit, by cost name (0 for a cost the trial did not measure)."""
    if not limits:
        return ()
    costs = trial_costs(trial)
    return tuple(costs[name] / limit - 1.0 if name in costs else 0.0 for name, limit in sorted(limits.items()))


def _penalised(history: list[Observation], trials: Sequence[Trial]) -> list[Observation]:
    """The observations with the losses of infeasible trials made worse (see :func:`observations`)."""
    finite = [o.loss for o, t in zip(history, trials) if math.isfinite(o.loss) and not t.infeasible] \
        or [o.loss for o in history if math.isfinite(o.loss)]
    if not finite or not any(t.infeasible for t in trials):
        return history
    worst, spread = max(finite), (max(finite) - min(finite)) or 1.0
    out = []
    for observation, trial in zip(history, trials):
        if trial.infeasible:
            excess = max(float(trial.extra.get("violation") or 0.0), 0.0)
            observation = replace(observation, loss=worst + spread * (1.0 + excess) / (2.0 + excess))
        out.append(observation)
    return out


def pending_observations(running: Sequence[Trial], versions: dict[int, TuningVersion],
                         history: Sequence[Observation]) -> list[Observation]:
    """Running trials as observations with the worst loss seen so far (the "constant liar" of
    Ginsbourger et al., pessimistic variant): the next proposal moves away from them."""
    if not history:
        return []
    liar = max(o.loss for o in history)
    out = []
    for trial in running:
        version = versions.get(trial.tuning_version)
        arch = version.architecture if version is not None else Architecture()
        out.append(Observation(true_point(dict(trial.params), arch), liar))
    return out


def planned_observations(planned: Sequence[dict[str, Any]], architecture: Architecture,
                         history: Sequence[Observation]) -> list[Observation]:
    """Proposals made ahead, not yet started, as pending points with the same liar: they will train
    with ``architecture``."""
    if not history:
        return []
    liar = max(o.loss for o in history)
    return [Observation(true_point(dict(params), architecture), liar) for params in planned]


def surrogate(versions: Sequence[TuningVersion], current: TuningVersion) -> Surrogate:
    """The hull of every version's space and architecture, and the current architecture."""
    hull = span([v.space for v in versions] + [current.space])
    features = [v.architecture.features() for v in versions] + [current.architecture.features()]
    arch_dims = []
    for name in features[0]:
        values = [f[name] for f in features]
        if min(values) < max(values):
            arch_dims.append(Integer(name, min(values), max(values)))
    if arch_dims:
        hull = SearchSpace(hull.dimensions + tuple(arch_dims), hull.fills)
    return Surrogate(hull=hull, fixed=dict(current.architecture.features()))
