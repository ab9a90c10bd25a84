"""Proposal strategies: stateless ``ask(space, history, seed) -> params``.

An optimizer keeps no state between calls: the history comes from the study
store every time, so a resumed or re-created study proposes exactly what an
uninterrupted one would.
"""

from __future__ import annotations

from symtuner.core.errors import ConfigError
from symtuner.search.optimizers.base import Observation, Optimizer, Surrogate
from symtuner.search.optimizers.gp import GaussianProcessOptimizer
from symtuner.search.optimizers.random_search import RandomSearch

OPTIMIZERS = ("gp", "random", "tpe")


def make_optimizer(name: str, n_initial: int = 5) -> Optimizer:
    """The optimizer registered under ``name`` (``gp``, ``random`` or ``tpe``)."""
    if name == "gp":
        return GaussianProcessOptimizer(n_initial=n_initial)
    if name == "random":
        return RandomSearch()
    if name == "tpe":
        from symtuner.search.optimizers.tpe import TPEOptimizer

        return TPEOptimizer(n_initial=n_initial)
    raise ConfigError(f"optimizer {name!r} is not one of {list(OPTIMIZERS)}")


__all__ = ["Observation", "Optimizer", "Surrogate", "GaussianProcessOptimizer", "RandomSearch", "make_optimizer",
           "OPTIMIZERS"]
