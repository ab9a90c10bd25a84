"""Uniform random search (respecting log-uniform priors)."""

from __future__ import annotations

from collections.abc import Sequence

from symtuner.core.space import SearchSpace, Value
from symtuner.search.optimizers.base import Observation, Surrogate, plain, sample


class RandomSearch:
    """Ignores the history; the seed alone fixes the proposal."""

    name = "random"

    def ask(self, space: SearchSpace, history: Sequence[Observation], seed: int,
            surrogate: Surrogate | None = None) -> dict[str, Value]:
        point = sample(space, 1, seed)[0]
        return {name: plain(value) for name, value in zip(space.names, point)}
