"""Proposal strategies: stateless ``ask(space, history, seed) -> params``.

An optimizer keeps no state between calls: the history comes from the study
store every time, so a resumed or re-created study proposes exactly what an
uninterrupted one would.

Optimizers are made by name from :data:`OPTIMIZERS_REGISTRY` (built-ins
``gp``, ``random`` and ``tpe``); :func:`register_optimizer` adds one of one's
own: a factory ``(n_initial) -> Optimizer``.
"""

from __future__ import annotations

from collections.abc import Callable

from symtuner.core.registry import Registry, check_callable
from symtuner.search.optimizers.base import Observation, Optimizer, Surrogate
from symtuner.search.optimizers.gp import GaussianProcessOptimizer
from symtuner.search.optimizers.random_search import RandomSearch

#: Makes an optimizer from the number of initial (random) proposals it starts with.
OptimizerFactory = Callable[[int], Optimizer]

#: The built-in optimizers' names (every registered one: :func:`optimizer_names`).
OPTIMIZERS = ("gp", "random", "tpe")


def _gp(n_initial: int) -> Optimizer:
    return GaussianProcessOptimizer(n_initial=n_initial)


def _random(n_initial: int) -> Optimizer:
    return RandomSearch()


def _tpe(n_initial: int) -> Optimizer:
    from symtuner.search.optimizers.tpe import TPEOptimizer  # optuna is optional: imported when asked for

    return TPEOptimizer(n_initial=n_initial)


#: Optimizer factories by the name a study's ``optimizer`` setting gives.
OPTIMIZERS_REGISTRY: Registry[OptimizerFactory] = Registry("optimizer", check=check_callable("optimizer"))
for _name, _factory in zip(OPTIMIZERS, (_gp, _random, _tpe)):
    OPTIMIZERS_REGISTRY.register(_name, _factory)


def register_optimizer(name: str, factory: OptimizerFactory, *, replace: bool = False) -> OptimizerFactory:
    """Make ``name`` a valid ``optimizer`` setting: ``factory(n_initial)`` returns the optimizer.

    Raises ``ConfigError`` for a bad or already registered name (unless
    ``replace``) and for a factory that is not callable.
    """
    return OPTIMIZERS_REGISTRY.register(name, factory, replace=replace)


def optimizer_names() -> tuple[str, ...]:
    """Every registered optimizer's name, sorted."""
    return OPTIMIZERS_REGISTRY.names()


def make_optimizer(name: str, n_initial: int = 5) -> Optimizer:
    """The optimizer registered under ``name`` (``gp``, ``random``, ``tpe`` or one registered since);
    an unknown name raises ``ConfigError`` listing the registered ones."""
    return OPTIMIZERS_REGISTRY.get(name)(n_initial)


__all__ = ["Observation", "Optimizer", "Surrogate", "GaussianProcessOptimizer", "RandomSearch", "make_optimizer",
           "OPTIMIZERS", "OPTIMIZERS_REGISTRY", "OptimizerFactory", "optimizer_names", "register_optimizer"]
