"""drop_activation: an activation that never learned where another one learned with the same optimizer at a
similar rate leaves the choices; when the optimizer or the rate differ, they may be what failed."""

from __future__ import annotations

import pytest

from symtuner.core.architecture import Architecture
from symtuner.core.space import Categorical, SearchSpace, default_space
from symtuner.tuning.actions import ActionContext, NotApplicable, apply_action

LEARNED = {"unit_c1": 40, "dr1_2": 0.1, "unit_c2": 96, "unit_d": 300, "dr_f": 0.2, "learning_rate": 3e-4,
           "batch_size": 64, "optimizer": "Adam", "activation": "relu"}


def ctx(**trial) -> ActionContext:
    """The diagnosed trial is LEARNED but for ``trial``; the trial that learned is LEARNED (not the best)."""
    return ActionContext(best_params=None, conv_room=1, trial_params={**LEARNED, **trial}, problem="underfitting",
                         learned=(LEARNED,))


def test_the_failed_activation_leaves_the_choices_and_nothing_else_changes():
    space = default_space()
    new_space, arch = apply_action("drop_activation", space, Architecture(), ctx(activation="selu"))
    assert new_space["activation"].categories == ("relu", "elu")
    assert [d for d in new_space.dimensions if d.name != "activation"] == \
        [d for d in space.dimensions if d.name != "activation"]
    assert arch == Architecture()
    with pytest.raises(NotApplicable, match="selu is no longer among the choices"):
        apply_action("drop_activation", new_space, Architecture(), ctx(activation="selu"))


@pytest.mark.parametrize("trial, why", [
    ({"activation": "selu", "optimizer": "Adadelta"}, "another optimizer: it may be what failed"),
    ({"activation": "selu", "learning_rate": 3e-6}, "a rate 100x lower: it may be what failed"),
    ({"activation": "relu"}, "the same activation learned: it is not what failed"),
])
def test_no_drop_when_something_else_may_have_failed(trial, why):
    with pytest.raises(NotApplicable, match="rather than the optimizer or the rate"):
        apply_action("drop_activation", default_space(), Architecture(), ctx(**trial))


def test_the_best_trial_is_a_witness_unless_it_underfit():
    trial = {**LEARNED, "activation": "elu"}
    best = ActionContext(best_params=LEARNED, conv_room=1, trial_params=trial, problem="underfitting")
    assert apply_action("drop_activation", default_space(), Architecture(), best)[0]["activation"].categories == \
        ("relu", "selu")
    underfit = ActionContext(best_params=LEARNED, conv_room=1, trial_params=trial, problem="underfitting",
                             best_problems=("underfitting",))
    with pytest.raises(NotApplicable):
        apply_action("drop_activation", default_space(), Architecture(), underfit)


def test_a_witness_whose_activation_was_dropped_already_is_no_witness():
    space = SearchSpace((Categorical("activation", ("elu", "selu")),))  # relu, the witness's, is gone
    with pytest.raises(NotApplicable, match=r"among the choices \['elu'\]"):
        apply_action("drop_activation", space, Architecture(), ctx(activation="selu"))


def test_a_space_without_an_activation_choice():
    space = SearchSpace((Categorical("optimizer", ("Adam", "SGD")),))
    with pytest.raises(NotApplicable, match="the search space has no 'activation' dimension"):
        apply_action("drop_activation", space, Architecture(), ctx(activation="selu"))
