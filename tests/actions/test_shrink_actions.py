"""The shrinking actions: decr_neurons by how far a trial is over its limits, the added layers taken back."""

from __future__ import annotations

import copy
import random

import pytest

from symtuner.core.architecture import Architecture, conv_filters_name, dense_units_name
from symtuner.core.space import Integer, SearchSpace, default_space
from symtuner.search.optimizers.base import Observation
from symtuner.search.optimizers.gp import GaussianProcessOptimizer
from symtuner.tuning.actions import OPPOSITES, ActionContext, NotApplicable, apply_action, describe_change
from symtuner.tuning.actions.shrink import shrink_factor

MIDDLE = {"unit_c1": 40, "unit_c2": 96, "unit_d": 384}


def ctx(trial=None, problem="model_size", **ratios) -> ActionContext:
    return ActionContext(best_params=None, conv_room=1, trial_params=trial, problem=problem, cost_ratios=ratios)


def units(space: SearchSpace) -> dict[str, tuple[int, int]]:
    return {d.name: (d.low, d.high) for d in space.dimensions if d.name.startswith("unit_")}


def test_shrink_factor_follows_how_far_over_the_limit_the_trial_is():
    assert shrink_factor(ctx(params=10.0)) == pytest.approx(10 ** -0.5)
    assert shrink_factor(ctx(params=1.1)) == pytest.approx(0.8)  # at least neurons_factor (1.25)
    assert shrink_factor(ctx(params=0.95)) == pytest.approx(0.8)  # near the limit, growing
    assert shrink_factor(ctx()) == pytest.approx(0.8)  # nothing measured
    # the costs of the problem answered decide: latency reads flops and latency_ms, not params
    assert shrink_factor(ctx(problem="latency", params=100.0, flops=4.0)) == pytest.approx(0.5)


def test_decr_neurons_lowers_every_width_below_the_diagnosed_trials():
    space, arch = apply_action("decr_neurons", default_space(), Architecture(), ctx(MIDDLE, params=10.0))
    assert arch == Architecture()
    # high = the trial's width / sqrt(10); a low above it falls, keeping the range's ratio of low to high
    assert units(space) == {"unit_c1": (3, 12), "unit_c2": (15, 30), "unit_d": (60, 121)}
    assert describe_change(default_space(), arch, space, arch)[0] == "unit_c1 low 16 -> 3"


def test_decr_neurons_near_the_limit_keeps_a_lower_bound_that_leaves_room():
    space, _ = apply_action("decr_neurons", default_space(), Architecture(), ctx({"unit_d": 500}, params=0.97))
    assert units(space)["unit_d"] == (256, 400)  # 500 x 0.8; the low 256 still leaves room
    assert units(space)["unit_c1"] == (16, 32)  # no width of the trial: the range's middle, 40 x 0.8


def test_decr_neurons_is_pure_keeps_bounds_apart_and_ends():
    space, arch, context = default_space(), Architecture(), ctx(MIDDLE, params=3.0)
    rng = random.Random(0)
    history = [{"unit_c1": rng.randint(16, 64), "unit_c2": rng.randint(64, 128), "unit_d": rng.randint(256, 512)}
               for _ in range(10)]
    for _step in range(40):
        before = copy.deepcopy((space, arch, context))
        try:
            space, arch = apply_action("decr_neurons", space, arch, context)
        except NotApplicable as exc:
            assert str(exc).startswith("decr_neurons: every unit/filter range is already at its narrowest")
            break
        assert (before[0], before[1], before[2]) != (space, arch, context) and before[2] == context
        for dim in space.dimensions:
            if isinstance(dim, Integer):
                assert 1 <= dim.low < dim.high
        assert all(space.contains(space.project({**p, **{k: v for k, v in MIDDLE.items()}})) for p in history)
    else:
        pytest.fail("decr_neurons never became not applicable")
    assert units(space) == {"unit_c1": (1, 2), "unit_c2": (1, 2), "unit_d": (1, 2)}


def test_decr_neurons_needs_unit_dimensions():
    with pytest.raises(NotApplicable, match="no integer dimension named unit_"):
        apply_action("decr_neurons", SearchSpace((Integer("batch_size", 8, 64),)), Architecture(), ctx())


@pytest.mark.parametrize("grow, remove, field, hp", [
    ("new_fc_layer", "remove_fc_layer", "extra_dense", dense_units_name(1)),
    ("new_conv_layer", "remove_conv_layer", "extra_conv", conv_filters_name(1)),
])
def test_removing_an_added_layer_takes_back_its_hp(grow, remove, field, hp):
    space, arch = default_space(), Architecture()
    with pytest.raises(NotApplicable, match=f"^{remove}: the tuning added no"):
        apply_action(remove, space, arch, ctx())
    grown, grown_arch = apply_action(grow, space, arch, ctx())
    back, back_arch = apply_action(remove, grown, grown_arch, ctx())
    assert (back, back_arch) == (space, arch)
    assert getattr(grown_arch, field) == 1 and getattr(back_arch, field) == 0
    assert describe_change(grown, grown_arch, back, back_arch) == [f"- dimension {hp}", f"{field} 1 -> 0"]
    # a trial of the grown network still maps into the space, and the GP still uses it
    point = {**{d.name: d.low for d in grown.dimensions if isinstance(d, Integer)}, "learning_rate": 1e-4,
             "dr1_2": 0.1, "dr_f": 0.1, "optimizer": "Adam", "activation": "relu"}
    assert back.contains(back.project(point))
    history = [Observation(point, 0.5), Observation(back.project(point), 0.4)] * 3
    assert back.contains(GaussianProcessOptimizer(n_initial=2).ask(back, history, seed=1))


def test_a_units_hp_of_the_users_own_space_stays_when_its_layer_is_taken_back():
    space = SearchSpace(default_space().dimensions + (Integer(dense_units_name(1), 8, 16),))
    back, arch = apply_action("remove_fc_layer", space, Architecture(extra_dense=1), ctx())
    assert back == space and arch.extra_dense == 0


def test_shrinking_and_growing_actions_oppose_each_other():
    for grow, shrink in (("inc_neurons", "decr_neurons"), ("new_fc_layer", "remove_fc_layer"),
                         ("new_conv_layer", "remove_conv_layer")):
        assert shrink in OPPOSITES[grow] and grow in OPPOSITES[shrink]
