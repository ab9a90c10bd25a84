import math

import pytest

from symtuner.core.errors import ConfigError
from symtuner.core.space import Integer, Real, default_space
from symtuner.search.optimizers import Observation, make_optimizer


def _loss(params):
    return (params["learning_rate"] - 5e-4) ** 2 * 1e6 + abs(params["unit_c1"] - 48) / 48


def _run(name, seed, n=8, space=None):
    space = space or default_space()
    optimizer = make_optimizer(name, n_initial=3)
    history = []
    for i in range(n):
        params = optimizer.ask(space, history, seed=seed * 1000 + i)
        assert space.contains(params), params
        history.append(Observation(params, _loss(params)))
    return history


@pytest.mark.parametrize("name", ["gp", "random", "tpe"])
def test_same_seed_same_proposals(name):
    assert [o.params for o in _run(name, 1)] == [o.params for o in _run(name, 1)]
    assert [o.params for o in _run(name, 1)] != [o.params for o in _run(name, 2)]


def test_proposals_are_plain_python_values():
    for o in _run("gp", 3, n=5):
        for value in o.params.values():
            assert type(value) in (int, float, str), (value, type(value))


def test_gp_uses_history_across_space_changes():
    """Points from older spaces are projected, not dropped: the proposal depends on them."""
    history = _run("gp", 4, n=6)
    changed = (default_space().with_bounds("learning_rate", 1e-4, 6e-4)
               .with_dimension(Real("l2", 1e-5, 1e-2, "log-uniform"), fill=1e-5)
               .with_dimension(Integer("unit_fc1", 32, 512), fill=32))
    gp = make_optimizer("gp", n_initial=3)
    with_history = gp.ask(changed, history, seed=9)
    assert changed.contains(with_history)
    assert gp.ask(changed, history, seed=9) == with_history
    # Removing the old points changes the proposal: they were used.
    assert gp.ask(changed, history[:3], seed=9) != with_history


def test_diverged_trials_count_as_worst():
    history = _run("gp", 5, n=5)
    history.append(Observation(history[0].params, math.nan))
    params = make_optimizer("gp", n_initial=3).ask(default_space(), history, seed=1)
    assert default_space().contains(params)


def test_unknown_optimizer():
    with pytest.raises(ConfigError, match="optimizer 'bohb' is not one of"):
        make_optimizer("bohb")


def test_gp_kernel_restarts_drop_to_one_start_from_the_limit(monkeypatch):
    from skopt import Optimizer

    from symtuner.search.optimizers.gp import GaussianProcessOptimizer

    gp = GaussianProcessOptimizer(n_initial=3, restart_limit=10)
    assert [gp.restarts_for(n) for n in (3, 9, 10, 300)] == [2, 2, 0, 0]
    seen = []
    tell = Optimizer.tell

    def spy(self, *args, **kwargs):
        seen.append(self.base_estimator_.n_restarts_optimizer)
        return tell(self, *args, **kwargs)

    monkeypatch.setattr(Optimizer, "tell", spy)
    history = _run("random", 6, n=12)
    for n in (9, 12):
        assert default_space().contains(gp.ask(default_space(), history[:n], seed=1))
    assert seen == [2, 0]
    with pytest.raises(ConfigError, match="n_restarts must be at least 0, got -1"):
        GaussianProcessOptimizer(n_restarts=-1)


def test_below_hold_from_a_proposal_is_a_fresh_scikit_optimize_optimizers():
    """Small studies propose what a scikit-optimize Optimizer told every trial proposes (the kernel is re-fitted)."""
    import warnings

    from skopt import Optimizer

    from symtuner.search.optimizers.base import as_point, plain, to_skopt
    from symtuner.search.optimizers.gp import GaussianProcessOptimizer

    space = default_space()
    history = _run("random", 7, n=12)
    reference = Optimizer(to_skopt(space), base_estimator="GP", acq_func="EI", acq_optimizer="sampling",
                          n_initial_points=1, random_state=5)
    reference.base_estimator_.set_params(n_restarts_optimizer=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        reference.tell([as_point(space, o.params) for o in history], [o.loss for o in history])
        expected = {name: plain(value) for name, value in zip(space.names, reference.ask())}
    gp = GaussianProcessOptimizer(n_initial=3)
    assert len(history) < gp.hold_from
    assert gp.ask(space, history, seed=5) == expected
