"""A change is judged on the trials it touched: a move of one optimizer's learning rates is judged on
that optimizer's trials, not on another's that drew from a range the move left as it was.

Pure: hand-built spaces, versions and trials, nothing trained."""

from __future__ import annotations

from symtuner.core.architecture import Architecture
from symtuner.core.records import Trial, TrialState, TuningVersion
from symtuner.core.space import Categorical, Integer, Real, SearchSpace, changed_for
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
    return Trial(number, TrialState.COMPLETE, {"optimizer": optimizer, "learning_rate": 1e-2, "batch_size": 32},
                 1, objective=value, val_accuracy=value)


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
    assert verdict.reason.startswith("none of trials #3-#8 since it drew from the ranges it changed")


def test_a_change_of_the_network_or_of_a_shared_range_counts_every_trial():
    grown = [VERSIONS[0], TuningVersion(2, BASE, Architecture(batch_norm=True), 2, "batch_norm", 0.0)]
    trials = BEFORE + [trial(3, "Adadelta", 0.60), trial(4, "Adadelta", 0.61), trial(5, "Adadelta", 0.62)]
    (verdict, *_) = judged(trials, grown)
    assert verdict.verdict == REVERTED and "not counted" not in verdict.reason
    smaller = SearchSpace((BASE["learning_rate"], OPTIMIZERS, Integer("batch_size", 16, 64)))
    batches = [VERSIONS[0], TuningVersion(2, smaller, Architecture(), 2, "decr_batch_size", 0.0)]
    (verdict, *_) = judged(trials, batches)
    assert verdict.verdict == REVERTED
