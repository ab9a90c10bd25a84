"""The surrogate sees what really ran: true coordinates in the span of every space, architecture as
dimensions, proposals only inside the current space."""

from __future__ import annotations

import pytest

from symtuner.core.architecture import Architecture
from symtuner.core.records import Trial, TrialState
from symtuner.core.space import Categorical, Integer, Real, SearchSpace, default_space, span
from symtuner.search.optimizers import Observation, make_optimizer
from symtuner.search.optimizers.gp import GaussianProcessOptimizer
from symtuner.search.surrogate import observations, surrogate
from symtuner.storage import TuningVersion


def version(number: int, space: SearchSpace, arch: Architecture | None = None) -> TuningVersion:
    return TuningVersion(number, space, arch or Architecture(), None, "", 0.0)


def test_span_takes_the_widest_bounds_every_category_and_every_dimension():
    a = SearchSpace((Integer("b", 16, 64), Real("lr", 1e-4, 1e-3, "log-uniform"), Categorical("o", ("x",))))
    b = SearchSpace((Integer("b", 32, 256), Real("lr", 5e-5, 5e-4, "log-uniform"), Categorical("o", ("y", "x")))
                    ).with_dimension(Real("l2", 1e-5, 1e-2), fill=1e-5)
    hull = span([a, b])
    assert hull["b"] == Integer("b", 16, 256)
    assert hull["lr"] == Real("lr", 5e-5, 1e-3, "log-uniform")
    assert hull["o"].categories == ("x", "y")
    assert hull.names == ["b", "lr", "o", "l2"] and hull.fill_for("l2") == 1e-5
    assert span([a]) == a


def trial(number: int, params: dict, objective: float, version_number: int) -> Trial:
    return Trial(number, TrialState.COMPLETE, params, version_number, objective=objective)


def test_a_trial_outside_todays_bounds_keeps_its_true_coordinates():
    first = default_space()
    narrowed = first.with_bounds("batch_size", 128, 256)
    versions = [version(1, first), version(2, narrowed)]
    rng_space = make_optimizer("random")
    trials = [trial(i + 1, rng_space.ask(first, [], seed=i), 0.5 + 0.01 * i, 1) for i in range(6)]
    trials[0] = trial(1, {**trials[0].params, "batch_size": 17}, 0.9, 1)
    history = observations(trials, versions, maximize=True)
    model = surrogate(versions, versions[-1])
    assert model.hull["batch_size"] == Integer("batch_size", 16, 256)
    gp = GaussianProcessOptimizer(n_initial=3)
    fitted = gp.fit(narrowed, history, seed=1, surrogate=model)
    column = model.hull.names.index("batch_size")
    assert fitted.Xi[0][column] == 17  # not clipped to 128
    proposal = gp.ask(narrowed, history, seed=1, surrogate=model)
    assert narrowed.contains(proposal) and proposal["batch_size"] >= 128
    # without the hull the old points are clipped into today's bounds
    clipped = gp.fit(narrowed, history, seed=1)
    assert clipped.Xi[0][narrowed.names.index("batch_size")] == 128


def test_a_trial_of_a_dropped_optimizer_keeps_it_and_no_proposal_uses_it():
    first = default_space()
    narrowed = first.with_categories("optimizer", ["Adam", "Adamax"])
    versions = [version(1, first), version(2, narrowed)]
    rng_space = make_optimizer("random")
    trials = [trial(i + 1, {**rng_space.ask(first, [], seed=i), "optimizer": ("Adam", "Adamax")[i % 2]},
                    0.5 + 0.05 * i, 1) for i in range(6)]
    trials[0] = trial(1, {**trials[0].params, "optimizer": "Adadelta"}, 0.1, 1)
    history = observations(trials, versions, maximize=True)
    model = surrogate(versions, versions[-1])
    assert model.hull["optimizer"].categories == ("Adam", "Adamax", "Adadelta")
    gp = GaussianProcessOptimizer(n_initial=3)
    fitted = gp.fit(narrowed, history, seed=1, surrogate=model)
    assert fitted.Xi[0][model.hull.names.index("optimizer")] == "Adadelta"  # not turned into Adam
    for seed in range(5):
        assert gp.ask(narrowed, history, seed=seed, surrogate=model)["optimizer"] in ("Adam", "Adamax")


def test_architecture_changes_are_dimensions_with_each_trials_value():
    space = default_space()
    with_l2 = space.with_dimension(Real("l2", 1e-5, 1e-2, "log-uniform"), fill=1e-5)
    versions = [version(1, space), version(2, with_l2, Architecture(l2=True, batch_norm=True))]
    model = surrogate(versions, versions[-1])
    assert {"arch_l2", "arch_batch_norm"} <= set(model.hull.names)
    assert "arch_extra_dense" not in model.hull.names  # never changed: no dimension
    assert model.fixed["arch_l2"] == 1
    params = make_optimizer("random").ask(space, [], seed=3)
    trials = [trial(1, params, 0.8, 1), trial(2, {**params, "l2": 1e-3}, 0.6, 2)]
    old, new = observations(trials, versions, maximize=True)
    assert (old.params["arch_l2"], new.params["arch_l2"]) == (0, 1)
    assert old.loss == pytest.approx(-0.8)
    # reverted: the current version is the first again, but the hull remembers the change
    reverted = surrogate(versions + [version(3, space)], version(3, space))
    assert "l2" in reverted.hull.names and reverted.fixed["arch_l2"] == 0


def test_without_changes_the_proposal_is_todays():
    space = default_space()
    history = [Observation(make_optimizer("random").ask(space, [], seed=i), float(i)) for i in range(6)]
    model = surrogate([version(1, space)], version(1, space))
    assert model.hull == space
    gp = make_optimizer("gp", n_initial=3)
    assert gp.ask(space, history, seed=5, surrogate=model) == gp.ask(space, history, seed=5)
