"""Gaussian-process Bayesian optimisation with expected improvement (scikit-optimize)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from symtuner.errors import ConfigError
from symtuner.optimizers.base import Observation, Surrogate, as_point, finite_losses, plain, to_skopt
from symtuner.optimizers.random_search import RandomSearch
from symtuner.space import SearchSpace, Value


class GaussianProcessOptimizer:
    """GP + EI after ``n_initial`` random points.

    Every call builds a fresh scikit-optimize ``Optimizer`` and tells it all
    completed trials, so the same history and seed give the same proposal.
    With a ``Surrogate`` (what the tuner passes) the model is fitted in its
    hull, the span of every space and architecture any trial ran with, at
    each trial's true coordinates, and expected improvement is maximised over
    random candidates of the current space only; nothing is clipped and no
    history is lost. Without one, trials are projected into the current space
    (:meth:`SearchSpace.project`).

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

    def fit(self, space: SearchSpace, history: Sequence[Observation], seed: int,
            surrogate: Surrogate | None = None, next_point: bool = True) -> Any:
        """The scikit-optimize ``Optimizer`` told every observation at its coordinates in the hull.

        ``next_point=False`` fits the model exactly as ``tell`` does (a clone
        of the optimizer's estimator, same random state) but skips the
        acquisition scikit-optimize would then run over its own candidates,
        for callers that maximise the acquisition themselves.
        """
        from skopt import Optimizer

        hull = surrogate.hull if surrogate is not None else space
        optimizer = Optimizer(to_skopt(hull), base_estimator="GP", acq_func=self.acq_func,
                              acq_optimizer="sampling", n_initial_points=1, random_state=seed)
        optimizer.base_estimator_.set_params(n_restarts_optimizer=self.restarts_for(len(history)))
        points = [as_point(hull, o.params) for o in history]
        losses = finite_losses(history)
        with warnings.catch_warnings():
            # Repeated points are expected (a retried trial, clipped old points without a hull).
            warnings.simplefilter("ignore", UserWarning)
            if next_point:
                optimizer.tell(points, losses)
            else:
                from sklearn.base import clone

                model = clone(optimizer.base_estimator_)
                model.fit(optimizer.space.transform(points), losses)
                optimizer.Xi, optimizer.yi = list(points), list(losses)
                optimizer.models.append(model)
        return optimizer

    def ask(self, space: SearchSpace, history: Sequence[Observation], seed: int,
            surrogate: Surrogate | None = None) -> dict[str, Value]:
        if len(history) < self.n_initial:
            return RandomSearch().ask(space, history, seed)
        inside = surrogate is not None and surrogate.hull != space
        optimizer = self.fit(space, history, seed, surrogate, next_point=not inside)
        if surrogate is not None and inside:
            return self._ask_inside(optimizer, space, surrogate, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            proposal = optimizer.ask()
        return {name: plain(value) for name, value in zip(space.names, proposal)}

    def _ask_inside(self, optimizer: Any, space: SearchSpace, surrogate: Surrogate, seed: int
                    ) -> dict[str, Value]:
        """Maximise expected improvement over points of the current space only.

        As scikit-optimize's "sampling" acquisition optimizer does, over as
        many random candidates, but drawn inside ``space`` and placed in the
        hull with the ``fixed`` values for the dimensions ``space`` lacks.
        """
        import numpy as np
        from skopt.acquisition import gaussian_ei
        from skopt.space import Space

        hull = surrogate.hull
        candidates = Space(to_skopt(space)).rvs(n_samples=optimizer.n_points, random_state=seed)
        defaults = hull.project(dict(surrogate.fixed))
        where = {name: i for i, name in enumerate(space.names)}
        order = [(where.get(name), defaults[name]) for name in hull.names]
        rows = [[c[i] if i is not None else default for i, default in order] for c in candidates]
        xi = (optimizer.acq_func_kwargs or {}).get("xi", 0.01)
        ei = gaussian_ei(optimizer.space.transform(rows), optimizer.models[-1], y_opt=float(np.min(optimizer.yi)),
                         xi=xi)
        best = candidates[int(np.argmax(ei))]
        return {name: plain(value) for name, value in zip(space.names, best)}
