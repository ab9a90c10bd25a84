"""Gaussian-process Bayesian optimisation with expected improvement (scikit-optimize)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from symtuner.errors import ConfigError
from symtuner.optimizers.base import Observation, as_point, finite_losses, plain, to_skopt
from symtuner.optimizers.random_search import RandomSearch
from symtuner.space import SearchSpace, Value


class GaussianProcessOptimizer:
    """GP + EI after ``n_initial`` random points.

    Every call builds a fresh scikit-optimize ``Optimizer`` over the current
    space and tells it all completed trials projected into that space
    (:meth:`SearchSpace.project`), so a change of the space never loses
    history, and the same history and seed give the same proposal.
    """

    name = "gp"

    def __init__(self, n_initial: int = 5, acq_func: str = "EI") -> None:
        if n_initial < 1:
            raise ConfigError(f"n_initial must be at least 1, got {n_initial}")
        self.n_initial = n_initial
        self.acq_func = acq_func

    def ask(self, space: SearchSpace, history: Sequence[Observation], seed: int) -> dict[str, Value]:
        if len(history) < self.n_initial:
            return RandomSearch().ask(space, history, seed)
        from skopt import Optimizer

        optimizer = Optimizer(to_skopt(space), base_estimator="GP", acq_func=self.acq_func,
                              acq_optimizer="sampling", n_initial_points=1, random_state=seed)
        points = [as_point(space, o.params) for o in history]
        with warnings.catch_warnings():
            # Repeated points are expected (clipping maps several trials onto one bound).
            warnings.simplefilter("ignore", UserWarning)
            optimizer.tell(points, finite_losses(history))
            proposal = optimizer.ask()
        return {name: plain(value) for name, value in zip(space.names, proposal)}
