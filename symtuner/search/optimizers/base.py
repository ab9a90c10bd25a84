"""The optimizer interface and the conversion of a SearchSpace to scikit-optimize."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from symtuner.core.space import Categorical, Integer, SearchSpace, Value


@dataclass(frozen=True)
class Observation:
    """A completed trial as an optimizer sees it: params and a loss to minimise.

    Under hard limits on what a network costs, ``loss`` of a trial over them
    is already made worse (see :func:`symtuner.search.surrogate.observations`),
    so any optimizer avoids it; one that handles constraints itself (TPE)
    reads the measured loss in ``raw_loss`` and ``constraints``, one value
    per limit, ``cost / limit - 1`` (above 0: over that limit).
    """

    params: dict[str, Any]
    loss: float
    constraints: tuple[float, ...] = ()
    raw_loss: float | None = None


@dataclass(frozen=True)
class Surrogate:
    """Where a model-based optimizer fits its model.

    ``hull`` spans every space any trial ran in (``symtuner.core.space.span``),
    with the architecture changes as dimensions; observations carry their
    true coordinates in it. ``fixed`` gives the values a new trial will have
    for the hull's dimensions that the current space lacks (the current
    architecture, "as before" for a dimension a revert removed).
    """

    hull: SearchSpace
    fixed: dict[str, Value]


class Optimizer(Protocol):
    name: str

    def ask(self, space: SearchSpace, history: Sequence[Observation], seed: int,
            surrogate: Surrogate | None = None) -> dict[str, Value]:
        """Propose params inside ``space``, given every completed trial so far.

        Without ``surrogate`` the history is projected into ``space``.
        """
        ...


def to_skopt(space: SearchSpace) -> list[Any]:
    """scikit-optimize dimensions for ``space``, in its order."""
    from skopt import space as sk

    dims: list[Any] = []
    for dim in space.dimensions:
        if isinstance(dim, Categorical):
            dims.append(sk.Categorical(list(dim.categories), name=dim.name))
        elif isinstance(dim, Integer):
            dims.append(sk.Integer(dim.low, dim.high, prior=dim.prior, name=dim.name))
        else:
            dims.append(sk.Real(dim.low, dim.high, prior=dim.prior, name=dim.name))
    return dims


def sample(space: SearchSpace, n_points: int, seed: int) -> list[list[Any]]:
    """``n_points`` random points of ``space`` (lists in its order), each conditional value drawn in its
    choice's range (:meth:`SearchSpace.placed`)."""
    from skopt.space import Space

    points = Space(to_skopt(space)).rvs(n_samples=n_points, random_state=seed)
    if not space.conditional:
        return points  # type: ignore[no-any-return]
    names = space.names
    return [[placed[name] for name in names]
            for placed in (space.placed({name: plain(v) for name, v in zip(names, point)}) for point in points)]


def plain(value: Any) -> Value:
    """A plain Python value from numpy scalars (for JSON and Keras)."""
    if hasattr(value, "item"):
        value = value.item()
    return value  # type: ignore[no-any-return]


def as_point(space: SearchSpace, params: dict[str, Any]) -> list[Value]:
    projected = space.project(params)
    return [projected[name] for name in space.names]


def finite_losses(history: Sequence[Observation]) -> list[float]:
    """Losses with NaN/inf (a diverged trial) replaced by the worst finite loss seen.

    A diverged trial is real information ("not here"), so it is kept, as the
    worst result rather than dropped.
    """
    finite = [o.loss for o in history if math.isfinite(o.loss)]
    worst = max(finite) if finite else 1.0
    return [o.loss if math.isfinite(o.loss) else worst for o in history]
