"""A change is judged on the trials it touched: a move of one optimizer's learning rates is judged on
that optimizer's trials, not on another's that drew from a range the move left as it was; and the rule
learning reads the first trial that trained with what a rule chose.

Pure: hand-built spaces, versions and trials, nothing trained."""

from __future__ import annotations

from symtuner.core.architecture import Architecture
from symtuner.core.records import ChosenAction, Diagnosis, Trial, TrialState, TuningVersion, Verdict
from symtuner.core.space import Categorical, Integer, Real, SearchSpace, changed_for
from symtuner.tuning.evidence import FOLLOWING_WAIT, next_trial_outcomes, trial_evidence
from symtuner.tuning.hypotheses import KEPT, REVERTED, UNDECIDED, WAIT_FACTOR, judge
from symtuner.tuning.view import TaskFacts

OPTIMIZERS = Categorical("optimizer", ("Adam", "Adadelta"))
BATCH = Integer("batch_size", 16, 256)
#: Adadelta has a range of its own; Adam draws from the shared one.
BASE = SearchSpace((Real("learning_rate", 1e-3, 1e-1, "log-uniform", "optimizer", (("Adadelta", 1e-3, 1e-1),)),
                    OPTIMIZERS, BATCH))
#: decr_lr for Adam: the shared range (Adam's) moves down, Adadelta's stays.
ADAM_DOWN = SearchSpace((Real("learning_rate", 1e-4, 1e-2, "log-uniform", "optimizer",
                              (("Adadelta", 1e-3, 1e-1),)), OPTIMIZERS, BATCH))
VERSIONS = [TuningVersion(1, BASE, Architecture(), None, "initial", 0.0),
            TuningVersion(2, ADAM_DOWN, Architecture(), 2, "after trial 2: decr_lr", 0.0)]
TASK = TaskFacts(10, True, 1000, 5, objective="val_accuracy", n_val=600)


def trial(number: int, optimizer: str, value: float) -> Trial:
    """A trial of ``optimizer``, started under the newest version by then (one version per trial)."""
    return Trial(number, TrialState.COMPLETE, {"optimizer": optimizer, "learning_rate": 1e-2, "batch_size": 32},
                 number, objective=value, val_accuracy=value)


def judged(trials: list[Trial], versions=VERSIONS):
    return judge(versions, {}, trials, True, 3, max(t.number for t in trials), (), TASK).verdicts


BEFORE = [trial(1, "Adadelta", 0.90), trial(2, "Adam", 0.50)]


def test_changed_for_tells_which_choices_a_range_move_touched():
    assert changed_for(BASE, ADAM_DOWN, {"optimizer": "Adam"})
    assert not changed_for(BASE, ADAM_DOWN, {"optimizer": "Adadelta"})
    assert not changed_for(BASE, BASE, {"optimizer": "Adam"})
    # any other change touches every trial
    wider = SearchSpace((BASE["learning_rate"], OPTIMIZERS, Integer("batch_size", 8, 256)))
    assert changed_for(BASE, wider, {"optimizer": "Adadelta"})
    fewer = SearchSpace((BASE["learning_rate"], Categorical("optimizer", ("Adam", "Adadelta", "SGD")), BATCH))
    assert changed_for(BASE, fewer, {"optimizer": "Adadelta"})
    # Adadelta given a range of its own equal to the one it drew from: nothing changed for it
    pinned = SearchSpace((Real("learning_rate", 1e-3, 1e-1, "log-uniform", "optimizer"), OPTIMIZERS, BATCH))
    assert not changed_for(pinned, BASE, {"optimizer": "Adadelta"})


def test_another_optimizers_trials_neither_keep_nor_revert_a_move_of_adams_rates():
    # Adadelta trials since the move: one far better, two far worse; none is the move's evidence
    trials = BEFORE + [trial(3, "Adadelta", 0.97), trial(4, "Adadelta", 0.40), trial(5, "Adadelta", 0.40)]
    assert judged(trials) == ()
    # three Adam trials decide: all below the best before (0.90) by more than the noise
    trials += [trial(6, "Adam", 0.70), trial(7, "Adam", 0.72)]
    assert judged(trials) == ()
    (verdict, *_) = judged(trials + [trial(8, "Adam", 0.71)])
    assert verdict.verdict == REVERTED
    assert "#6, #7, #8" in verdict.reason and "not counted: #3-#5, drawn from ranges it did not change" \
        in verdict.reason


def test_the_moved_optimizers_trial_that_beats_the_best_keeps_it():
    trials = BEFORE + [trial(3, "Adadelta", 0.60), trial(4, "Adam", 0.96)]
    (verdict,) = judged(trials)
    assert verdict.verdict == KEPT and "trial #4" in verdict.reason and "not counted: #3" in verdict.reason


def test_a_move_whose_optimizer_is_rarely_drawn_is_judged_on_its_few_trials_after_the_wait():
    others = [trial(n, "Adadelta", 0.89) for n in range(3, 3 + 2 * 3 - 1)]
    lone = trial(3 + 2 * 3 - 1, "Adam", 0.60)
    assert WAIT_FACTOR == 2
    assert judged(BEFORE + others[:-1] + [lone]) == ()  # five trials since: still waiting
    (verdict, *_) = judged(BEFORE + others + [lone])
    assert verdict.verdict == REVERTED and "#8" in verdict.reason


def test_a_move_no_trial_drew_from_is_undecided_after_the_wait():
    others = [trial(n, "Adadelta", 0.40) for n in range(3, 3 + WAIT_FACTOR * 3)]
    assert judged(BEFORE + others[:-1]) == ()
    (verdict,) = judged(BEFORE + others)
    assert verdict.verdict == UNDECIDED
    assert verdict.reason.startswith("none of trials #3-#8 since it trained with it")


def test_a_change_of_the_network_or_of_a_shared_range_counts_every_trial():
    grown = [VERSIONS[0], TuningVersion(2, BASE, Architecture(batch_norm=True), 2, "batch_norm", 0.0)]
    trials = BEFORE + [trial(3, "Adadelta", 0.60), trial(4, "Adadelta", 0.61), trial(5, "Adadelta", 0.62)]
    (verdict, *_) = judged(trials, grown)
    assert verdict.verdict == REVERTED and "not counted" not in verdict.reason
    smaller = SearchSpace((BASE["learning_rate"], OPTIMIZERS, Integer("batch_size", 16, 64)))
    batches = [VERSIONS[0], TuningVersion(2, smaller, Architecture(), 2, "decr_batch_size", 0.0)]
    (verdict, *_) = judged(trials, batches)
    assert verdict.verdict == REVERTED


def decided(number: int, optimizer: str, value: float) -> Trial:
    """A trial whose diagnosis chose decr_lr for high_lr (the move of VERSIONS[1], made after trial 2)."""
    chosen = Diagnosis({}, ("high_lr",), (ChosenAction("decr_lr", "high_lr", 0.7),), "")
    return Trial(number, TrialState.COMPLETE, {"optimizer": optimizer, "learning_rate": 1e-2, "batch_size": 32},
                 number, objective=value, val_accuracy=value, diagnosis=chosen)


def test_the_rule_learning_reads_the_moved_optimizers_next_trial():
    trials = [trial(1, "Adadelta", 0.90), decided(2, "Adam", 0.50), trial(3, "Adadelta", 0.40),
              trial(4, "Adam", 0.97)]
    # without the versions: the trial right after (an Adadelta trial, a loss)
    assert trial_evidence(trials, True, TASK) == [("decr_lr", "high_lr", False)]
    # with them: Adam's next trial, which beat the best before the move
    outcome = next_trial_outcomes(trials, True, TASK, VERSIONS, {})[2]
    assert outcome.following == 4 and outcome.improved is True
    assert trial_evidence(trials, True, TASK, VERSIONS, {}) == [("decr_lr", "high_lr", True)]


def test_no_trial_of_the_moved_optimizer_within_the_wait_is_no_evidence():
    others = [trial(n, "Adadelta", 0.40) for n in range(3, 3 + FOLLOWING_WAIT)]
    late = trial(3 + FOLLOWING_WAIT, "Adam", 0.97)
    trials = [trial(1, "Adadelta", 0.90), decided(2, "Adam", 0.50), *others, late]
    assert trial_evidence(trials, True, TASK, VERSIONS, {}) == []


def test_a_revert_is_not_read_as_a_move_of_the_actions_chosen_with_it():
    # after trial 2, Adam's move (version 2) was reverted: version 3 restores version 1; the actions
    # chosen after trial 2 changed nothing, so the trial right after is theirs, whatever its optimizer
    moved = TuningVersion(2, ADAM_DOWN, Architecture(), 1, "after trial 1: decr_lr", 0.0)
    restored = TuningVersion(3, BASE, Architecture(), 2, "after trial 2: revert to version 1", 0.0)
    verdicts = {2: Verdict(2, REVERTED, 2, "lost", 1, 3)}
    trials = [trial(1, "Adam", 0.90), decided(2, "Adam", 0.50), trial(3, "Adadelta", 0.40),
              trial(4, "Adam", 0.97)]
    outcomes = next_trial_outcomes(trials, True, TASK, [VERSIONS[0], moved, restored], verdicts)
    assert outcomes[2].following == 3


def test_a_trial_already_running_when_the_change_was_made_is_not_its_evidence():
    # a parallel study: trials 3 and 4 started under version 1, before the change made after trial 2
    grown = [VERSIONS[0], TuningVersion(2, BASE, Architecture(batch_norm=True), 2, "batch_norm", 0.0)]
    running = [Trial(n, TrialState.COMPLETE, {"optimizer": "Adam"}, 1, objective=0.4, val_accuracy=0.4)
               for n in (3, 4)]
    trials = BEFORE + running + [trial(5, "Adam", 0.41), trial(6, "Adam", 0.42)]
    assert judged(trials, grown) == ()
    (verdict, *_) = judged(trials + [trial(7, "Adam", 0.40)], grown)
    assert verdict.verdict == REVERTED and "#5, #6, #7" in verdict.reason and "not counted: #3, #4, started before it)" in verdict.reason
    chosen = Diagnosis({}, ("underfitting",), (ChosenAction("batch_norm", "underfitting", 0.7),), "")
    diagnosed = Trial(2, TrialState.COMPLETE, {"optimizer": "Adam"}, 2, objective=0.5, val_accuracy=0.5,
                      diagnosis=chosen)
    outcome = next_trial_outcomes([BEFORE[0], diagnosed, *running, trial(5, "Adam", 0.97)], True, TASK, grown, {})
    assert outcome[2].following == 5
