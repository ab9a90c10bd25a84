"""Moves past the first range for an underfit network: less dropout, less L2, smaller batches, wider layers."""

from __future__ import annotations

import functools
import random

import pytest

from symtuner.core.architecture import Architecture
from symtuner.core.space import Integer, Real, default_space
from symtuner.tuning.actions import ActionContext, NotApplicable, apply_action
from symtuner.tuning.actions.relax import trial_facts

TRIAL = {"unit_c1": 40, "dr1_2": 0.25, "unit_c2": 96, "unit_d": 300, "dr_f": 0.1, "learning_rate": 3e-4,
         "batch_size": 128, "optimizer": "Adam", "activation": "relu"}


@functools.cache
def _engine():
    from symtuner.symbolic.engine import SymbolicEngine
    from symtuner.symbolic.rules import load_rules

    return SymbolicEngine(load_rules())


def diagnosed(history: dict, facts: dict, applicable=lambda _name, _problem: True):
    """The shipped rules' diagnosis of a 10-class curve, with a study's trial facts beside it."""
    from symtuner.core.records import LearningCurve
    from symtuner.symbolic.engine import analyse

    engine = _engine()
    return analyse(LearningCurve.from_history(history), 10, engine.rules.initial_weights, engine, applicable,
                   random.Random(0), extra_facts=facts)


def ctx(**changes) -> ActionContext:
    return ActionContext(best_params=None, conv_room=1, trial_params={**TRIAL, **changes}, problem="underfitting")


def test_decr_dropout_cuts_the_ranges_the_trial_was_high_in_and_reaches_below_the_first_range():
    space = default_space()  # dr1_2 0.002..0.3, dr_f 0.03..0.5
    new, arch = apply_action("decr_dropout", space, Architecture(), ctx())
    assert new["dr1_2"] == Real("dr1_2", 0.0, 0.25)  # 0.25 lay in the upper half: cut there, low past 0.002
    assert new["dr_f"] == space["dr_f"]  # 0.1 lay in the lower half: dropout there was not the problem
    assert arch == Architecture()
    with pytest.raises(NotApplicable, match="lower half of their ranges"):
        apply_action("decr_dropout", space, Architecture(), ctx(dr1_2=0.05))


def test_a_dropout_of_more_than_half_the_units_is_strong_in_any_range():
    space = default_space().with_bounds("dr1_2", 0.6, 0.8).with_bounds("dr_f", 0.7, 0.9)
    trial = ctx(dr1_2=0.65, dr_f=0.72)  # both in the lower halves of ranges that are too high throughout
    assert trial_facts(space, Architecture(), trial.trial_params, None, 3) == {"dropout_high": 1.0,
                                                                               "dropout_strong": 1.0}
    new, _ = apply_action("decr_dropout", space, Architecture(), trial)
    assert new["dr1_2"].high == 0.65 and new["dr1_2"].low < 0.6
    assert new["dr_f"].high == 0.72 and new["dr_f"].low < 0.7
    # below half, only the upper half of its own range counts
    assert trial_facts(default_space(), Architecture(), {**TRIAL, "dr1_2": 0.1, "dr_f": 0.2}, None, 3) == \
        {"dropout_high": 0.0, "dropout_strong": 0.0}
    # half is the classic rate networks train with: high at the top of the paper's 0.03..0.5, not strong
    assert trial_facts(default_space(), Architecture(), {**TRIAL, "dr1_2": 0.1, "dr_f": 0.5}, None, 3) == \
        {"dropout_high": 1.0, "dropout_strong": 0.0}


def test_decr_l2_needs_l2_on_and_a_strong_factor():
    on = Architecture().with_changes(l2=True)
    space = default_space().with_dimension(Real("l2", 1e-6, 1e-2, "log-uniform"), 1e-6)
    with pytest.raises(NotApplicable, match="L2 regularisation is off"):
        apply_action("decr_l2", default_space(), Architecture(), ctx(l2=5e-3))
    new, _ = apply_action("decr_l2", space, on, ctx(l2=5e-3))
    assert new["l2"] == Real("l2", 1e-6, 5e-3, "log-uniform")
    with pytest.raises(NotApplicable, match="lower half"):
        apply_action("decr_l2", space, on, ctx(l2=1e-5))


def test_decr_batch_size_cuts_below_the_trials_batch_and_never_below_min_batch_size():
    new, _ = apply_action("decr_batch_size", default_space(), Architecture(), ctx())  # batch_size 16..256
    assert new["batch_size"] == Integer("batch_size", 16, 64)  # 128 proved too large; the low stays at 16
    wide = default_space().with_bounds("batch_size", 64, 512)
    assert apply_action("decr_batch_size", wide, Architecture(), ctx(batch_size=300))[0]["batch_size"] == \
        Integer("batch_size", 32, 150)  # past the first range, by batch_size_factor
    # a trial at the top of the range moves the range too (cutting at its batch would change nothing)
    assert apply_action("decr_batch_size", default_space(), Architecture(), ctx(batch_size=256))[0]["batch_size"] == \
        Integer("batch_size", 16, 128)
    with pytest.raises(NotApplicable, match="batch of 32 is already small"):
        apply_action("decr_batch_size", default_space(), Architecture(), ctx(batch_size=32))


def test_the_facts_the_rules_read_of_a_trial():
    space = default_space().with_dimension(Real("l2", 1e-6, 1e-2, "log-uniform"), 1e-6)
    on = Architecture().with_changes(l2=True)
    # dr1_2 0.25 of 0.002..0.3 is high; l2 5e-3 above the geometric middle 1e-4; 300 images / 128 = 3 steps x 3
    assert trial_facts(space, on, {**TRIAL, "l2": 5e-3}, 300, 3) == {
        "dropout_high": 1.0, "dropout_strong": 0.0, "l2_high": 1.0, "epoch_steps": 3.0, "train_steps": 9.0}
    low = trial_facts(default_space(), Architecture(), {**TRIAL, "dr1_2": 0.01}, None, 3)
    assert low == {"dropout_high": 0.0, "dropout_strong": 0.0}  # no L2, no training size: no fact


def test_the_rules_move_past_the_range_only_with_the_trials_facts():
    levelled = {"loss": [1.9, 1.5, 1.3, 1.25, 1.24, 1.24], "accuracy": [0.3, 0.45, 0.5, 0.52, 0.52, 0.52],
                "val_loss": [1.8, 1.5, 1.35, 1.3, 1.3, 1.3], "val_accuracy": [0.3, 0.45, 0.5, 0.5, 0.51, 0.5]}
    still = {"loss": [2.3, 2.2, 2.1], "accuracy": [0.2, 0.3, 0.37],
             "val_loss": [2.2, 2.1, 2.0], "val_accuracy": [0.2, 0.3, 0.35]}

    def chosen(curve, facts):
        return [a.name for a in diagnosed(curve, facts).actions]

    assert chosen(levelled, {}) == ["inc_neurons"]
    assert chosen(levelled, {"dropout_high": 1.0}) == ["decr_dropout"]
    assert chosen(levelled, {"dropout_high": 0.0, "l2_high": 1.0}) == ["decr_l2"]
    assert chosen(still, {"train_steps": 9.0}) == ["decr_batch_size"]
    # a network stuck at chance with strong dropout (more than half): lowering it is a cause to try, no growth
    at_chance = {"loss": [2.45, 2.33, 2.305, 2.30, 2.302, 2.299], "accuracy": [0.10, 0.11, 0.105, 0.11, 0.108, 0.11],
                 "val_loss": [2.34, 2.31, 2.303, 2.302, 2.303, 2.302],
                 "val_accuracy": [0.10, 0.10, 0.11, 0.10, 0.10, 0.11]}
    no_witness = lambda name, _problem: name not in ("drop_optimizer", "drop_activation")  # noqa: E731
    found = diagnosed(at_chance, {"dropout_high": 1.0, "dropout_strong": 1.0}, no_witness)
    assert [a.name for a in found.actions] == ["decr_dropout"]
    # dropout in the upper half of a moderate range (at most half the units) does not stop a network
    # learning: for one that never learned the rate or the optimizer is the likelier cause
    for moderate in ({"dropout_high": 1.0, "dropout_strong": 0.0}, {"dropout_high": 0.0}):
        found = diagnosed(at_chance, moderate, no_witness)
        assert found.actions == ()
        assert "never learned" in found.explanation
    assert chosen(still, {"train_steps": 3000.0}) == []


def test_inc_neurons_raises_an_upper_bound_only_where_the_trial_was_at_it():
    space = default_space()  # unit_c1 16..64, unit_c2 64..128, unit_d 256..512
    new, _ = apply_action("inc_neurons", space, Architecture(), ctx(unit_d=510, unit_c1=30))
    assert new["unit_d"].high == 640 and new["unit_d"].low == 320  # at the top: the evidence points past it
    assert new["unit_c1"].high == 64 and new["unit_c1"].low == 20  # inside: the user's limit stands


def test_inc_batch_size_raises_the_upper_bound_only_where_the_trial_was_at_it():
    space = default_space().with_bounds("batch_size", 2, 8)
    at_top = ActionContext(best_params=None, conv_room=1, trial_params={**TRIAL, "batch_size": 8},
                           problem="fluctuating_loss", n_train=240)
    new, _ = apply_action("inc_batch_size", space, Architecture(), at_top)
    assert new["batch_size"] == Integer("batch_size", 4, 16)
    inside = ActionContext(best_params=None, conv_room=1, trial_params={**TRIAL, "batch_size": 3},
                           problem="fluctuating_loss", n_train=240)
    assert apply_action("inc_batch_size", space, Architecture(), inside)[0]["batch_size"].high == 8
    # never past training images / min_steps_per_epoch (240 / 8 = 30)
    near_cap = default_space().with_bounds("batch_size", 8, 28)
    capped, _ = apply_action("inc_batch_size", near_cap, Architecture(),
                             ActionContext(best_params=None, conv_room=1, trial_params={**TRIAL, "batch_size": 28},
                                           n_train=240))
    assert capped["batch_size"] == Integer("batch_size", 16, 30)


def test_a_straight_fall_over_epochs_of_few_steps_is_short_of_steps_not_of_rate():
    straight = {"loss": [2.2, 2.1, 2.0, 1.9, 1.8, 1.7], "accuracy": [0.15, 0.18, 0.21, 0.24, 0.27, 0.3],
                "val_loss": [2.2, 2.1, 2.0, 1.9, 1.8, 1.7], "val_accuracy": [0.15, 0.18, 0.21, 0.24, 0.27, 0.3]}
    bare = diagnosed(straight, {})  # a curve alone is read on its shape
    assert "low_lr" in bare.problems and [a.name for a in bare.actions] == ["inc_lr"]
    many = diagnosed(straight, {"epoch_steps": 30.0, "train_steps": 180.0})
    assert "low_lr" in many.problems and [a.name for a in many.actions] == ["inc_lr"]
    few = diagnosed(straight, {"epoch_steps": 1.0, "train_steps": 6.0})  # batch 256 of 240 images: one step an epoch
    assert "low_lr" not in few.problems and "underfitting" in few.problems
    assert [a.name for a in few.actions] == ["decr_batch_size"]
    assert "each epoch took 1 optimizer steps (< 8)" in few.explanation
