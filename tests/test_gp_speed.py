"""The GP's kernel held between checkpoints: same proposals after a restart, every observation in the model.

Small ``hold_from`` values stand in for the default (100) so that the tests stay fast; timings are measured
in ``benchmarks/overhead.py``, not here.
"""

from __future__ import annotations

import numpy as np
import pytest

from symtuner.core.architecture import Architecture
from symtuner.core.errors import ConfigError
from symtuner.core.records import Trial, TrialState
from symtuner.core.space import default_space
from symtuner.search.optimizers import Observation, make_optimizer
from symtuner.search.optimizers.base import as_point
from symtuner.search.optimizers.gp import GaussianProcessOptimizer
from symtuner.search.surrogate import observations, surrogate
from symtuner.storage import TuningVersion


def _loss(params):
    return (np.log10(params["learning_rate"]) + 3.3) ** 2 + abs(params["unit_c1"] - 48) / 48 \
        + 0.3 * (params["optimizer"] == "Adadelta")


def _history(n, seed=0, space=None):
    space = space or default_space()
    rng = make_optimizer("random")
    return [Observation(p, _loss(p)) for p in (rng.ask(space, [], seed=seed * 1000 + i) for i in range(n))]


def _held(**kw):
    return GaussianProcessOptimizer(**{"n_initial": 3, "hold_from": 8, "refit_growth": 1.5, **kw})


def _narrowed_study(n):
    """A history whose first trials ran in a wider space (batch sizes below today's bound) with another
    architecture: the surrogate's hull differs from the current space."""
    first = default_space()
    narrowed = first.with_bounds("batch_size", 128, 256)
    versions = [TuningVersion(1, first, Architecture(), None, "", 0.0),
                TuningVersion(2, narrowed, Architecture(batch_norm=True), None, "", 0.0)]
    trials = [Trial(i + 1, TrialState.COMPLETE, o.params if i < n // 2 else narrowed.project(o.params),
                    1 if i < n // 2 else 2, objective=-o.loss)
              for i, o in enumerate(_history(n, seed=5))]
    trials[0] = Trial(1, TrialState.COMPLETE, {**trials[0].params, "batch_size": 17}, 1, objective=-0.1)
    return narrowed, observations(trials, versions, maximize=True), surrogate(versions, versions[-1])


class _CountingFits:
    """Counts the hyper-parameter fits (a GP fitted with its optimizer on)."""

    def __init__(self, monkeypatch):
        from skopt.learning import GaussianProcessRegressor

        self.sizes: list[int] = []
        fit = GaussianProcessRegressor.fit

        def spy(model, x, y):
            if model.optimizer is not None:
                self.sizes.append(len(y))
            return fit(model, x, y)

        monkeypatch.setattr(GaussianProcessRegressor, "fit", spy)


def test_checkpoints_grow_geometrically_from_hold_from():
    gp = GaussianProcessOptimizer()
    assert [gp.checkpoint(n) for n in (5, 99, 100, 124, 125, 156, 157, 196, 197, 246, 247, 300, 308, 309)] == \
        [5, 99, 100, 100, 125, 125, 157, 157, 197, 197, 247, 247, 247, 309]
    assert [_held().checkpoint(n) for n in range(7, 20)] == [7, 8, 8, 8, 8, 12, 12, 12, 12, 12, 12, 18, 18]
    for bad, message in [({"hold_from": 1}, "hold_from must be at least 2, got 1"),
                         ({"refit_growth": 1.0}, "refit_growth must be above 1, got 1.0"),
                         ({"acq_func": "EIps"}, "acq_func 'EIps' is not one of"),
                         ({"cached_kernels": 0}, "cached_kernels must be at least 1, got 0"),
                         ({"fit_limit": 1}, "fit_limit must be at least 2, got 1")]:
        with pytest.raises(ConfigError, match=message):
            GaussianProcessOptimizer(**bad)


@pytest.mark.parametrize("with_hull", [False, True])
def test_a_fresh_optimizer_proposes_what_one_that_served_the_earlier_calls_does(monkeypatch, with_hull):
    """The resume property, at lengths before, at, between and after the checkpoints 8, 12 and 18."""
    lengths = [6, 8, 10, 12, 13, 17, 18, 20]
    if with_hull:
        space, history, model = _narrowed_study(20)
        assert model.hull != space
    else:
        space, history, model = default_space(), _history(20), None
    fits = _CountingFits(monkeypatch)
    served = _held()
    sequence = [served.ask(space, history[:n], seed=n, surrogate=model) for n in lengths]
    assert fits.sizes == [6, 8, 12, 18]  # below hold_from every call; then once per checkpoint
    for n, proposal in zip(lengths, sequence):
        assert space.contains(proposal)
        assert _held().ask(space, history[:n], seed=n, surrogate=model) == proposal, n
    assert len(set(map(str, sequence))) == len(sequence)  # the history moves the proposals


def test_below_hold_from_the_proposal_is_the_fresh_fit_on_everything():
    history = _history(10)
    held = _held()
    assert GaussianProcessOptimizer(n_initial=3).ask(default_space(), history[:7], seed=3) == \
        held.ask(default_space(), history[:7], seed=3)
    # from hold_from on the kernel is held: the proposal between checkpoints is not a fresh fit's
    fresh = GaussianProcessOptimizer(n_initial=3, hold_from=1000)
    assert fresh.ask(default_space(), history, seed=3) != held.ask(default_space(), history, seed=3)


def test_the_held_model_sees_every_observation_at_its_true_coordinates():
    space, history, model = _narrowed_study(16)
    gp = _held(restart_limit=8)  # kernel fits from one start, as gp.fit's below
    optimizer = gp.fit(space, history, seed=1, surrogate=model, next_point=False)
    x = optimizer.space.transform([as_point(model.hull, o.params) for o in history])
    y = np.array([o.loss for o in history])
    held = gp.held_model(optimizer.base_estimator_, model.hull, x, y)
    np.testing.assert_array_equal(held.X_train_, x)  # all 16 rows, not the checkpoint's 12
    np.testing.assert_array_equal(held.y_train_, (y - y.mean()) / y.std())
    batch = model.hull.names.index("batch_size")
    assert history[0].params["batch_size"] == 17 and optimizer.Xi[0][batch] == 17  # not clipped to 128
    # conditioned on every point: the posterior mean passes close to each observed loss
    np.testing.assert_allclose(held.predict(x), y, atol=0.05 * np.ptp(y))
    # the kernel is the one fitted on the first 12 (checkpoint), not on all 16
    on_first = gp.fit(space, history[:12], seed=1, surrogate=model, next_point=False).models[-1]
    on_all = optimizer.models[-1]
    np.testing.assert_allclose(held.kernel_.k1.theta, on_first.kernel_.k1.theta, rtol=1e-6)
    assert not np.allclose(held.kernel_.k1.theta, on_all.kernel_.k1.theta, rtol=1e-3)
    assert held.noise_ == pytest.approx(on_first.noise_, rel=1e-6)


def test_beyond_fit_limit_the_kernel_is_fitted_on_an_even_subset_and_the_model_sees_everything(monkeypatch):
    gp = GaussianProcessOptimizer()
    assert list(gp.fit_rows(100)) == list(range(100)) and len(gp.fit_rows(128)) == 128
    rows = gp.fit_rows(309)
    assert len(rows) == 128 and rows[0] == 0 and rows[-1] == 308 and np.all(np.diff(rows) >= 2)
    fits = _CountingFits(monkeypatch)
    history = _history(20)
    limited = _held(fit_limit=6)
    proposal = limited.ask(default_space(), history, seed=4)
    assert fits.sizes == [6]  # checkpoint 18, fitted on 6 of its rows
    assert _held(fit_limit=6).ask(default_space(), history, seed=4) == proposal  # still a function of the history
    assert _held().ask(default_space(), history, seed=4) != proposal  # the kernel came from fewer points
    optimizer = limited.fit(default_space(), history, seed=4, next_point=False)
    x = optimizer.space.transform([as_point(default_space(), o.params) for o in history])
    held = limited.held_model(optimizer.base_estimator_, default_space(), x, np.array([o.loss for o in history]))
    assert len(held.X_train_) == 20


def test_a_changed_early_observation_or_hull_refits_the_kernel(monkeypatch):
    fits = _CountingFits(monkeypatch)
    history = _history(14)
    gp = _held()
    gp.ask(default_space(), history, seed=1)
    gp.ask(default_space(), history[:13] + [Observation(history[13].params, 9.0)], seed=1)  # after the checkpoint
    assert fits.sizes == [12]
    gp.ask(default_space(), [Observation(history[0].params, 9.0)] + history[1:], seed=1)  # inside it
    wider = default_space().with_bounds("batch_size", 8, 256)
    gp.ask(wider, history, seed=1)
    assert fits.sizes == [12, 12, 12]


def test_the_posterior_is_scikit_optimizes():
    """scikit-learn's predict on scikit-optimize's fitted GP: the same mean and std, computed faster."""
    from symtuner.search.optimizers.gp import _Posterior

    history = _history(40)
    optimizer = GaussianProcessOptimizer(n_initial=3).fit(default_space(), history, seed=2, next_point=False)
    model = optimizer.models[-1]
    rows = optimizer.space.transform(optimizer.space.rvs(500, random_state=4))
    mean, std = model.predict(rows, return_std=True)
    fast_mean, fast_std = _Posterior(model).predict(rows, return_std=True)
    np.testing.assert_allclose(fast_mean, mean, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast_std, std, rtol=1e-6, atol=1e-9)


def test_a_resumed_study_above_hold_from_proposes_what_an_uninterrupted_one_does(tmp_path, tiny_dataset,
                                                                                 monkeypatch):
    from symtuner.core.settings import StudySettings
    from symtuner.execution.simulate import SimulatedExecutor
    from symtuner.storage import StudyStore
    from symtuner.study import tuner as tuner_module

    # checkpoints 5, 8 and 12
    monkeypatch.setattr(tuner_module, "make_optimizer", lambda name, n_initial: _held(hold_from=5))

    def run(path, total):
        tuner_module.Tuner(path, dataset=tiny_dataset, settings=StudySettings(epochs=3, n_initial=3, seed=2),
                           executor_factory=SimulatedExecutor).run(total)

    run(tmp_path / "once", 10)
    run(tmp_path / "twice", 6)  # stops between the checkpoints 5 and 8
    run(tmp_path / "twice", 10)
    params = []
    for name in ("once", "twice"):
        with StudyStore.open(tmp_path / name, readonly=True) as store:
            params.append([t.params for t in store.trials(with_curves=False)])
    assert len(params[0]) == 10 and params[0] == params[1]
