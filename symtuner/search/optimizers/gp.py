"""Gaussian-process Bayesian optimisation with expected improvement (scikit-optimize)."""

from __future__ import annotations

import hashlib
import math
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from symtuner.core.errors import ConfigError
from symtuner.core.space import SearchSpace, Value, span
from symtuner.search.optimizers.base import (
    Observation,
    Surrogate,
    as_point,
    finite_losses,
    plain,
    sample,
    to_skopt,
)
from symtuner.search.optimizers.random_search import RandomSearch

ACQUISITIONS = ("EI", "PI", "LCB")


class GaussianProcessOptimizer:
    """GP + EI after ``n_initial`` random points.

    Every proposal depends only on (space, history, seed, surrogate): the
    same inputs give the same proposal in a fresh process, so a resumed study
    proposes what an uninterrupted one would. With a ``Surrogate`` (what the
    tuner passes) the model is fitted in its hull, the span of every space and
    architecture any trial ran with, at each trial's true coordinates, and
    the acquisition is maximised over random candidates of the current space
    only; nothing is clipped and no history is lost. Without one, trials are
    projected into the current space (:meth:`SearchSpace.project`).

    Below ``hold_from`` observations every call builds a fresh scikit-optimize
    ``Optimizer`` and re-fits the kernel's hyper-parameters on all history,
    from ``1 + n_restarts`` starting points below ``restart_limit``
    observations (a small history leaves the likelihood multi-modal, and a
    fit costs milliseconds), from one start above it.

    From ``hold_from`` on, re-fitting the hyper-parameters is what a call
    would cost (about 2 s at 300 trials on 2 cores: 40 to 60 evaluations
    of the likelihood and its gradient), so they are re-fitted only at checkpoints of the history
    length: ``hold_from``, then each time the length grows by the factor
    ``refit_growth`` (100, 125, 157, 197, 247, 309, ...), on at most
    ``fit_limit`` of the checkpoint's observations spread evenly over it
    (:meth:`fit_rows`). Between checkpoints
    the kernel of the last checkpoint, fitted on the first ``c``
    observations, is held fixed and the GP is conditioned on all of them at
    their true coordinates (one Cholesky factorisation). Which kernel a call
    uses is thus a function of the history alone: a process that starts
    after a crash fits it once from the same ``c`` observations, from the
    same start (the kernel's initial values; seeded restarts, if
    ``hold_from < restart_limit``, use a fixed seed) and gets the same
    values. Warm-starting each fit from the previous kernel would cost fewer
    evaluations but make the kernel depend on which calls this object served,
    so a resumed study would drift from an uninterrupted one. The checkpoint
    kernels are cached in this object, keyed by a digest of the hull and the
    checkpoint's observations, so a change of space or a history that is not
    an extension of the last one (a trial finishing out of order) is simply a
    cache miss, never a stale kernel.

    Also from ``hold_from`` on, the posterior at the candidates is computed
    with scikit-learn's triangular solve (scikit-optimize's ``predict`` runs
    an unvectorised three-operand ``einsum`` over the inverse kernel matrix:
    3.0 s against 0.25 s for 10,000 candidates at 300 trials on 2 busy
    cores), and the linear algebra runs on one BLAS thread: these matrices
    are too small to gain from more, and on a machine shared with training a
    multi-threaded factorisation waits for descheduled threads (a kernel fit
    on 190 trials took 8 s instead of 1.1 s on 2 busy cores); one thread
    also keeps the results bit-for-bit reproducible.
    """

    name = "gp"

    def __init__(self, n_initial: int = 5, acq_func: str = "EI", n_restarts: int = 2,
                 restart_limit: int = 100, hold_from: int = 100, refit_growth: float = 1.25,
                 cached_kernels: int = 4, fit_limit: int = 128) -> None:
        if n_initial < 1:
            raise ConfigError(f"n_initial must be at least 1, got {n_initial}")
        if acq_func not in ACQUISITIONS:
            raise ConfigError(f"acq_func {acq_func!r} is not one of {list(ACQUISITIONS)}")
        if n_restarts < 0:
            raise ConfigError(f"n_restarts must be at least 0, got {n_restarts}")
        if hold_from < 2:
            raise ConfigError(f"hold_from must be at least 2, got {hold_from}")
        if not refit_growth > 1.0:
            raise ConfigError(f"refit_growth must be above 1, got {refit_growth}")
        if cached_kernels < 1:
            raise ConfigError(f"cached_kernels must be at least 1, got {cached_kernels}")
        if fit_limit < 2:
            raise ConfigError(f"fit_limit must be at least 2, got {fit_limit}")
        self.n_initial = n_initial
        self.acq_func = acq_func
        self.n_restarts = n_restarts
        self.restart_limit = restart_limit
        self.hold_from = hold_from
        self.refit_growth = refit_growth
        self.cached_kernels = cached_kernels
        self.fit_limit = fit_limit
        self._kernels: OrderedDict[str, Any] = OrderedDict()
        self._threads: Any = None

    def restarts_for(self, n_observations: int) -> int:
        """Kernel-fit restarts used with ``n_observations`` completed trials."""
        return self.n_restarts if n_observations < self.restart_limit else 0

    def checkpoint(self, n_observations: int) -> int:
        """How many of the first observations fix the kernel for a history of ``n_observations``.

        The last checkpoint at or below ``n_observations``; ``n_observations``
        itself below ``hold_from`` (the kernel is fitted on everything).
        """
        if n_observations < self.hold_from:
            return n_observations
        current = self.hold_from
        while True:
            following = max(current + 1, math.ceil(current * self.refit_growth))
            if following > n_observations:
                return current
            current = following

    def fit(self, space: SearchSpace, history: Sequence[Observation], seed: int,
            surrogate: Surrogate | None = None, next_point: bool = True) -> Any:
        """The scikit-optimize ``Optimizer`` told every observation at its coordinates in the hull.

        ``next_point=False`` fits the model exactly as ``tell`` does (a clone
        of the optimizer's estimator, same random state) but skips the
        acquisition scikit-optimize would then run over its own candidates,
        for callers that maximise the acquisition themselves.
        """
        hull = surrogate.hull if surrogate is not None else space
        optimizer = self.skopt_optimizer(hull, seed)
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
        if surrogate is None and space.conditional:  # fitted over every range, proposed inside each choice's
            surrogate = Surrogate(hull=span([space]), fixed={})
        if len(history) >= self.hold_from:
            with self._one_blas_thread():
                return self._ask_held(space, history, seed, surrogate)
        inside = surrogate is not None and surrogate.hull != space
        optimizer = self.fit(space, history, seed, surrogate, next_point=not inside)
        if surrogate is not None and inside:
            return self._ask_inside(optimizer, space, surrogate, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            proposal = optimizer.ask()
        return {name: plain(value) for name, value in zip(space.names, proposal)}

    # -- below hold_from: a fresh fit on every call --------------------------------------------------

    def _ask_inside(self, optimizer: Any, space: SearchSpace, surrogate: Surrogate, seed: int
                    ) -> dict[str, Value]:
        """Maximise expected improvement over points of the current space only.

        As scikit-optimize's "sampling" acquisition optimizer does, over as
        many random candidates, but drawn inside ``space`` and placed in the
        hull with the ``fixed`` values for the dimensions ``space`` lacks.
        """
        import numpy as np
        from skopt.acquisition import gaussian_ei

        points, rows = candidates(space, surrogate, optimizer.n_points, seed)
        xi = (optimizer.acq_func_kwargs or {}).get("xi", 0.01)
        ei = gaussian_ei(optimizer.space.transform(rows), optimizer.models[-1], y_opt=float(np.min(optimizer.yi)),
                         xi=xi)
        best = points[int(np.argmax(ei))]
        return {name: plain(value) for name, value in zip(space.names, best)}

    # -- from hold_from on: the kernel of the last checkpoint, held fixed ----------------------------

    def _ask_held(self, space: SearchSpace, history: Sequence[Observation], seed: int,
                  surrogate: Surrogate | None) -> dict[str, Value]:
        """The acquisition's best candidate of ``space`` under a GP with the checkpoint's kernel."""
        import numpy as np

        hull = surrogate.hull if surrogate is not None else space
        optimizer = self.skopt_optimizer(hull, seed)
        x = optimizer.space.transform([as_point(hull, o.params) for o in history])
        y = np.asarray(finite_losses(history), dtype=float)
        model = self.held_model(optimizer.base_estimator_, hull, x, y)
        points, rows = candidates(space, surrogate, optimizer.n_points, seed)
        scores = self.acquisition(optimizer.space.transform(rows), model, float(np.min(y)))
        best = points[int(np.argmax(scores))]
        return {name: plain(value) for name, value in zip(space.names, best)}

    def held_model(self, estimator: Any, hull: SearchSpace, x: Any, y: Any) -> Any:
        """``estimator`` conditioned on every row of ``x`` with the kernel of the checkpoint for ``len(y)``.

        ``x`` holds the observations' transformed coordinates in ``hull``.
        The model is always built the same way (a fit with the kernel held
        fixed), whether the kernel came from the cache or was just fitted, so
        a cached kernel cannot make a proposal differ from a fresh one.
        """
        from sklearn.base import clone

        kernel = self._checkpoint_kernel(estimator, hull, x, y)
        model = clone(estimator).set_params(kernel=kernel, optimizer=None, n_restarts_optimizer=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(x, y)
        return model

    def fit_rows(self, count: int) -> Any:
        """Which of the first ``count`` observations the kernel's hyper-parameters are fitted on.

        All of them up to ``fit_limit``; beyond it ``fit_limit`` of them,
        evenly spaced from the first to the last (a subset of data for the
        hyper-parameters only: length scales and noise are estimated about
        as well from 128 points spread over the study as from all of them,
        at a fraction of the cost, which grows with the cube of the count).
        The model is then conditioned on every observation. The rows depend
        on ``count`` alone, so the kernel stays a function of the history.
        """
        import numpy as np

        if count <= self.fit_limit:
            return np.arange(count)
        return np.unique(np.linspace(0, count - 1, self.fit_limit).round().astype(int))

    def _checkpoint_kernel(self, estimator: Any, hull: SearchSpace, x: Any, y: Any) -> Any:
        """The kernel with hyper-parameters fitted on the first ``checkpoint(len(y))`` observations
        (at most ``fit_limit`` of them: :meth:`fit_rows`)."""
        from sklearn.base import clone

        count = self.checkpoint(len(y))
        key = _digest(hull, x[:count], y[:count])
        kernel = self._kernels.get(key)
        if kernel is not None:
            self._kernels.move_to_end(key)
            return kernel
        rows = self.fit_rows(count)
        model = clone(estimator).set_params(n_restarts_optimizer=self.restarts_for(count), random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(x[rows], y[rows])
        kernel = _with_noise(model)
        self._kernels[key] = kernel
        while len(self._kernels) > self.cached_kernels:
            self._kernels.popitem(last=False)
        return kernel

    def acquisition(self, rows: Any, model: Any, y_opt: float) -> Any:
        """The acquisition at ``rows`` (transformed candidates), higher is better."""
        from skopt.acquisition import gaussian_ei, gaussian_lcb, gaussian_pi

        posterior = _Posterior(model)
        if self.acq_func == "EI":
            return gaussian_ei(rows, posterior, y_opt=y_opt, xi=0.01)
        if self.acq_func == "PI":
            return gaussian_pi(rows, posterior, y_opt=y_opt, xi=0.01)
        return -gaussian_lcb(rows, posterior, kappa=1.96)

    def _one_blas_thread(self) -> Any:
        """A context limiting BLAS to one thread; the controller is made once (finding the libraries
        takes about 50 ms)."""
        if self._threads is None:
            from threadpoolctl import ThreadpoolController

            self._threads = ThreadpoolController()
        return self._threads.limit(limits=1, user_api="blas")

    def skopt_optimizer(self, hull: SearchSpace, seed: int) -> Any:
        """A fresh scikit-optimize ``Optimizer`` over ``hull``: its GP estimator and normalised space."""
        from skopt import Optimizer

        return Optimizer(to_skopt(hull), base_estimator="GP", acq_func=self.acq_func,
                         acq_optimizer="sampling", n_initial_points=1, random_state=seed)


class _Posterior:
    """A fitted scikit-optimize GP whose ``predict`` is scikit-learn's.

    Same mean and standard deviation (scikit-optimize's GP is a subclass and
    keeps the fitted state scikit-learn reads), computed with one triangular
    solve instead of an unvectorised ``einsum`` over the inverse kernel matrix.
    """

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, x: Any, return_std: bool = False) -> Any:
        from sklearn.gaussian_process import GaussianProcessRegressor

        return GaussianProcessRegressor.predict(self.model, x, return_std=return_std)


def candidates(space: SearchSpace, surrogate: Surrogate | None, n_points: int, seed: int
               ) -> tuple[list[list[Any]], list[list[Any]]]:
    """``n_points`` random points of ``space`` and the same points in the hull.

    In the hull the dimensions ``space`` lacks take the surrogate's ``fixed``
    values (the current architecture, "as before" for a removed dimension).
    """
    points = sample(space, n_points, seed)
    if surrogate is None or surrogate.hull == space:
        return points, points
    hull = surrogate.hull
    defaults = hull.project(dict(surrogate.fixed))
    where = {name: i for i, name in enumerate(space.names)}
    order = [(where.get(name), defaults[name]) for name in hull.names]
    rows = [[c[i] if i is not None else default for i, default in order] for c in points]
    return points, rows


def _with_noise(model: Any) -> Any:
    """The fitted kernel of a scikit-optimize GP, with its fitted noise put back.

    scikit-optimize fits ``amplitude * Matern + WhiteKernel`` and then zeroes
    the white noise in ``kernel_`` (predictions are noise-free) keeping its
    level in ``noise_``; conditioning on data again needs the noise.
    """
    from sklearn.gaussian_process.kernels import Sum, WhiteKernel

    fitted = model.kernel_
    if not (isinstance(fitted, Sum) and isinstance(fitted.k2, WhiteKernel) and model.noise_ is not None):
        raise TypeError(f"expected a fitted 'kernel + WhiteKernel' with its noise level, got {fitted!r}")
    # scikit-optimize's own kernel classes (they add gradients in x): rebuild with the same ones
    return type(fitted)(fitted.k1, type(fitted.k2)(noise_level=model.noise_))


def _digest(hull: SearchSpace, x: Any, y: Any) -> str:
    """A key for the kernel fitted on ``x``, ``y`` in ``hull``: equal only for the same data in the same hull."""
    import numpy as np

    sha = hashlib.sha256(repr(hull).encode())
    for array in (np.ascontiguousarray(x, dtype=float), np.ascontiguousarray(y, dtype=float)):
        sha.update(repr(array.shape).encode())
        sha.update(array.tobytes())
    return sha.hexdigest()
