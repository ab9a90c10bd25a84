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

    Re-fitting the kernel's hyper-parameters is what a call costs. Below
    ``restart_limit`` observations they are fitted from ``1 + n_restarts``
    starting points (scikit-optimize's default of 2 restarts), where a small
    history leaves the likelihood multi-modal and a fit costs milliseconds;
    from ``restart_limit`` on, from one start only, which keeps a call at 300
    stored trials at about 2.6 s instead of 7 s on a 2-core machine
    (``benchmarks/overhead.py``).
    """

    name = "gp"

    def __init__(self, n_initial: int = 5, acq_func: str = "EI", n_restarts: int = 2,
                 restart_limit: int = 100) -> None:
        if n_initial < 1:
            raise ConfigError(f"n_initial must be at least 1, got {n_initial}")
        if n_restarts < 0:
            raise ConfigError(f"n_restarts must be at least 0, got {n_restarts}")
        self.n_initial = n_initial
        self.acq_func = acq_func
        self.n_restarts = n_restarts
        self.restart_limit = restart_limit

    def restarts_for(self, n_observations: int) -> int:
        """Kernel-fit restarts used with ``n_observations`` completed trials."""
        return self.n_restarts if n_observations < self.restart_limit else 0

    def ask(self, space: SearchSpace, history: Sequence[Observation], seed: int) -> dict[str, Value]:
        if len(history) < self.n_initial:
            return RandomSearch().ask(space, history, seed)
        from skopt import Optimizer

        optimizer = Optimizer(to_skopt(space), base_estimator="GP", acq_func=self.acq_func,
                              acq_optimizer="sampling", n_initial_points=1, random_state=seed)
        optimizer.base_estimator_.set_params(n_restarts_optimizer=self.restarts_for(len(history)))
        points = [as_point(space, o.params) for o in history]
        with warnings.catch_warnings():
            # Repeated points are expected (clipping maps several trials onto one bound).
            warnings.simplefilter("ignore", UserWarning)
            optimizer.tell(points, finite_losses(history))
            proposal = optimizer.ask()
        return {name: plain(value) for name, value in zip(space.names, proposal)}
