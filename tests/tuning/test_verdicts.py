"""Verdicts that prove something: a change is kept only for a gain beyond the study's noise, reverted only
for a loss beyond it, undecided (kept, no evidence) otherwise; a best at chance level is no result to beat.

Pure: hand-built trials and versions, nothing trained."""

from __future__ import annotations

import math

import numpy as np
import pytest

from symtuner.app.console import changes_summary
from symtuner.app.dashboard.tables import actions_table
from symtuner.core.architecture import Architecture
from symtuner.core.records import (
    ActionRecord,
    Diagnosis,
    LearningCurve,
    Trial,
    TrialState,
    TuningVersion,
    Verdict,
)
from symtuner.core.settings import StudySettings
from symtuner.core.space import default_space
from symtuner.data import validate_dataset
from symtuner.study.task import TaskInfo
from symtuner.training.splits import split_validation
from symtuner.tuning.evidence import Outcome
from symtuner.tuning.hypotheses import (
    KEPT,
    REVERTED,
    UNDECIDED,
    change_states,
    judge,
    kept_weight_notes,
    revert_evidence,
    reverted_pairs,
    state_word,
)
from symtuner.tuning.noise import NoiseModel, binomial_se, epoch_spread
from symtuner.tuning.view import TaskFacts

VERSIONS = [TuningVersion(1, default_space(), Architecture(), None, "initial", 0.0),
            TuningVersion(2, default_space(), Architecture(l2=True), 4, "after trial 4: reg_l2", 0.0)]
L2 = [ActionRecord(4, "reg_l2", "overfitting", 0.99, True, "L2 on")]


def task(n_val: int | None = 60, n_classes: int | None = 10, objective: str = "val_accuracy") -> TaskFacts:
    return TaskFacts(n_classes, True, 1000, 5, objective=objective, n_val=n_val)


def acc(number: int, value: float, **extra) -> Trial:
    """A complete trial whose objective is its validation accuracy."""
    return Trial(number, TrialState.COMPLETE, {}, number, objective=value, val_accuracy=value, extra=extra)


def verdict_of(trials, maximize=True, facts=None, actions=L2, after=None) -> Verdict | None:
    judgement = judge(VERSIONS, {}, trials, maximize, 3, after or max(t.number for t in trials), actions,
                      facts if facts is not None else task())
    return judgement.verdicts[0] if judgement.verdicts else None


BEFORE = [acc(1, 0.55), acc(2, 0.62), acc(3, 0.70), acc(4, 0.66)]


# -- the noise -------------------------------------------------------------------------------------------
def test_the_binomial_standard_error_by_hand():
    # 0.70 on 30 samples: q = (21 + 1) / 32 = 0.6875, s.e. = sqrt(0.6875 * 0.3125 / 32)
    assert binomial_se(0.7, 30) == pytest.approx(math.sqrt(0.6875 * 0.3125 / 32)) == pytest.approx(0.08194, abs=1e-5)
    # an accuracy of 1 on 30 samples is not exact: q = 31/32
    assert binomial_se(1.0, 30) == pytest.approx(math.sqrt(31 / 32 * 1 / 32 / 32))
    # the noise of a difference: sqrt of the summed variances, on 60 samples
    noise = NoiseModel.of(task(60), BEFORE).between(acc(7, 0.8333), acc(3, 0.70))
    q7, q3 = (0.8333 * 60 + 1) / 62, (0.70 * 60 + 1) / 62
    assert noise.value == pytest.approx(math.sqrt(q7 * (1 - q7) / 62 + q3 * (1 - q3) / 62))
    assert noise.source == "binomial s.e. of a difference on 60 validation samples"


def test_the_epoch_to_epoch_spread_by_hand():
    series = (0.9, 0.5, 0.6, 0.55, 0.65, 0.6)  # the last five: steps .1, -.05, .1, -.05
    curve = LearningCurve((1.0,) * 6, (), (0.5,) * 6, series)
    assert epoch_spread(curve, "val_accuracy") == pytest.approx(math.sqrt((2 * 0.01 + 2 * 0.0025) / (2 * 4)))
    assert epoch_spread(curve, "val_loss") == 0.0  # a flat series does not move
    assert epoch_spread(curve.truncated(2), "val_accuracy") is None  # two epochs: one step, no spread
    assert epoch_spread(curve, "val_auc") is None  # not logged


def test_a_recorded_spread_and_the_curve_give_the_same_noise():
    """The loop's view has the curve of the newest trial only; the others carry the spread recorded with
    them: both ways the noise is the same, so a resumed study reaches the same verdicts."""
    curve = LearningCurve((1.0,) * 5, (), (0.8, 0.75, 0.7, 0.72, 0.69), ())
    spread = epoch_spread(curve, "val_loss")
    with_curve = Trial(5, TrialState.COMPLETE, {}, 5, objective=0.69, curve=curve)
    recorded = Trial(5, TrialState.COMPLETE, {}, 5, objective=0.69, extra={"objective_spread": spread})
    facts = task(None, None, "val_loss")
    assert NoiseModel.of(facts, [with_curve]) == NoiseModel.of(facts, [recorded])
    assert NoiseModel.of(facts, [with_curve]).spread == pytest.approx(spread)


def test_the_study_spread_is_the_median_of_the_trials_compared():
    trials = [Trial(n, TrialState.COMPLETE, {}, n, objective=1.0, extra={"objective_spread": s})
              for n, s in ((1, 0.01), (2, 0.03), (3, 0.5))]
    model = NoiseModel.of(task(None, None, "val_loss"), trials)
    assert model.spread == 0.03 and model.spread_trials == 3  # one erratic trial does not set it
    noise = model.between(trials[0], trials[1])
    assert noise.value == pytest.approx(math.sqrt(2) * 0.03)
    assert "epoch-to-epoch spread of val_loss over the last 5 epochs, the median of 3 trials" in noise.source


def test_the_validation_count_and_the_chance_level_come_from_the_data(tiny_dataset):
    info = TaskInfo.of(tiny_dataset, 0.2)
    split = split_validation(tiny_dataset, 0.2, seed=0)
    assert info.n_val == len(split.y_val) == 10
    assert info.majority == pytest.approx(1 / 3)
    facts = info.facts([], StudySettings(objective="val_accuracy"))
    assert (facts.objective, facts.n_val, facts.majority) == ("val_accuracy", 10, pytest.approx(1 / 3))
    y = np.array([0] * 30 + [1] * 10)
    skewed = validate_dataset(np.zeros((40, 4), np.float32), np.zeros((4, 4), np.float32), y, y[:4], 2,
                              name="skewed")
    assert TaskInfo.of(skewed, 0.25).majority == pytest.approx(0.75)
    model = NoiseModel.of(TaskFacts(2, False, 30, 5, objective="val_accuracy", n_val=10, majority=0.75), [])
    assert model.chance == 0.75 and model.chance_text() == "0.75, the majority class's share"


# -- the verdicts ----------------------------------------------------------------------------------------
def test_a_clear_gain_is_kept_and_says_which_comparison_decided():
    verdict = verdict_of(BEFORE + [acc(5, 0.64), acc(6, 0.68), acc(7, 0.8333)])
    assert verdict.verdict == KEPT and verdict.after_trial == 7
    assert verdict.reason.startswith("trial #7 (0.8333) beat #3 (0.7000), the best before it, by 0.1333 > noise 0.0")
    assert verdict.reason.endswith("(binomial s.e. of a difference on 60 validation samples)")


def test_a_gain_within_the_noise_is_undecided_not_kept():
    trials = BEFORE + [acc(5, 0.71)]
    assert verdict_of(trials) is None  # a margin of 0.01 proves nothing yet: wait for the window
    verdict = verdict_of(trials + [acc(6, 0.69), acc(7, 0.70)])
    assert verdict.verdict == UNDECIDED
    assert verdict.reason.startswith("the best since, #5 (0.7100), against #3 (0.7000), the best before it: "
                                     "+0.0100, within noise 0.08")
    assert verdict.reason.endswith("the change stays, no evidence for or against its rule")
    # without a count of validation samples nor a spread, any margin counts (as before noise was measured)
    unknown = verdict_of(trials, facts=task(n_val=None))
    assert unknown.verdict == KEPT and "noise 0.0000 (unknown: the number of validation samples is unknown" \
        in unknown.reason


def test_a_clear_loss_is_reverted_and_a_small_one_is_not():
    judgement = judge(VERSIONS, {}, BEFORE + [acc(5, 0.52), acc(6, 0.55), acc(7, 0.50)], True, 3, 7, L2, task())
    verdict = judgement.verdicts[0]
    assert verdict.verdict == REVERTED and judgement.restore is VERSIONS[0]
    assert verdict.reason.startswith("none of trials #5, #6, #7 beat #3 (0.7000), the best before it: the best "
                                     "of them, #6 (0.5500), is 0.1500 below it, more than noise 0.0")
    assert verdict.reason.endswith("; back to version 1")
    # 0.04 below on 60 samples is within the noise: undecided, not reverted
    small = verdict_of(BEFORE + [acc(5, 0.66), acc(6, 0.64), acc(7, 0.62)])
    assert small.verdict == UNDECIDED and "-0.0400, within noise" in small.reason


def test_a_best_at_chance_level_decides_nothing():
    """Ten classes, every trial before the change at 0.10: a network that never learned. Any result beats
    0.10, so beating it is no evidence: only a trial clearly above chance keeps the change."""
    chance = [acc(n, 0.10) for n in range(1, 5)]
    # a trial at 0.12 beat the best before it (the old verdict kept the change); within noise of chance
    assert verdict_of(chance + [acc(5, 0.12)]) is None
    verdict = verdict_of(chance + [acc(5, 0.12), acc(6, 0.11), acc(7, 0.10)])
    assert verdict.verdict == UNDECIDED
    assert verdict.reason.startswith("#1-#4 sat at chance level (0.10 on 10 classes): no best to beat; trials "
                                     "#5-#7 since it: none of them rose clearly above chance")
    # a trial clearly above chance keeps it
    verdict = verdict_of(chance + [acc(5, 0.12), acc(6, 0.45)])
    assert verdict.verdict == KEPT and verdict.after_trial == 6
    assert verdict.reason.startswith("#1-#4 sat at chance level (0.10 on 10 classes): no best to beat; #6 at "
                                     "0.4500 rose clearly above chance (by 0.3500 > noise 0.0387 (binomial s.e. "
                                     "at chance on 60 validation samples))")
    # never reverted: nothing measured was lost
    assert verdict_of(chance + [acc(5, 0.05), acc(6, 0.02), acc(7, 0.0)]).verdict == UNDECIDED


def test_a_diverged_best_is_no_result_to_beat():
    diverged = Diagnosis({"diverged": 1.0}, (), (), "")
    before = [Trial(n, TrialState.COMPLETE, {}, n, objective=0.3, val_accuracy=0.3, diagnosis=diverged)
              for n in range(1, 5)]
    unknown_classes = task(n_val=1000, n_classes=None)  # no chance level to rise above
    verdict = verdict_of(before + [acc(5, 0.42), acc(6, 0.31), acc(7, 0.30)], facts=unknown_classes)
    assert verdict.verdict == UNDECIDED
    assert verdict.reason.startswith("#1-#4 diverged: no best to beat; trials #5-#7 since it: without a chance "
                                     "level to rise above, nothing they did is evidence")
    # the same values from healthy trainings: 0.42 against 0.30 on 1000 samples is a clear gain
    verdict = verdict_of([acc(n, 0.3) for n in range(1, 5)] + [acc(5, 0.42)], facts=unknown_classes)
    assert verdict.verdict == KEPT and "beat #1 (0.3000)" in verdict.reason


def test_a_loss_objective_is_judged_against_its_epoch_spread():
    def loss(number: int, value: float) -> Trial:
        return Trial(number, TrialState.COMPLETE, {}, number, objective=value, extra={"objective_spread": 0.02})

    facts = task(None, None, "val_mae")
    before = [loss(1, 0.50), loss(2, 0.40), loss(3, 0.45), loss(4, 0.42)]
    # minimised: 0.37 is 0.03 better than 0.40, more than sqrt(2) x 0.02 = 0.0283: kept
    verdict = verdict_of(before + [loss(5, 0.37)], maximize=False, facts=facts)
    assert verdict.verdict == KEPT and "by 0.0300 > noise 0.0283 (epoch-to-epoch spread of val_mae" in verdict.reason
    verdict = verdict_of(before + [loss(5, 0.39), loss(6, 0.41), loss(7, 0.45)], maximize=False, facts=facts)
    assert verdict.verdict == UNDECIDED
    verdict = verdict_of(before + [loss(5, 0.50), loss(6, 0.48), loss(7, 0.55)], maximize=False, facts=facts)
    assert verdict.verdict == REVERTED and "0.0800 below it" in verdict.reason


def test_deb_order_needs_no_margin():
    over = Trial(4, TrialState.COMPLETE, {}, 4, objective=0.9, val_accuracy=0.9,
                 extra={"infeasible": True, "violation": 2.0})
    trials = [Trial(t.number, t.state, {}, t.number, objective=t.objective, val_accuracy=t.val_accuracy,
                    extra={"infeasible": True, "violation": 3.0}) for t in BEFORE[:3]] + [over]
    verdict = verdict_of(trials + [acc(5, 0.40)])
    assert verdict.verdict == KEPT
    assert verdict.reason == "trial #5 (0.4000) beat #4 (0.9000, over its limits), the best before it"
    still_over = [Trial(n, TrialState.COMPLETE, {}, n, objective=0.95, val_accuracy=0.95,
                        extra={"infeasible": True, "violation": 0.1}) for n in (5, 6, 7)]
    verdict = verdict_of(BEFORE + still_over)
    assert verdict.verdict == REVERTED and "(each of them over the limits)" in verdict.reason


def test_a_learning_rate_move_still_showing_its_problem_is_kept_from_chance_level():
    slow = Diagnosis({}, ("underfitting", "low_lr"), (), "")
    trials = [Trial(n, TrialState.COMPLETE, {}, n, objective=0.1, val_accuracy=0.1, diagnosis=slow)
              for n in range(1, 8)]
    moved = [ActionRecord(4, "inc_lr", "low_lr", 0.99, True, "learning_rate low 1e-06 -> 3e-06")]
    verdict = verdict_of(trials, actions=moved)
    assert verdict.verdict == KEPT
    assert verdict.reason.endswith("most of trials #5-#7 still show low_lr: the move was too small, not wrong")


def test_an_undecided_change_is_no_evidence_for_or_against_its_rule():
    verdicts = {2: Verdict(2, UNDECIDED, 7, "within noise", None, None)}
    assert revert_evidence(verdicts, VERSIONS, L2) == []
    assert reverted_pairs(verdicts, VERSIONS, L2) == {}
    states = change_states(VERSIONS, verdicts)
    # a weight that fell is no contradiction to explain: an undecided change claimed nothing
    assert kept_weight_notes(L2, states, {("reg_l2", "overfitting"): 0.4}, {4: Outcome(5, False, "#5 fell")}) == {}
    reverted = {2: Verdict(2, REVERTED, 7, "clear loss", 1, 3)}
    assert revert_evidence(reverted, VERSIONS, L2) == [("reg_l2", "overfitting", False)]


def test_status_and_the_dashboard_show_undecided():
    verdicts = {2: Verdict(2, UNDECIDED, 7, "the best since, #5 (0.7100), against #3 (0.7000): +0.0100, "
                                            "within noise 0.08", None, None)}
    states = change_states(VERSIONS, verdicts)
    assert state_word(states[4]) == "undecided"
    assert "version 2 (after trial 4: reg_l2): undecided after trial 7: the best since, #5" \
        in changes_summary(VERSIONS, verdicts)
    assert actions_table(L2, states).rows[0][4].startswith("undecided after trial 7: the best since")


def test_verdicts_are_a_pure_function_of_their_inputs():
    trials = BEFORE + [acc(5, 0.71), acc(6, 0.69), acc(7, 0.70)]
    first = judge(VERSIONS, {}, trials, True, 3, 7, L2, task())
    again = judge(VERSIONS, {}, list(reversed(trials)), True, 3, 7, L2, task())
    assert first == again
