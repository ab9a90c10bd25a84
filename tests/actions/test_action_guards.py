"""Actions respect the data and the training length; one architecture change per trial."""

from __future__ import annotations

import pytest

from symtuner.core.architecture import Architecture
from symtuner.core.records import LearningCurve, Trial, TrialState, TuningVersion
from symtuner.core.space import default_space
from symtuner.symbolic.engine import SymbolicEngine
from symtuner.symbolic.rules import load_rules
from symtuner.tuning.actions import ActionContext, ActionSettings, NotApplicable, apply_action, why_not
from symtuner.tuning.advisor import Advisor
from symtuner.tuning.view import StudyView, TaskFacts


def context(**kwargs) -> ActionContext:
    return ActionContext(best_params=None, conv_room=1, **kwargs)


def test_inc_batch_size_keeps_enough_steps_per_epoch():
    space = default_space().with_bounds("batch_size", 16, 256)  # the paper's range
    # 240 images: 8 steps per epoch allow batches of at most 30
    raised, _ = apply_action("inc_batch_size", space, Architecture(), context(n_train=240))
    assert raised["batch_size"].low == 30
    assert "fewer than 8 optimizer steps per epoch on 240 training images" in why_not(
        "inc_batch_size", raised, Architecture(), context(n_train=240))
    # without the training size the bound doubles as before
    unguarded, _ = apply_action("inc_batch_size", space, Architecture(), context())
    assert unguarded["batch_size"].low == 32
    # a large data set is not held back
    big, _ = apply_action("inc_batch_size", space, Architecture(), context(n_train=50_000))
    assert big["batch_size"].low == 32


def test_batch_norm_needs_a_training_long_enough_for_its_statistics():
    space = default_space()
    short = context(n_train=240, epochs=3, trial_params={"batch_size": 60})  # 4 x 3 = 12 steps
    with pytest.raises(NotApplicable, match="about 12 optimizer steps, fewer than the 300"):
        apply_action("batch_norm", space, Architecture(), short)
    long = context(n_train=1150, epochs=10, trial_params={"batch_size": 32})  # 36 x 10 = 360 steps
    _, arch = apply_action("batch_norm", space, Architecture(), long)
    assert arch.batch_norm
    relaxed = ActionContext(best_params=None, conv_room=1, settings=ActionSettings(batch_norm_steps=10),
                            n_train=240, epochs=3, trial_params={"batch_size": 60})
    assert apply_action("batch_norm", space, Architecture(), relaxed)[1].batch_norm


def test_augmentation_only_for_images():
    with pytest.raises(NotApplicable, match="not images"):
        apply_action("data_augmentation", default_space(), Architecture(), context(image_input=False))
    assert apply_action("data_augmentation", default_space(), Architecture(), context())[1].augmentation


OVERFIT = LearningCurve((1.5, 0.6, 0.2, 0.05, 0.02), (0.6, 0.85, 0.95, 0.98, 0.99),
                        (1.4, 1.0, 1.1, 1.3, 1.5), (0.55, 0.68, 0.70, 0.71, 0.7))


def test_one_architecture_change_per_trial():
    engine = SymbolicEngine(load_rules())
    advisor = Advisor(engine, ActionSettings(batch_norm_steps=0), maximize=True, seed=0,
                      conv_room=lambda architecture: 1)
    params = {"batch_size": 32, "learning_rate": 5e-4}
    trial = Trial(1, TrialState.COMPLETE, params, 1, objective=0.7, curve=OVERFIT)
    initial = TuningVersion(1, default_space(), Architecture(), None, "initial search space", 0.0)
    view = StudyView((trial,), (initial,), {}, (), TaskFacts(10, True, 2000, 5))
    advice = advisor.advise(view, trial, initial)
    applied = [a.name for a in advice.actions if a.applied]
    refused = {a.name: a.detail for a in advice.actions if not a.applied}
    assert applied == ["reg_l2"]  # reg_l2 and batch_norm are both chosen at p 0.99; the first one wins
    assert "one change of the architecture per trial (reg_l2 was applied)" in refused["batch_norm"]
    assert advice.architecture == Architecture(l2=True)


def test_learning_rate_actions_respect_the_optimizers_own_scale():
    space = default_space()
    # Adadelta barely moves at 7e-4 while Adam trained well at 5e-4: Adadelta's rates move up, Adam keeps its own
    adadelta = ActionContext(best_params={"optimizer": "Adam", "learning_rate": 5e-4}, conv_room=1,
                             trial_params={"optimizer": "Adadelta", "learning_rate": 7e-4})
    raised, _ = apply_action("inc_lr", space, Architecture(), adadelta)
    assert raised["learning_rate"].bounds("Adadelta") == pytest.approx((7e-4, 2.1e-3))
    assert raised["learning_rate"].bounds("Adam") == (1e-4, 1e-3)
    # the same optimizer as the best trial: the diagnosis stands and the range moves
    adam = ActionContext(best_params={"optimizer": "Adam", "learning_rate": 5e-4}, conv_room=1,
                         trial_params={"optimizer": "Adam", "learning_rate": 2e-4})
    raised, _ = apply_action("inc_lr", space, Architecture(), adam)
    assert raised["learning_rate"].low == pytest.approx(2e-4)
    # another optimizer that did well at a *higher* rate does not contradict "too low"
    higher = ActionContext(best_params={"optimizer": "Adamax", "learning_rate": 9e-4}, conv_room=1,
                           trial_params={"optimizer": "Adam", "learning_rate": 2e-4})
    assert apply_action("inc_lr", space, Architecture(), higher)[0]["learning_rate"].low > 1e-4
    # and the mirror for a too-large step
    exploded = ActionContext(best_params={"optimizer": "Adam", "learning_rate": 9e-4}, conv_room=1,
                             trial_params={"optimizer": "Adamax", "learning_rate": 8e-4})
    lowered, _ = apply_action("decr_lr", space, Architecture(), exploded)
    assert lowered["learning_rate"].bounds("Adamax") == pytest.approx((1e-4, 8e-4))
    assert lowered["learning_rate"].bounds("Adam") == (1e-4, 1e-3)


def test_a_best_trial_that_crept_along_too_is_no_evidence_for_the_rate():
    space = default_space().with_bounds("learning_rate", 1e-6, 1e-5)
    trial = {"optimizer": "Adam", "learning_rate": 8e-6}
    protected = ActionContext(best_params={"optimizer": "Adam", "learning_rate": 2e-6}, conv_room=1,
                              trial_params=trial)
    ignored = ActionContext(best_params={"optimizer": "Adam", "learning_rate": 2e-6}, conv_room=1,
                            trial_params=trial, best_problems=("underfitting", "low_lr"))
    # a good best trial at 2e-6 keeps the range from moving past its rate
    assert apply_action("inc_lr", space, Architecture(), protected)[0]["learning_rate"].low == pytest.approx(2e-6)
    # a best trial that shows low_lr itself does not: the range moves up to the diagnosed rate and beyond
    moved = apply_action("inc_lr", space, Architecture(), ignored)[0]["learning_rate"]
    assert moved.low == pytest.approx(8e-6) and moved.high == pytest.approx(2.4e-5)
