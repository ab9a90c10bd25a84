"""curve_facts: plain finite floats from any curve, including diverged ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from symtuner.core.errors import ConfigError
from symtuner.core.records import LearningCurve
from symtuner.symbolic.facts import FACT_NAMES, curve_facts, smooth


def curve(loss, acc, val_loss, val_acc) -> LearningCurve:
    return LearningCurve(tuple(loss), tuple(acc), tuple(val_loss), tuple(val_acc))


HEALTHY = curve([2.0, 1.0, 0.6, 0.5], [0.4, 0.7, 0.85, 0.9], [1.8, 1.1, 0.8, 0.7], [0.45, 0.7, 0.8, 0.82])


def test_every_fact_is_a_plain_finite_float():
    facts = curve_facts(HEALTHY, 10)
    assert list(facts) == list(FACT_NAMES)
    for name, value in facts.items():
        assert type(value) is float, name
        assert math.isfinite(value), name


def test_last_values_gaps_and_scale():
    facts = curve_facts(HEALTHY, 10)
    assert facts["last_loss"] == 0.5 and facts["last_val_loss"] == 0.7
    assert facts["last_accuracy"] == 0.9 and facts["last_val_accuracy"] == 0.82
    # gaps at the end of the run are medians of the last three epochs' gaps
    assert facts["acc_gap"] == pytest.approx(0.05)  # median of 0.0, 0.05, 0.08
    assert facts["loss_gap"] == pytest.approx(0.2)  # median of 0.1, 0.2, 0.2
    assert facts["ln_classes"] == pytest.approx(math.log(10)) == facts["loss_scale"]
    assert facts["chance"] == pytest.approx(0.1)
    assert facts["end_accuracy"] == pytest.approx(0.85) and facts["train_skill"] == pytest.approx(0.75 / 0.9)
    assert facts["n_epochs"] == 4.0 and facts["n_classes"] == 10.0
    assert facts["diverged"] == 0.0


def test_one_noisy_last_point_does_not_make_a_gap():
    noisy = curve([1.0, 0.5, 0.3, 0.25, 0.2], [0.7, 0.85, 0.9, 0.92, 0.93],
                  [1.0, 0.55, 0.35, 0.3, 0.9], [0.7, 0.84, 0.89, 0.91, 0.6])
    facts = curve_facts(noisy, 10)
    assert facts["acc_gap"] == pytest.approx(0.01) and facts["loss_gap"] == pytest.approx(0.05)


def test_without_a_class_count_the_scale_is_the_first_epoch_level():
    facts = curve_facts(HEALTHY, None)
    assert facts["loss_scale"] == 2.0 and facts["n_classes"] == 0.0
    assert curve_facts(HEALTHY, None, loss_scale=0.5)["loss_scale"] == 0.5
    with pytest.raises(ConfigError, match="loss scale must be a positive number"):
        curve_facts(HEALTHY, 10, loss_scale=0.0)


def test_loss_only_curves_have_no_accuracy_facts():
    facts = curve_facts(LearningCurve((1.0, 0.5, 0.3), (), (), ()), None)
    assert facts["has_accuracy"] == facts["has_val"] == facts["has_val_accuracy"] == 0.0
    assert facts["acc_gap"] == facts["train_skill"] == 0.0 and facts["end_loss"] == 0.5


def test_validation_loss_turn_is_measured_from_its_rolling_median_minimum():
    # one low outlier (epoch 2) is not the minimum: the rolling median bottoms out at 0.5 (epoch 3,
    # the median of 0.2, 1.0, 0.5) and the end of the run (median of the last three) is 0.7
    turn = curve([2.0, 1.0, 0.6, 0.4, 0.3, 0.2, 0.1], [0.5] * 7,
                 [2.0, 0.2, 1.0, 0.5, 0.6, 0.7, 0.8], [0.5] * 7)
    facts = curve_facts(turn, 10)
    assert facts["val_rise_epochs"] == 4.0
    assert facts["val_rise"] == pytest.approx(0.7 - 0.5)
    assert facts["val_rise_share"] == pytest.approx(0.2 / 0.5)


def test_gaps_are_signed():
    facts = curve_facts(curve([0.5], [0.8], [0.3], [0.9]), 10)
    assert facts["acc_gap"] == pytest.approx(-0.1)
    assert facts["loss_gap"] == pytest.approx(-0.2)


def test_smoothing_weights_the_previous_value_by_0_6():
    assert smooth([1.0, 0.0, 0.0]) == pytest.approx([1.0, 0.6, 0.36])
    facts = curve_facts(curve([1.0, 0.0, 0.0], [0.5] * 3, [1.0] * 3, [0.5] * 3), 10)
    assert facts["smoothed_loss"] == pytest.approx(0.36)


def test_step_counts_raw_and_smoothed():
    # raw: down, up, down, down; smoothed: 1, 0.68, 0.808, 0.5248, 0.33488 -> down, up, down, down
    facts = curve_facts(curve([1.0, 0.2, 1.0, 0.1, 0.05], [0.5] * 5, [1.0] * 5, [0.5] * 5), 10)
    assert (facts["rising_steps"], facts["falling_steps"]) == (1.0, 3.0)
    assert (facts["smoothed_rising_steps"], facts["smoothed_falling_steps"]) == (1.0, 3.0)
    assert facts["turns"] == 2.0
    assert facts["mean_rise"] == pytest.approx(4.0)  # 0.2 -> 1.0 is a rise of 400 %


def test_flat_steps_count_neither_way():
    facts = curve_facts(curve([2.3] * 5, [0.1] * 5, [2.3] * 5, [0.1] * 5), 10)
    assert facts["rising_steps"] == facts["falling_steps"] == facts["turns"] == 0.0


def test_areas_trapezoid_and_straight_line():
    facts = curve_facts(curve([1.0] * 3, [0.5] * 3, [3.0, 1.0, 1.0], [0.5] * 3), 10)
    assert facts["val_loss_area"] == pytest.approx(2.0 + 1.0)
    assert facts["val_loss_line_area"] == pytest.approx((3.0 + 1.0) / 2 * 2)


def test_numpy_inputs_give_plain_floats():
    data = np.array([[2.0, 1.0, 0.5], [0.3, 0.6, 0.9], [1.9, 1.1, 0.7], [0.3, 0.6, 0.8]], dtype=np.float32)
    facts = curve_facts(LearningCurve(*(tuple(row) for row in data)), np.int64(10))
    assert all(type(v) is float for v in facts.values())
    assert facts["last_loss"] == pytest.approx(0.5)
    assert facts["n_classes"] == 10.0


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, None, 1e300])
def test_diverged_curves_give_finite_facts(bad):
    bad_acc = math.nan if bad == 1e300 else bad  # an accuracy cannot be huge, only missing
    diverged = curve([2.0, 5.0, bad], [0.3, 0.1, 0.1], [1.9, bad, bad], [0.3, 0.1, bad_acc])
    facts = curve_facts(diverged, 10)
    assert facts["diverged"] == 1.0
    assert all(math.isfinite(v) for v in facts.values())
    assert facts["max_loss"] > 5.0  # the blow-up stands for a loss above anything finite seen
    assert facts["rising_steps"] == 2.0


def test_all_nan_curve_is_diverged_and_finite():
    nan = math.nan
    facts = curve_facts(curve([nan] * 3, [0.1] * 3, [nan] * 3, [0.1] * 3), 10)
    assert facts["diverged"] == 1.0
    assert all(math.isfinite(v) for v in facts.values())


def test_one_epoch_curve():
    facts = curve_facts(curve([0.4], [0.9], [0.3], [0.92]), 3)
    assert facts["val_loss_area"] == facts["val_loss_line_area"] == 0.0
    assert facts["rising_steps"] == facts["turns"] == 0.0


@pytest.mark.parametrize("n_classes", [1, 0, -3, 2.5, True, "10"])
def test_bad_class_count(n_classes):
    with pytest.raises(ConfigError, match="number of classes"):
        curve_facts(HEALTHY, n_classes)


def test_empty_curve_and_bad_accuracy():
    with pytest.raises(ConfigError, match="at least one epoch"):
        curve_facts(curve([], [], [], []), 10)
    with pytest.raises(ConfigError, match=r"val_accuracy values must lie in \[0, 1\], got 87.0 at epoch 2"):
        curve_facts(curve([1.0, 0.5], [0.5, 0.8], [1.0, 0.6], [0.5, 87.0]), 10)


@pytest.mark.parametrize("loss, share", [
    ([2.0, 1.5, 1.0], 1.0),            # straight fall
    ([2.0, 1.0, 0.9], 0.1 / 0.55),     # levelled off: last fall 0.1 of a mean 0.55
    ([2.0, 1.9, 1.0], 1.8),            # accelerating
    ([2.0, 1.0, 1.2], 0.0),            # ends rising
    ([2.0, 2.0, 2.0], 0.0),            # never fell
    ([2.0], 0.0),                      # no step
])
def test_last_fall_share(loss, share):
    n = len(loss)
    curve = LearningCurve(tuple(loss), (0.5,) * n, tuple(loss), (0.5,) * n)
    assert curve_facts(curve, 10)["last_fall_share"] == pytest.approx(share)


@pytest.mark.parametrize("loss", [[5e-324, 0.0], [-5e-324, 0.0, 5e-324]])
def test_a_subnormal_loss_level_gives_finite_facts(loss):
    from symtuner.core.records import LearningCurve
    from symtuner.symbolic.facts import curve_facts

    facts = curve_facts(LearningCurve.from_history({"loss": loss}))  # found by the history fuzzer
    assert all(math.isfinite(value) for value in facts.values())
