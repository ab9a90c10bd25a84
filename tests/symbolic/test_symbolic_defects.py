"""Curves on which the original implementation's conditions misfire, and the
shipped rules do not (each test restates the original condition to show it
really would have fired)."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from symtuner.core.records import LearningCurve
from symtuner.symbolic.engine import SymbolicEngine, analyse
from symtuner.symbolic.facts import curve_facts
from symtuner.symbolic.rules import load_rules

CURVES = Path(__file__).resolve().parents[1] / "data" / "curves"


@pytest.fixture(scope="module")
def engine() -> SymbolicEngine:
    return SymbolicEngine(load_rules())


def load(name: str) -> tuple[LearningCurve, int]:
    data = json.loads((CURVES / f"{name}.json").read_text())
    return LearningCurve.from_history(data), data["n_classes"]


def problems(engine: SymbolicEngine, name: str) -> tuple[str, ...]:
    curve, n_classes = load(name)
    return analyse(curve, n_classes, engine.rules.initial_weights, engine, lambda _n, _p: True,
                   random.Random(0)).problems


@pytest.mark.parametrize("name", ["synthetic_noisy_decreasing", "synthetic_zigzag_decreasing"])
def test_noisy_but_decreasing_loss_is_not_fluctuating(engine, name):
    curve, n_classes = load(name)
    facts = curve_facts(curve, n_classes)
    assert facts["rising_steps"] > 0 and facts["falling_steps"] > 0  # v1: up and down steps -> fluctuating
    assert "fluctuating_loss" not in problems(engine, name)


def test_real_fluctuation_is_still_found(engine):
    assert "fluctuating_loss" in problems(engine, "digits_fluctuating_sgd")


def test_healthy_slow_convergence_is_not_low_lr(engine):
    curve, n_classes = load("synthetic_slow_convergence")
    facts = curve_facts(curve, n_classes)
    line = facts["val_loss_line_area"]
    assert abs(facts["val_loss_area"] - line) < line / 4  # v1's low-lr condition
    assert problems(engine, "synthetic_slow_convergence") == ()


def test_fast_convergence_is_not_high_lr(engine):
    curve, n_classes = load("synthetic_fast_convergence")
    facts = curve_facts(curve, n_classes)
    line = facts["val_loss_line_area"]
    assert abs(facts["val_loss_area"] - line) > 3 * line / 4  # v1's high-lr condition
    assert problems(engine, "synthetic_fast_convergence") == ()


def test_a_poor_fit_is_judged_from_chance_level_not_a_fixed_bar(engine):
    # 62% accuracy, levelled off: v1's fixed bar (1 - acc > 0.15) calls it underfit for any class count.
    # From chance level it is poor for 2 classes (a quarter of the way from 50% to 100%) but a fair fit
    # for 10 (more than half of the way from 10%).
    curve = LearningCurve((1.0, 0.8, 0.75, 0.74, 0.74), (0.5, 0.58, 0.61, 0.62, 0.62),
                          (1.0, 0.82, 0.78, 0.77, 0.77), (0.5, 0.57, 0.6, 0.62, 0.62))
    two = analyse(curve, 2, engine.rules.initial_weights, engine, lambda _n, _p: True, random.Random(0))
    ten = analyse(curve, 10, engine.rules.initial_weights, engine, lambda _n, _p: True, random.Random(0))
    assert "underfitting" in two.problems
    assert "underfitting" not in ten.problems


def test_loss_only_history_underfitting_is_judged_against_the_first_epoch(engine):
    # no accuracy logged (e.g. a regression): the loss levelled off at 80% of its first-epoch level
    flat = LearningCurve((1.0, 0.85, 0.81, 0.8, 0.8, 0.8), (), (1.0, 0.86, 0.82, 0.81, 0.81, 0.81), ())
    falling = LearningCurve((1.0, 0.4, 0.2, 0.12, 0.1, 0.09), (), (1.0, 0.45, 0.25, 0.16, 0.14, 0.13), ())
    stuck = analyse(flat, None, engine.rules.initial_weights, engine, lambda _n, _p: True, random.Random(0))
    fine = analyse(falling, None, engine.rules.initial_weights, engine, lambda _n, _p: True, random.Random(0))
    assert "underfitting" in stuck.problems
    assert fine.problems == ()


def test_an_overfitted_network_is_not_also_called_underfitted(engine):
    # v1: (1 - last val acc) > 0.15 alone meant underfitting, whatever the training accuracy
    curve, n_classes = load("digits_overfitting_tiny_data")
    facts = curve_facts(curve, n_classes)
    assert 1 - facts["last_val_accuracy"] > 0.15
    assert problems(engine, "digits_overfitting_tiny_data") == ("overfitting",)


def test_nan_never_crashes_and_points_at_the_learning_rate(engine):
    nan = math.nan
    curve = LearningCurve((nan,) * 3, (0.1,) * 3, (nan,) * 3, (0.1,) * 3)
    diagnosis = analyse(curve, 10, engine.rules.initial_weights, engine, lambda _n, _p: True, random.Random(0))
    assert "high_lr" in diagnosis.problems and "underfitting" not in diagnosis.problems
    # the optimizer's own range moves first; drop_optimizer (below 0.9) only when it cannot
    assert [a.name for a in diagnosis.actions] == ["decr_lr"]


# A 240-image training with 2 steps per epoch, as measured in the digits-small
# comparison: after 3 epochs the loss is still high and its 3 points fall almost
# in a line, whatever the learning rate.
STRAIGHT = {"loss": [2.25, 2.10, 1.95, 1.80, 1.65], "accuracy": [0.15, 0.2, 0.25, 0.3, 0.35],
            "val_loss": [2.2, 2.08, 1.96, 1.84, 1.72], "val_accuracy": [0.2, 0.24, 0.28, 0.32, 0.36]}
SHORT_STRAIGHT = {key: values[:3] for key, values in STRAIGHT.items()}


def test_three_straight_points_are_not_low_lr(engine):
    curve = LearningCurve.from_history(SHORT_STRAIGHT)
    found = analyse(curve, 10, engine.rules.initial_weights, engine, lambda _n, _p: True, random.Random(0))
    assert "low_lr" not in found.problems


def test_the_same_straight_fall_over_enough_epochs_is_low_lr(engine):
    found = analyse(LearningCurve.from_history(STRAIGHT), 10, engine.rules.initial_weights, engine,
                    lambda _n, _p: True, random.Random(0))
    # a symptom and its cause: the network stays at low accuracy because the step is too small
    assert found.problems == ("underfitting", "low_lr"), found.explanation
    assert found.causes == {"underfitting": "low_lr"}
    assert [a.name for a in found.actions] == ["inc_lr"]  # acted on through the cause, no bigger network
    assert "fell at every epoch, in a nearly straight line" in found.explanation


def test_a_stuck_three_epoch_curve_is_underfitting_caused_by_low_lr(engine):
    stuck = {"loss": [2.3027, 2.3026, 2.3024], "accuracy": [0.1, 0.1, 0.1],
             "val_loss": [2.3027, 2.3025, 2.3024], "val_accuracy": [0.1, 0.1, 0.1]}
    found = analyse(LearningCurve.from_history(stuck), 10, engine.rules.initial_weights, engine,
                    lambda _n, _p: True, random.Random(0))
    assert found.problems == ("underfitting", "low_lr"), found.explanation
    assert found.causes == {"underfitting": "low_lr"}


def diagnosed(engine: SymbolicEngine, history: dict) -> tuple[str, ...]:
    return analyse(LearningCurve.from_history(history), 10, engine.rules.initial_weights, engine,
                   lambda _n, _p: True, random.Random(0)).problems


def test_a_poor_fit_that_is_still_falling_gets_no_bigger_network(engine):
    # recorded shape (digits-small, 3 epochs): a poor fit, but still learning, so growing the
    # network is not the cure; once the loss levels off it is
    still_falling = {"loss": [2.30, 2.20, 2.10], "accuracy": [0.2, 0.3, 0.37],
                     "val_loss": [2.2, 2.1, 2.0], "val_accuracy": [0.2, 0.3, 0.35]}
    levelled = {"loss": [2.30, 2.12, 2.10], "accuracy": [0.2, 0.3, 0.37],
                "val_loss": [2.2, 2.05, 2.0], "val_accuracy": [0.2, 0.3, 0.35]}
    falling = analyse(LearningCurve.from_history(still_falling), 10, engine.rules.initial_weights, engine,
                      lambda _n, _p: True, random.Random(0))
    flat = analyse(LearningCurve.from_history(levelled), 10, engine.rules.initial_weights, engine,
                   lambda _n, _p: True, random.Random(0))
    assert falling.problems == flat.problems == ("underfitting",)
    assert falling.actions == ()
    assert [a.name for a in flat.actions] == ["inc_neurons"]


def test_an_exploded_training_is_acted_on_as_a_learning_rate_problem(engine):
    # recorded shape (Adam at 0.05): the gaps of an exploded run are no sign of overfitting; the
    # network ends at chance level (underfitting), which the too-large step explains
    exploded = {"loss": [5000.0, 68452.0, 141.4], "accuracy": [0.1, 0.1, 0.1],
                "val_loss": [300.0, 250.0, 200.3], "val_accuracy": [0.1, 0.1, 0.1]}
    found = analyse(LearningCurve.from_history(exploded), 10, engine.rules.initial_weights, engine,
                    lambda _n, _p: True, random.Random(0))
    assert "high_lr" in found.problems
    assert not {"overfitting", "fluctuating_loss"} & set(found.problems)
    assert found.causes.get("underfitting") == "high_lr"
    assert [a.name for a in found.actions] == ["decr_lr"]


def test_a_loss_that_only_falls_from_a_large_penalty_is_no_explosion(engine):
    # Keras's loss with an extreme L2 factor starts far above chance level and only falls
    penalty = {"loss": [69.7, 45.2, 29.1, 18.8, 12.2, 8.2, 5.7, 4.2, 3.4, 2.9],
               "accuracy": [0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.82, 0.84, 0.85, 0.86],
               "val_loss": [55.2, 35.6, 22.9, 14.8, 9.8, 6.7, 4.8, 3.7, 3.1, 2.7],
               "val_accuracy": [0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.82, 0.84, 0.85, 0.86]}
    assert "high_lr" not in diagnosed(engine, penalty)


def test_a_dead_network_has_nothing_to_overfit(engine):
    # stuck above chance level from the first epoch (SGD at 10): a loss gap by accident
    flat = {"loss": [2.59, 2.57, 2.57, 2.57, 2.57, 2.57], "accuracy": [0.09] * 6,
            "val_loss": [3.36] * 6, "val_accuracy": [0.1] * 6}
    found = diagnosed(engine, flat)
    assert "overfitting" not in found and "low_lr" not in found  # stuck above chance: no small step
    # it moved in the first epoch and then froze: dead units, a too-large step
    dead = {**flat, "loss": [3.2, 2.57, 2.57, 2.57, 2.57, 2.57]}
    found = diagnosed(engine, dead)
    assert "overfitting" not in found and "high_lr" in found and "low_lr" not in found


def test_a_tiny_step_on_a_noisy_network_above_chance_is_no_high_learning_rate(engine):
    # recorded shape (Adam at 4e-6, dropout): a fresh network starts above a uniform guess's loss and a
    # tiny step leaves it there, noisily; nothing says the step is too large
    tiny = {"loss": [2.543, 2.548, 2.548, 2.53, 2.492, 2.493, 2.482, 2.479, 2.511, 2.43],
            "accuracy": [0.075, 0.054, 0.071, 0.058, 0.138, 0.096, 0.129, 0.1, 0.083, 0.133],
            "val_loss": [2.31, 2.31, 2.309, 2.308, 2.307, 2.306, 2.305, 2.304, 2.303, 2.302],
            "val_accuracy": [0.1] * 10}
    found = diagnosed(engine, tiny)
    assert "high_lr" not in found and "underfitting" in found


def test_a_network_stuck_at_the_class_prior_is_underfitting(engine):
    # 90 % of one class: predicting it gives accuracy 0.90 for ever and the loss the prior's entropy
    prior = {"loss": [0.45, 0.327, 0.326, 0.326, 0.326, 0.326], "accuracy": [0.88, 0.9, 0.9, 0.9, 0.9, 0.9],
             "val_loss": [0.33, 0.326, 0.326, 0.326, 0.326, 0.326], "val_accuracy": [0.9] * 6}
    found = analyse(LearningCurve.from_history(prior), 2, engine.rules.initial_weights, engine,
                    lambda _n, _p: True, random.Random(0))
    assert "underfitting" in found.problems, found.explanation
    assert "stuck" in found.explanation
    # a network that fits to 0.90 keeps moving: no alarm
    fitting = {"loss": [0.6, 0.4, 0.33, 0.29, 0.27, 0.26], "accuracy": [0.7, 0.82, 0.86, 0.88, 0.89, 0.9],
               "val_loss": [0.5, 0.38, 0.32, 0.3, 0.28, 0.27], "val_accuracy": [0.75, 0.83, 0.86, 0.88, 0.89, 0.9]}
    assert diagnosed(engine, fitting) == ()
