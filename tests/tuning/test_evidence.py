"""The rule learning's evidence: what the trial right after each choice of a rule showed, judged against
the study's noise as the verdicts are (a gain or a loss within the noise is no evidence).

Pure: hand-built trials, nothing trained, except the last test, which runs a simulated study."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from symtuner.core.records import ChosenAction, Diagnosis, Trial, TrialState
from symtuner.core.settings import StudySettings
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.storage import StudyStore
from symtuner.symbolic.lfi import learn_weights
from symtuner.symbolic.rules import load_rules
from symtuner.tuner import Tuner
from symtuner.tuning.evidence import next_trial_outcomes, stored_task_facts, trial_evidence
from symtuner.tuning.view import TaskFacts

INITIAL = load_rules().initial_weights
#: 10 classes, accuracies measured on 60 validation samples: a difference of two accuracies near 0.85
#: has a binomial standard error of about 0.065
TASK = TaskFacts(10, True, 240, 5, objective="val_accuracy", n_val=60)


def trial(number: int, objective: float | None, *actions: tuple[str, str],
          state: str = TrialState.COMPLETE) -> Trial:
    diagnosis = None
    if actions:
        diagnosis = Diagnosis(facts={}, problems=tuple(p for _, p in actions),
                              actions=tuple(ChosenAction(a, p, 0.5) for a, p in actions), explanation="")
    return Trial(number=number, state=state, params={}, tuning_version=0, objective=objective,
                 val_accuracy=objective, diagnosis=diagnosis)


# -- without anything to measure the noise: any margin counts ---------------------------------------
def test_improvement_is_judged_against_the_best_so_far_not_the_previous_trial():
    trials = [
        trial(0, 0.90, ("reg_l2", "overfitting")),
        trial(1, 0.80, ("inc_neurons", "underfitting")),  # reg_l2 did not help: 0.80 < 0.90
        trial(2, 0.85),  # better than trial 1, but not than the best (0.90): inc_neurons did not help
    ]
    assert trial_evidence(trials) == [("reg_l2", "overfitting", False), ("inc_neurons", "underfitting", False)]
    trials.append(trial(3, 0.95))
    trials[2] = trial(2, 0.85, ("decr_lr", "high_lr"))
    assert trial_evidence(trials)[-1] == ("decr_lr", "high_lr", True)


def test_failed_and_running_trials_are_skipped_and_order_is_by_number():
    trials = [
        trial(3, 0.95),
        trial(1, None, state=TrialState.FAILED),
        trial(0, 0.90, ("decr_lr", "high_lr"), ("reg_l2", "overfitting")),
        trial(2, math.nan),  # no usable objective
        trial(4, None, state=TrialState.RUNNING),
    ]
    assert trial_evidence(trials) == [("decr_lr", "high_lr", True), ("reg_l2", "overfitting", True)]


def test_last_trial_has_no_evidence_yet_and_minimising_flips_the_comparison():
    trials = [trial(0, 0.5, ("decr_lr", "high_lr")), trial(1, 0.4, ("inc_lr", "low_lr"))]
    assert trial_evidence(trials, maximize=True) == [("decr_lr", "high_lr", False)]
    assert trial_evidence(trials, maximize=False) == [("decr_lr", "high_lr", True)]
    assert trial_evidence([]) == []


# -- against the noise -------------------------------------------------------------------------------
def test_a_difference_within_the_noise_is_no_evidence_either_way():
    for following in (0.87, 0.83):  # 2 points either side of the best, on 60 validation samples
        trials = [trial(0, 0.85, ("reg_l2", "overfitting")), trial(1, following)]
        outcome = next_trial_outcomes(trials, True, TASK)[0]
        assert outcome.following == 1 and outcome.improved is None
        assert "within noise" in outcome.reason and "no evidence" in outcome.reason
        assert trial_evidence(trials, True, TASK) == []
    # the same trials with no noise measured: any margin counts
    assert trial_evidence([trial(0, 0.85, ("reg_l2", "overfitting")), trial(1, 0.83)]) == \
        [("reg_l2", "overfitting", False)]


def test_a_difference_beyond_the_noise_is_evidence_and_says_which_comparison_decided():
    gain = next_trial_outcomes([trial(0, 0.70, ("reg_l2", "overfitting")), trial(1, 0.90)], True, TASK)[0]
    assert gain.improved is True
    assert gain.reason.startswith("#1 beat #0, the best before it, by 0.2000 > noise 0.")
    assert "binomial s.e. of a difference on 60 validation samples" in gain.reason
    loss = next_trial_outcomes([trial(0, 0.90, ("reg_l2", "overfitting")), trial(1, 0.60)], True, TASK)[0]
    assert loss.improved is False and loss.reason.startswith("#1 fell 0.3000 below #0, the best before it")


def test_a_rate_move_whose_next_trial_still_shows_its_problem_is_no_evidence_against_it():
    # decr_lr answered high_lr; the next trial fell far below the best and still diverges early: the move
    # was too small, not wrong. A next trial that shows the opposite problem (low_lr: it went too far) or
    # none counts against it, as does any shortfall of a rule that is not a bounded rate move.
    best = trial(0, 0.80)
    for shows, counted in ((("high_lr",), []), (("low_lr", "underfitting"), [("decr_lr", "high_lr", False)]),
                           ((), [("decr_lr", "high_lr", False)])):
        moved = trial(1, 0.30, ("decr_lr", "high_lr"))
        following = replace(trial(2, 0.20), diagnosis=Diagnosis({}, shows, (), ""))
        assert trial_evidence([best, moved, following], True, TASK) == counted, shows
    raised = trial(1, 0.30, ("inc_lr", "low_lr"))
    slow = replace(trial(2, 0.20), diagnosis=Diagnosis({}, ("low_lr",), (), ""))
    assert trial_evidence([best, raised, slow], True, TASK) == []
    # a gain counts whatever the next trial shows
    better = replace(trial(2, 0.95), diagnosis=Diagnosis({}, ("low_lr",), (), ""))
    assert trial_evidence([best, raised, better], True, TASK) == [("inc_lr", "low_lr", True)]
    still = replace(trial(2, 0.20), diagnosis=Diagnosis({}, ("overfitting",), (), ""))
    assert trial_evidence([best, trial(1, 0.3, ("reg_l2", "overfitting")), still], True, TASK) == \
        [("reg_l2", "overfitting", False)]


def test_a_best_at_chance_is_no_result_to_beat():
    # 10 classes: chance 0.10, plus one s.e. at chance on 60 samples (0.039)
    stuck = [trial(0, 0.10, ("inc_lr", "low_lr")), trial(1, 0.12)]
    outcome = next_trial_outcomes(stuck, True, TASK)[0]
    assert outcome.improved is None and "sat at chance level" in outcome.reason
    rose = next_trial_outcomes([trial(0, 0.10, ("inc_lr", "low_lr")), trial(1, 0.60)], True, TASK)[0]
    assert rose.improved is True and rose.reason.startswith("#1 rose clearly above chance (0.10 on 10 classes)")


def test_noise_keeps_a_rule_weight_that_small_differences_would_have_dragged_down():
    # reg_l2 chosen after five trials, each followed by one a point or two below the best (on 60 samples,
    # the regression of a best to the mean): counted by any margin, five failures
    trials = []
    for k in range(5):
        trials += [trial(2 * k, 0.85, ("reg_l2", "overfitting")), trial(2 * k + 1, 0.84 - 0.005 * k)]
    by_margin = learn_weights(INITIAL, trial_evidence(trials))
    by_noise = learn_weights(INITIAL, trial_evidence(trials, True, TASK))
    assert by_margin[("reg_l2", "overfitting")] < 0.4
    assert by_noise[("reg_l2", "overfitting")] == INITIAL[("reg_l2", "overfitting")]


def test_stored_task_facts_read_what_the_store_holds():
    facts = stored_task_facts({"n_classes": 10, "task": "classification", "input_shape": [8, 8, 1], "n_train": 240,
                               "n_val": 60, "majority": 0.2}, {"epochs": 5, "objective": "val_accuracy"})
    assert (facts.n_classes, facts.n_val, facts.majority, facts.objective, facts.image_input) == \
        (10, 60, 0.2, "val_accuracy", True)
    # a study created before the validation count was stored, and a regression
    old = stored_task_facts({"n_classes": 0, "task": "regression", "input_shape": [4]}, {})
    assert (old.n_classes, old.n_val, old.majority, old.objective) == (None, None, None, "val_accuracy")


def test_a_new_study_stores_what_its_noise_needs(tmp_path: Path, tiny_dataset) -> None:
    Tuner(tmp_path / "s", dataset=tiny_dataset, settings=StudySettings(epochs=3, validation_split=0.25),
          executor_factory=SimulatedExecutor, quiet=True).run(1)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        info = store.data_info()
    assert info["n_val"] == round(tiny_dataset.n_train * 0.25)
    counts = [list(tiny_dataset.y_train).count(c) for c in set(tiny_dataset.y_train.tolist())]
    assert math.isclose(info["majority"], max(counts) / sum(counts))


def test_a_float32_accuracy_at_chance_is_at_chance_even_with_no_noise_measured():
    import numpy as np

    chance = float(np.float32(0.1))  # 0.10000000149..., as a Keras history stores it
    unmeasured = TaskFacts(10, True, 240, 5, objective="val_accuracy")  # no validation count, no curves
    outcome = next_trial_outcomes([trial(0, chance, ("inc_lr", "low_lr")), trial(1, chance)], True, unmeasured)[0]
    assert outcome.improved is None and "sat at chance level" in outcome.reason
