"""Tuning actions: bounds moved as specified, never crossing, caps, purity, projection of old trials."""

from __future__ import annotations

import copy
import math
import random

import pytest

from symtuner.core.architecture import L2_NAME, Architecture, conv_filters_name, dense_units_name
from symtuner.core.errors import ConfigError
from symtuner.core.space import Categorical, Integer, Real, SearchSpace, default_space
from symtuner.tuning.actions import (
    ACTIONS,
    ActionContext,
    ActionSettings,
    NotApplicable,
    apply_action,
    describe_change,
    get_action,
    is_applicable,
)

EXPECTED_NAMES = {"reg_l2", "batch_norm", "inc_dropout", "data_augmentation", "decr_lr", "inc_lr",
                  "inc_neurons", "inc_batch_size", "new_fc_layer", "new_conv_layer", "drop_optimizer",
                  "decr_neurons", "remove_fc_layer", "remove_conv_layer", "decr_dropout", "decr_l2",
                  "decr_batch_size", "drop_activation"}
#: Actions that take back a change of the tuning: they apply to none of the default network (their properties
#: are tested from a grown network in tests/actions/test_shrink_actions.py).
TAKE_BACK = {"remove_fc_layer", "remove_conv_layer", "decr_l2"}  # decr_l2 needs reg_l2 first: test_relax_actions
#: How often each action applies to the default space before NotApplicable (default settings).
EXPECTED_REPEATS = {"reg_l2": 1, "batch_norm": 1, "data_augmentation": 1, "new_fc_layer": 3,
                    "new_conv_layer": 1, "inc_dropout": 9, "decr_lr": 2, "inc_lr": 1, "inc_neurons": 6,
                    "inc_batch_size": 4, "drop_optimizer": 1, "decr_neurons": 14, "decr_dropout": 1,
                    "decr_batch_size": 1, "drop_activation": 1}
BEST = {"unit_c1": 40, "dr1_2": 0.1, "unit_c2": 96, "unit_d": 300, "dr_f": 0.2, "learning_rate": 3e-4,
        "batch_size": 64, "optimizer": "Adam", "activation": "relu"}


#: A trial whose optimizer, not its rate, failed: Adadelta at the rate where the best trial's Adam trained well.
FAILED_OPTIMIZER = {**BEST, "optimizer": "Adadelta"}


def ctx(best: dict | None = BEST, conv_room: int = 1, trial: dict | None = None, problem: str | None = None,
        **settings) -> ActionContext:
    return ActionContext(best_params=None if best is None else dict(best), conv_room=conv_room,
                         settings=ActionSettings(**settings), trial_params=trial, problem=problem)


#: The context each action is repeated in (the default one unless its evidence needs a diagnosed trial).
REPEAT_CONTEXTS = {
    "drop_optimizer": lambda: ctx(trial=FAILED_OPTIMIZER, problem="low_lr"),
    # a trial with the best trial's optimizer and rate whose activation, not the best's, failed
    "drop_activation": lambda: ctx(trial={**BEST, "activation": "selu"}, problem="underfitting"),
    # a trial whose dropouts lay high in their ranges; one whose 3 epochs of 300 images took 9 steps
    "decr_dropout": lambda: ctx(trial={**BEST, "dr1_2": 0.28, "dr_f": 0.45}, problem="underfitting"),
    "decr_batch_size": lambda: ActionContext(best_params=dict(BEST), conv_room=1, problem="underfitting",
                                             trial_params={**BEST, "batch_size": 128}, n_train=300, epochs=3),
}


def sample(space: SearchSpace, rng: random.Random) -> dict:
    """A point of ``space``; log-uniform reals sampled in log space."""
    out: dict = {}
    for dim in space.dimensions:
        if isinstance(dim, Categorical):
            out[dim.name] = rng.choice(dim.categories)
        elif isinstance(dim, Integer):
            out[dim.name] = rng.randint(dim.low, dim.high)
        elif dim.prior == "log-uniform":
            out[dim.name] = math.exp(rng.uniform(math.log(dim.low), math.log(dim.high)))
        else:
            out[dim.name] = rng.uniform(dim.low, dim.high)
    return out


def corners(space: SearchSpace) -> list[dict]:
    """The all-low and all-high points of ``space``."""
    def pick(dim, end):
        if isinstance(dim, Categorical):
            return dim.categories[0 if end == "low" else -1]
        return getattr(dim, end)
    return [{dim.name: pick(dim, end) for dim in space.dimensions} for end in ("low", "high")]


def numeric_bounds(space: SearchSpace) -> dict[str, tuple]:
    return {d.name: (d.low, d.high) for d in space.dimensions if not isinstance(d, Categorical)}


# -- registry ------------------------------------------------------------------------
def test_registry_has_every_rule_action_and_is_read_only():
    assert set(ACTIONS) == EXPECTED_NAMES
    with pytest.raises(TypeError):
        ACTIONS["reg_l2"] = ACTIONS["batch_norm"]  # type: ignore[index]
    assert get_action("decr_lr") is ACTIONS["decr_lr"]


@pytest.mark.parametrize("call", [apply_action, is_applicable])
def test_unknown_action_names_it_and_lists_known_ones(call):
    with pytest.raises(ConfigError, match=r"unknown tuning action 'inc_l2'.*decr_lr.*reg_l2"):
        call("inc_l2", default_space(), Architecture(), ctx())


def test_apply_action_rejects_wrong_argument_types():
    with pytest.raises(ConfigError, match="expected a SearchSpace"):
        apply_action("reg_l2", {"learning_rate": 1}, Architecture(), ctx())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="expected an ActionContext"):
        apply_action("reg_l2", default_space(), Architecture(), None)  # type: ignore[arg-type]


# -- properties every action has -----------------------------------------------------
@pytest.mark.parametrize("name", sorted(EXPECTED_NAMES - TAKE_BACK))
def test_repeated_until_not_applicable(name):
    """Each step: pure, bounds never cross, old trials project, is_applicable agrees; ends at a cap/edge."""
    rng = random.Random(0)
    context = REPEAT_CONTEXTS.get(name, ctx)()
    space, arch = default_space(), Architecture()
    history = [sample(space, rng) for _ in range(20)] + corners(space)
    applied = 0
    while True:
        space_copy, arch_copy, ctx_copy = copy.deepcopy(space), copy.deepcopy(arch), copy.deepcopy(context)
        applicable = is_applicable(name, space, arch, context)
        try:
            new_space, new_arch = apply_action(name, space, arch, context)
        except NotApplicable as exc:
            assert not applicable
            assert str(exc).startswith(f"{name}: ")
            break
        assert applicable
        applied += 1
        assert applied <= 50, "action never becomes not applicable"
        # purity
        assert (space, arch) == (space_copy, arch_copy)
        assert context == ctx_copy
        # it changed something, and says what
        assert (new_space, new_arch) != (space, arch)
        assert describe_change(space, arch, new_space, new_arch)
        # bounds never cross
        for dim in new_space.dimensions:
            if not isinstance(dim, Categorical):
                assert dim.low < dim.high, dim
        # every earlier trial still maps into the new space
        for params in history:
            projected = new_space.project(params)
            assert new_space.contains(projected), (params, projected)
        history += [sample(new_space, rng) for _ in range(5)] + corners(new_space)
        space, arch = new_space, new_arch
    assert applied == EXPECTED_REPEATS[name]


@pytest.mark.parametrize("name", sorted(EXPECTED_NAMES - TAKE_BACK))
def test_gp_optimizer_uses_old_trials_after_the_change(name):
    """Trials from before the change still feed Bayesian optimisation in the new space."""
    from symtuner.search.optimizers.base import Observation
    from symtuner.search.optimizers.gp import GaussianProcessOptimizer

    rng = random.Random(1)
    space, arch = default_space(), Architecture()
    history = [Observation(sample(space, rng), rng.random()) for _ in range(6)]
    new_space, _ = apply_action(name, space, arch, REPEAT_CONTEXTS.get(name, ctx)())
    proposal = GaussianProcessOptimizer(n_initial=5).ask(new_space, history, seed=3)
    assert new_space.contains(proposal)


# -- reg_l2, batch_norm, data_augmentation ----------------------------------------------
def test_reg_l2_adds_log_uniform_factor_with_smallest_value_as_fill():
    space, arch = apply_action("reg_l2", default_space(), Architecture(), ctx())
    assert arch == Architecture(l2=True)
    dim = space[L2_NAME]
    assert isinstance(dim, Real) and (dim.low, dim.high, dim.prior) == (1e-6, 1e-2, "log-uniform")
    assert space.fill_for(L2_NAME) == 1e-6
    assert space.project(BEST)[L2_NAME] == 1e-6
    assert space.names[:-1] == default_space().names
    again = ctx(l2_range=(1e-5, 1e-3))
    assert apply_action("reg_l2", default_space(), Architecture(), again)[0][L2_NAME].high == 1e-3


def test_reg_l2_keeps_a_user_defined_l2_dimension():
    user = default_space().with_dimension(Real(L2_NAME, 1e-4, 1e-3), fill=1e-4)
    space, arch = apply_action("reg_l2", user, Architecture(), ctx())
    assert space == user and arch.l2


@pytest.mark.parametrize("name, field, reason", [
    ("reg_l2", "l2", "reg_l2: L2 regularisation is already on"),
    ("batch_norm", "batch_norm", "batch_norm: batch normalisation is already on"),
    ("data_augmentation", "augmentation", "data_augmentation: data augmentation is already on"),
])
def test_switches_turn_on_once(name, field, reason):
    space, arch = apply_action(name, default_space(), Architecture(), ctx())
    assert getattr(arch, field) is True
    assert arch.with_changes(**{field: False}) == Architecture()
    if name != "reg_l2":
        assert space == default_space()
    assert not is_applicable(name, space, arch, ctx())
    with pytest.raises(NotApplicable) as info:
        apply_action(name, space, arch, ctx())
    assert str(info.value) == reason


@pytest.mark.parametrize("flip", [False, True])
def test_data_augmentation_keeps_the_flip_setting(flip):
    _, arch = apply_action("data_augmentation", default_space(), Architecture(flip=flip), ctx())
    assert arch == Architecture(augmentation=True, flip=flip)


# -- inc_dropout -----------------------------------------------------------------------
def test_inc_dropout_raises_dropout_lows_only():
    before = default_space()
    after, arch = apply_action("inc_dropout", before, Architecture(), ctx())
    assert after["dr1_2"].low == pytest.approx(0.052) and after["dr1_2"].high == 0.3
    assert after["dr_f"].low == pytest.approx(0.08) and after["dr_f"].high == 0.5
    untouched = {n: b for n, b in numeric_bounds(before).items() if not n.startswith("dr")}
    assert {n: numeric_bounds(after)[n] for n in untouched} == untouched
    assert arch == Architecture()


def test_inc_dropout_leaves_augmentation_and_flip_on():
    arch = Architecture(augmentation=True, flip=True, l2=True)
    _, after = apply_action("inc_dropout", default_space(), arch, ctx())
    assert after == arch


def test_inc_dropout_stops_short_of_the_upper_bound():
    space = SearchSpace((Real("dr1", 0.27, 0.3), Real("dr2", 0.285, 0.3), Integer("units", 1, 4)))
    after, _ = apply_action("inc_dropout", space, Architecture(), ctx())
    assert after["dr1"].low == pytest.approx(0.28)
    assert after["dr2"] == space["dr2"]  # already within the minimum width
    with pytest.raises(NotApplicable, match=r"inc_dropout: every dropout lower bound .*dr1 \[0.28, 0.3\]"):
        apply_action("inc_dropout", after, Architecture(), ctx())


def test_inc_dropout_without_dropout_dimensions():
    space = SearchSpace((Integer("units", 1, 4), Categorical("drop_mode", ("a", "b"))))
    with pytest.raises(NotApplicable, match="inc_dropout: the search space has no real dimension named dr"):
        apply_action("inc_dropout", space, Architecture(), ctx())


# -- decr_lr / inc_lr --------------------------------------------------------------------
def lr_range(space: SearchSpace) -> tuple[float, float]:
    return space["learning_rate"].low, space["learning_rate"].high


def test_decr_lr_cuts_the_range_at_the_diagnosed_trials_rate():
    space, arch = apply_action("decr_lr", default_space(), Architecture(),
                               ctx(best={"learning_rate": 2e-4}, trial={"learning_rate": 2.4e-4}))
    assert lr_range(space) == pytest.approx((8e-5, 2.4e-4))  # at least lr_factor (3) wide
    assert arch == Architecture()
    assert describe_change(default_space(), arch, space, arch) == [
        "learning_rate low 0.0001 -> 8e-05", "learning_rate high 0.001 -> 0.00024"]


def test_decr_lr_never_cuts_off_the_best_rate():
    space, _ = apply_action("decr_lr", default_space(), Architecture(),
                            ctx(best={"learning_rate": 6e-4}, trial={"learning_rate": 2e-4}))
    assert lr_range(space) == pytest.approx((1e-4, 6e-4))


def test_decr_lr_without_a_trial_anchors_at_the_geometric_middle():
    space, _ = apply_action("decr_lr", default_space(), Architecture(), ctx(best=None))
    assert lr_range(space) == pytest.approx((1e-4, 10 ** -3.5))


def test_decr_lr_is_not_applicable_when_the_trial_says_nothing_new():
    # the best trial trained well at the top of the range, which already reaches lr_factor below it
    with pytest.raises(NotApplicable, match=r"decr_lr: learning_rate \[0.0001, 0.001\] cannot move down: it "
                                            r"ends at 0.001 \(the diagnosed or the best trial's rate\)"):
        apply_action("decr_lr", default_space(), Architecture(),
                     ctx(best={"learning_rate": 1e-3}, trial={"learning_rate": 4e-4}))


def test_inc_lr_stops_once_the_range_starts_at_the_best_rate():
    """A trial that stalls at a rate above the best one (an optimizer that barely
    moves, like Adadelta at these rates) raises the low to the best rate once;
    more such trials do not widen the range again and again."""
    context = ctx(best={"learning_rate": 2.65e-4}, trial={"learning_rate": 5e-4})
    space, _ = apply_action("inc_lr", default_space(), Architecture(), context)
    assert lr_range(space) == pytest.approx((2.65e-4, 1e-3))
    with pytest.raises(NotApplicable, match=r"inc_lr: .* cannot move up: it starts at 0.000265"):
        apply_action("inc_lr", space, Architecture(), context)


def test_inc_lr_raises_the_low_to_the_diagnosed_trials_rate():
    space, _ = apply_action("inc_lr", default_space(), Architecture(),
                            ctx(best={"learning_rate": 6e-4}, trial={"learning_rate": 2e-4}))
    assert lr_range(space) == pytest.approx((2e-4, 1e-3))


def test_inc_lr_never_cuts_off_the_best_rate():
    space, _ = apply_action("inc_lr", default_space(), Architecture(),
                            ctx(best={"learning_rate": 3e-4}, trial={"learning_rate": 6e-4}))
    assert lr_range(space) == pytest.approx((3e-4, 1e-3))


def test_lr_actions_ignore_a_trial_rate_outside_the_range():
    # e.g. a trial proposed before an earlier change of the range
    space, _ = apply_action("inc_lr", default_space(), Architecture(),
                            ctx(best=None, trial={"learning_rate": 0.5}))
    assert lr_range(space) == pytest.approx((10 ** -3.5, 1e-3))


def test_repeated_lr_actions_move_the_range_by_less_than_the_old_tenfold_steps():
    """Anchored moves: a low_lr trial at 2e-4 and then a high_lr trial at 8e-4
    narrow the range to the rates between them, instead of a tenfold swing
    up and a tenfold swing down."""
    space, _ = apply_action("inc_lr", default_space(), Architecture(),
                            ctx(best={"learning_rate": 6e-4}, trial={"learning_rate": 2e-4}))
    space, _ = apply_action("decr_lr", space, Architecture(),
                            ctx(best={"learning_rate": 6e-4}, trial={"learning_rate": 8e-4}))
    assert lr_range(space) == pytest.approx((2e-4, 8e-4))


def lr_space(low: float, high: float) -> SearchSpace:
    return SearchSpace((Real("learning_rate", low, high, "log-uniform"), Integer("batch_size", 8, 64)))


LR_CASES = [(low, high, best, trial)
            for low, high in [(1e-4, 1e-3), (1e-7, 1e-6), (1e-7, 1e-3), (0.5, 1.0), (1e-6, 2.0), (1e-9, 1e-8)]
            for best in [None, low, high, math.sqrt(low * high), low / 100, high * 100, float("nan"), "x"]
            for trial in [None, low, high, low * 1.5, low / 100, float("nan")]]


def lr_ctx(best, trial) -> ActionContext:
    return ctx(best=None if best is None else {"learning_rate": best},
               trial=None if trial is None else {"learning_rate": trial})


@pytest.mark.parametrize("low, high, best, trial", LR_CASES)
def test_decr_lr_never_raises_high_nor_low_and_never_crosses(low, high, best, trial):
    space = lr_space(low, high)
    context = lr_ctx(best, trial)
    try:
        after, _ = apply_action("decr_lr", space, Architecture(), context)
    except NotApplicable as exc:
        assert "cannot move down" in str(exc)
        floor = context.settings.lr_floor
        assert low <= floor * (1 + 1e-9) or high / low >= context.settings.lr_factor * (1 - 1e-9)
        return
    lr = after["learning_rate"]
    assert lr.low < lr.high <= high and lr.low <= low
    assert lr.low >= min(low, context.settings.lr_floor)
    assert (lr.low, lr.high) != (low, high)


@pytest.mark.parametrize("low, high, best, trial", LR_CASES)
def test_inc_lr_never_lowers_low_nor_high_and_never_crosses(low, high, best, trial):
    space = lr_space(low, high)
    context = lr_ctx(best, trial)
    try:
        after, _ = apply_action("inc_lr", space, Architecture(), context)
    except NotApplicable as exc:
        assert "cannot move up" in str(exc)
        ceiling = context.settings.lr_ceiling
        assert high >= ceiling * (1 - 1e-9) or high / low >= context.settings.lr_factor * (1 - 1e-9)
        return
    lr = after["learning_rate"]
    assert low <= lr.low < lr.high and lr.high >= high
    assert lr.high <= max(high, context.settings.lr_ceiling)
    assert (lr.low, lr.high) != (low, high)


def test_decr_lr_at_the_floor_still_leaves_a_range():
    space = lr_space(1e-7, 1e-3)
    after, _ = apply_action("decr_lr", space, Architecture(),
                            ctx(best={"learning_rate": 1e-7}, trial={"learning_rate": 1e-7}))
    assert lr_range(after) == pytest.approx((1e-7, 3e-7))


def test_decr_lr_not_applicable_at_the_edge():
    space = lr_space(1e-7, 1e-3)
    with pytest.raises(NotApplicable, match=r"decr_lr: learning_rate \[1e-07, 0.001\] cannot move down"):
        apply_action("decr_lr", space, Architecture(), ctx(best={"learning_rate": 1e-3},
                                                            trial={"learning_rate": 1e-3}))


def test_inc_lr_not_applicable_at_the_edge():
    space = lr_space(0.1, 1.0)
    with pytest.raises(NotApplicable, match=r"inc_lr: learning_rate \[0.1, 1\] cannot move up"):
        apply_action("inc_lr", space, Architecture(), ctx(best={"learning_rate": 0.05},
                                                           trial={"learning_rate": 0.1}))


@pytest.mark.parametrize("name", ["decr_lr", "inc_lr"])
def test_lr_actions_need_a_real_learning_rate(name):
    no_lr = SearchSpace((Integer("batch_size", 8, 64),))
    with pytest.raises(NotApplicable, match=f"{name}: the search space has no 'learning_rate' dimension"):
        apply_action(name, no_lr, Architecture(), ctx())
    categorical = SearchSpace((Categorical("learning_rate", (0.1, 0.01)),))
    with pytest.raises(NotApplicable, match=f"{name}: 'learning_rate' is not a real dimension"):
        apply_action(name, categorical, Architecture(), ctx())


def test_lr_factor_setting_is_used():
    space, _ = apply_action("decr_lr", default_space(), Architecture(),
                            ctx(best=None, trial={"learning_rate": 1.5e-4}, lr_factor=2.0))
    assert lr_range(space) == pytest.approx((7.5e-5, 1.5e-4))


# -- inc_neurons / inc_batch_size ----------------------------------------------------------
def test_inc_neurons_raises_unit_lows_including_added_layers():
    space, arch = apply_action("new_fc_layer", default_space(), Architecture(), ctx())
    after, arch2 = apply_action("inc_neurons", space, arch, ctx())
    assert arch2 == arch
    assert {n: after[n].low for n in ("unit_c1", "unit_c2", "unit_d", "unit_fc1")} == \
        {"unit_c1": 20, "unit_c2": 80, "unit_d": 320, "unit_fc1": 40}
    assert all(after[n].high == space[n].high for n in space.names if n.startswith("unit_"))
    assert {n: after[n] for n in after.names if not n.startswith("unit_")} == \
        {n: space[n] for n in space.names if not n.startswith("unit_")}


def test_inc_neurons_keeps_a_minimum_width_and_skips_full_dimensions():
    space = SearchSpace((Integer("unit_a", 55, 64), Integer("unit_b", 58, 64), Integer("unit_c", 1, 2)))
    after, _ = apply_action("inc_neurons", space, Architecture(), ctx())
    assert (after["unit_a"].low, after["unit_a"].high) == (58, 64)  # 64 - floor(0.1 * 64)
    assert after["unit_b"] == space["unit_b"] and after["unit_c"] == space["unit_c"]
    with pytest.raises(NotApplicable, match="inc_neurons: every unit/filter lower bound"):
        apply_action("inc_neurons", after, Architecture(), ctx())


def test_inc_neurons_without_unit_dimensions():
    with pytest.raises(NotApplicable, match="inc_neurons: the search space has no integer dimension"):
        apply_action("inc_neurons", lr_space(1e-4, 1e-3), Architecture(), ctx())


def test_inc_batch_size_doubles_the_low_until_near_the_high():
    space, arch = apply_action("inc_batch_size", default_space(), Architecture(), ctx())
    assert (space["batch_size"].low, space["batch_size"].high) == (32, 256) and arch == Architecture()
    lows = [32]
    while is_applicable("inc_batch_size", space, arch, ctx()):
        space, _ = apply_action("inc_batch_size", space, arch, ctx())
        lows.append(space["batch_size"].low)
    assert lows == [32, 64, 128, 231]
    with pytest.raises(NotApplicable, match="inc_batch_size: the lower bound 231 is already as close"):
        apply_action("inc_batch_size", space, arch, ctx())


def test_inc_batch_size_needs_an_integer_batch_size():
    space = SearchSpace((Categorical("batch_size", (16, 32)),))
    with pytest.raises(NotApplicable, match="inc_batch_size: 'batch_size' is not an integer dimension"):
        apply_action("inc_batch_size", space, Architecture(), ctx())
    with pytest.raises(NotApplicable, match="inc_batch_size: the search space has no 'batch_size'"):
        apply_action("inc_batch_size", SearchSpace((Integer("unit_a", 1, 8),)), Architecture(), ctx())


# -- new_fc_layer / new_conv_layer -----------------------------------------------------------
def test_new_fc_layer_adds_uniquely_named_units_up_to_the_cap():
    space, arch = default_space(), Architecture()
    for index in (1, 2, 3):
        space, arch = apply_action("new_fc_layer", space, arch, ctx())
        name = dense_units_name(index)
        assert arch.extra_dense == index
        assert space[name] == Integer(name, 32, 512)
    assert space.names[-3:] == ["unit_fc1", "unit_fc2", "unit_fc3"]
    with pytest.raises(NotApplicable) as info:
        apply_action("new_fc_layer", space, arch, ctx())
    assert str(info.value) == "new_fc_layer: cap of 3 dense layers reached"


def test_new_fc_layer_fill_is_the_previous_layer_width():
    space, arch = apply_action("new_fc_layer", default_space(), Architecture(), ctx())
    assert space.fill_for("unit_fc1") == 300  # best unit_d
    assert space.project(BEST)["unit_fc1"] == 300
    best2 = {**BEST, "unit_fc1": 1000}
    space2, _ = apply_action("new_fc_layer", space, arch, ctx(best=best2))
    assert space2.fill_for("unit_fc2") == 512  # clipped into the range
    space3, _ = apply_action("new_fc_layer", default_space(), Architecture(), ctx(best=None))
    assert space3.fill_for("unit_fc1") == (32 + 512) // 2


def test_new_fc_layer_cap_is_a_setting():
    space, arch = apply_action("new_fc_layer", default_space(), Architecture(), ctx(max_dense_layers=1))
    assert not is_applicable("new_fc_layer", space, arch, ctx(max_dense_layers=1))
    assert is_applicable("new_fc_layer", space, arch, ctx(max_dense_layers=2))
    with pytest.raises(NotApplicable, match="cap of 0 dense layers"):
        apply_action("new_fc_layer", default_space(), Architecture(), ctx(max_dense_layers=0))


def test_new_conv_layer_adds_a_filters_hp_named_after_the_base_blocks():
    space, arch = apply_action("new_conv_layer", default_space(), Architecture(), ctx())
    assert arch == Architecture(extra_conv=1)
    assert space[conv_filters_name(1)] == Integer("unit_c3", 64, 256)
    assert space.fill_for("unit_c3") == 96  # best unit_c2
    with pytest.raises(NotApplicable, match="new_conv_layer: cap of 1 conv blocks reached"):
        apply_action("new_conv_layer", space, arch, ctx())


def test_new_conv_layer_needs_room_in_the_input():
    with pytest.raises(NotApplicable, match="new_conv_layer: the input images are too small"):
        apply_action("new_conv_layer", default_space(), Architecture(), ctx(conv_room=0))
    assert not is_applicable("new_conv_layer", default_space(), Architecture(), ctx(conv_room=0))


def test_new_conv_layer_with_a_higher_cap():
    context = ctx(conv_room=2, max_conv_blocks=2)
    space, arch = default_space(), Architecture()
    for _ in range(2):
        space, arch = apply_action("new_conv_layer", space, arch, context)
    assert arch.extra_conv == 2 and space.names[-2:] == ["unit_c3", "unit_c4"]
    assert not is_applicable("new_conv_layer", space, arch, context)


# -- settings and context ----------------------------------------------------------------
@pytest.mark.parametrize("changes, message", [
    ({"max_dense_layers": -1}, "max_dense_layers must be an integer >= 0, got -1"),
    ({"max_conv_blocks": True}, "max_conv_blocks must be an integer >= 0, got True"),
    ({"lr_factor": 1.0}, "lr_factor must be > 1, got 1.0"),
    ({"lr_floor": 2.0}, "0 < lr_floor < lr_ceiling, got 2.0 and 1.0"),
    ({"dropout_step": 1.5}, "dropout_step must be in \\(0, 1\\), got 1.5"),
    ({"neurons_factor": float("nan")}, "neurons_factor must be a finite number, got nan"),
    ({"l2_range": (0.0, 1e-2)}, "l2_range needs 0 < low < high, got \\(0.0, 0.01\\)"),
    ({"dense_units_range": (32.5, 64)}, "dense_units_range needs integer bounds"),
    ({"conv_filters_range": 64}, "conv_filters_range must be a \\(low, high\\) pair, got 64"),
])
def test_bad_settings_name_the_value(changes, message):
    with pytest.raises(ConfigError, match=message):
        ActionSettings(**changes)


def test_settings_from_dict():
    settings = ActionSettings.from_dict({"max_dense_layers": 2, "dense_units_range": [16, 64]})
    assert settings.max_dense_layers == 2 and settings.dense_units_range == (16, 64)
    with pytest.raises(ConfigError, match=r"unknown action settings \['max_layers'\]"):
        ActionSettings.from_dict({"max_layers": 2})


def test_context_checks_its_values():
    with pytest.raises(ConfigError, match="conv_room must be an integer >= 0, got -1"):
        ActionContext(best_params=None, conv_room=-1, settings=ActionSettings())
    with pytest.raises(ConfigError, match="best_params must be a dict"):
        ActionContext(best_params=[1], conv_room=0, settings=ActionSettings())  # type: ignore[arg-type]
    assert ActionContext(best_params=None, conv_room=0).settings == ActionSettings()


# -- describe_change ---------------------------------------------------------------------
def test_describe_change_lines():
    space, arch = default_space(), Architecture()
    assert describe_change(space, arch, space, arch) == []
    new_space, new_arch = apply_action("reg_l2", space, arch, ctx())
    assert describe_change(space, arch, new_space, new_arch) == [
        "+ dimension l2 [1e-06, 0.01] log-uniform", "l2 on"]
    assert describe_change(new_space, new_arch, space, arch) == ["- dimension l2", "l2 off"]
    bn_space, bn_arch = apply_action("batch_norm", space, arch, ctx())
    assert describe_change(space, arch, bn_space, bn_arch) == ["batch_norm on"]
    fc_space, fc_arch = apply_action("new_fc_layer", space, arch, ctx())
    assert describe_change(space, arch, fc_space, fc_arch) == [
        "+ dimension unit_fc1 [32, 512]", "extra_dense 0 -> 1"]
    nb_space, nb_arch = apply_action("inc_batch_size", space, arch, ctx())
    assert describe_change(space, arch, nb_space, nb_arch) == ["batch_size low 16 -> 32"]


def test_describe_change_other_kinds_of_change():
    old = SearchSpace((Real("x", 0.1, 1.0), Categorical("opt", ("a", "b")), Integer("n", 1, 4)))
    new = SearchSpace((Real("x", 0.1, 1.0000001, "log-uniform"), Categorical("opt", ("a", "b", "c")),
                       Categorical("n", (1, 2))))
    assert describe_change(old, Architecture(), new, Architecture()) == [
        "x high 1.0 -> 1.0000001",
        "x prior uniform -> log-uniform",
        "opt categories ['a', 'b'] -> ['a', 'b', 'c']",
        "n n [1, 4] -> n {1, 2}",
    ]


def test_opposite_actions_are_known_and_mutual():
    from symtuner.tuning.actions import OPPOSITES

    assert set(OPPOSITES) <= set(ACTIONS)
    assert all(set(others) <= set(ACTIONS) for others in OPPOSITES.values())
    assert all(name in OPPOSITES[other] for name in OPPOSITES for other in OPPOSITES[name])
