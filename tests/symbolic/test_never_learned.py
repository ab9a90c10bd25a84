"""A network that never learned says nothing about its size: no growth after a trial stuck at chance."""

from __future__ import annotations

import random

import pytest

from symtuner.core.records import LearningCurve
from symtuner.symbolic.engine import SymbolicEngine, analyse, diagnose_history
from symtuner.symbolic.rules import load_rules

GROWTH = {"inc_neurons", "new_fc_layer", "new_conv_layer"}

#: 10 classes: the accuracy levels off at chance (0.11) after a small first fall of the loss; no reading of
#: the curve names the learning rate (it moved, then kept moving a little: neither frozen nor straight)
AT_CHANCE = {"loss": [2.45, 2.33, 2.305, 2.30, 2.302, 2.299], "accuracy": [0.10, 0.11, 0.105, 0.11, 0.108, 0.11],
             "val_loss": [2.34, 2.31, 2.303, 2.302, 2.303, 2.302], "val_accuracy": [0.10, 0.10, 0.11, 0.10, 0.10, 0.11]}
#: the same shape, but the network learned before it levelled off (0.52 on 10 classes)
LEARNED_AND_LEVELLED = {"loss": [1.9, 1.5, 1.3, 1.25, 1.24, 1.24], "accuracy": [0.3, 0.45, 0.5, 0.52, 0.52, 0.52],
                        "val_loss": [1.8, 1.5, 1.35, 1.3, 1.3, 1.3], "val_accuracy": [0.3, 0.45, 0.5, 0.5, 0.51, 0.5]}


@pytest.fixture(scope="module")
def engine() -> SymbolicEngine:
    return SymbolicEngine(load_rules())


def test_no_growth_after_a_trial_stuck_at_chance(engine):
    diagnosis = diagnose_history(AT_CHANCE, 10, engine)
    assert diagnosis.problems == ("underfitting",)
    assert not GROWTH & {a.name for a in diagnosis.actions}
    # the cause is looked for first: an optimizer another trial trained well with at a similar rate
    assert [a.name for a in diagnosis.actions] == ["drop_optimizer"]
    assert "it never learned (its train accuracy 0.11 barely left chance" in diagnosis.explanation
    assert "so it is not grown" in diagnosis.explanation


def test_without_a_cause_to_act_on_the_explanation_says_why_nothing_grows(engine):
    # no trial trained well with another optimizer, nor with another activation
    no_witness = lambda name, _problem: name not in ("drop_optimizer", "drop_activation")  # noqa: E731
    diagnosis = analyse(LearningCurve.from_history(AT_CHANCE), 10, engine.rules.initial_weights, engine, no_witness,
                        random.Random(0))
    assert diagnosis.actions == ()
    assert "underfitting -> no action yet: it never learned" in diagnosis.explanation


def test_where_only_the_activation_differs_from_a_trial_that_learned_it_is_dropped(engine):
    activation_witness = lambda name, _problem: name != "drop_optimizer"  # noqa: E731 - same optimizer, same rate
    diagnosis = analyse(LearningCurve.from_history(AT_CHANCE), 10, engine.rules.initial_weights, engine,
                        activation_witness, random.Random(0))
    assert [(a.name, a.problem) for a in diagnosis.actions] == [("drop_activation", "underfitting")]
    assert not GROWTH & {a.name for a in diagnosis.actions}


def test_a_network_that_learned_and_levelled_grows(engine):
    diagnosis = diagnose_history(LEARNED_AND_LEVELLED, 10, engine)
    assert diagnosis.problems == ("underfitting",)
    assert [a.name for a in diagnosis.actions] == ["inc_neurons"]


def test_without_accuracy_a_loss_levelled_at_chance_never_learned(engine):
    history = {"loss": [2.45, 2.33, 2.305, 2.30, 2.302, 2.299], "val_loss": [2.34, 2.31, 2.303, 2.302, 2.303, 2.302]}
    diagnosis = diagnose_history(history, 10, engine)
    assert not GROWTH & {a.name for a in diagnosis.actions}, diagnosis.explanation
