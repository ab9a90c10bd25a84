"""Optuna's TPE sampler behind the same stateless ``ask`` (optional dependency)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from symtuner.core.errors import ConfigError
from symtuner.core.space import Categorical, Integer, SearchSpace, Value
from symtuner.search.optimizers.base import Observation, Surrogate, finite_losses


class TPEOptimizer:
    """Each call replays the projected history into a fresh in-memory Optuna study and asks once.

    TPE models each dimension's density inside the given distributions, so the
    history is projected into the current space (``surrogate`` is not used),
    except trials at a categorical value the space no longer offers, which are
    left out (see :func:`replayed`).
    """

    name = "tpe"

    def __init__(self, n_initial: int = 5) -> None:
        try:
            import optuna  # noqa: F401
        except ImportError:
            raise ConfigError("optimizer 'tpe' needs optuna: pip install 'symbolic-dnn-tuner[compare]'") from None
        self.n_initial = n_initial

    def ask(self, space: SearchSpace, history: Sequence[Observation], seed: int,
            surrogate: Surrogate | None = None) -> dict[str, Value]:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        distributions = {dim.name: _distribution(dim) for dim in space.dimensions}
        sampler = _sampler(optuna, self.n_initial, seed, any(o.constraints for o in history))
        study = optuna.create_study(direction="minimize", sampler=sampler)
        kept = replayed(space, history)
        constrained = any(o.constraints for o in kept)
        if constrained:  # TPE separates the trials over a limit itself: it is told their measured loss
            kept = [replace(o, loss=o.raw_loss if o.raw_loss is not None else o.loss) for o in kept]
        width = max((len(o.constraints) for o in kept), default=0)
        for observation, loss in zip(kept, finite_losses(kept)):
            params = space.project(observation.params)
            attrs = {_CONSTRAINTS: tuple(observation.constraints) or (0.0,) * width} if constrained else {}
            study.add_trial(optuna.trial.create_trial(params=params, distributions=distributions,
                                                      value=loss if math.isfinite(loss) else 1.0,
                                                      system_attrs=attrs))
        trial = study.ask(distributions)
        proposal = {name: trial.params[name] for name in space.names}
        return space.project(proposal) if space.conditional else proposal  # into the choice's own range


#: Where Optuna keeps a trial's constraint values (one per limit; above 0: over it).
_CONSTRAINTS = "constraints"


def _sampler(optuna: Any, n_initial: int, seed: int, constrained: bool) -> Any:
    """Optuna's TPE sampler; with constraints, as Optuna handles them: each trial's values in its
    system attributes, read by ``constraints_func`` (Optuna 3 and 4) or by the sampler itself (Optuna 5,
    where ``constraints_func`` is deprecated)."""
    if not constrained or int(optuna.__version__.split(".")[0]) >= 5:
        return optuna.samplers.TPESampler(n_startup_trials=n_initial, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # experimental in Optuna 3
        return optuna.samplers.TPESampler(n_startup_trials=n_initial, seed=seed,
                                          constraints_func=lambda trial: trial.system_attrs[_CONSTRAINTS])


def replayed(space: SearchSpace, history: Sequence[Observation]) -> list[Observation]:
    """The observations TPE can be told about in ``space``.

    A numeric value outside today's bounds is clipped to the nearest bound,
    which is near where it ran; a categorical value no longer offered (an
    optimizer ``drop_optimizer`` took out) has no near value: projected, it
    would become the first category and teach TPE that, say, Adam failed
    where Adadelta did. Such trials are left out.
    """
    categorical = [dim for dim in space.dimensions if isinstance(dim, Categorical)]
    return [o for o in history
            if all(dim.name not in o.params or dim.contains(o.params[dim.name]) for dim in categorical)]


def _distribution(dim: Any) -> Any:
    import optuna

    log = getattr(dim, "prior", "uniform") == "log-uniform"
    if isinstance(dim, Categorical):
        return optuna.distributions.CategoricalDistribution(list(dim.categories))
    if isinstance(dim, Integer):
        return optuna.distributions.IntDistribution(dim.low, dim.high, log=log)
    low, high = dim.envelope()  # a conditional dimension's every range (the proposal is clipped into its own)
    return optuna.distributions.FloatDistribution(low, high, log=log)
