"""drop_optimizer: an optimizer that failed where another one trains well at the same rate leaves the choices."""

from __future__ import annotations

import itertools

import pytest

from symtuner.core.architecture import Architecture
from symtuner.core.errors import ConfigError
from symtuner.core.space import Categorical, Real, SearchSpace, default_space
from symtuner.search.optimizers.base import Observation
from symtuner.search.optimizers.tpe import TPEOptimizer
from symtuner.tuning.actions import ActionContext, NotApplicable, apply_action, is_applicable

BEST = {"unit_c1": 40, "dr1_2": 0.1, "unit_c2": 96, "unit_d": 300, "dr_f": 0.2, "learning_rate": 3e-4,
        "batch_size": 64, "optimizer": "Adam", "activation": "relu"}


def ctx(trial_optimizer="Adadelta", trial_rate=3e-4, best_rate=3e-4, problem="low_lr", best_problems=(),
        best_optimizer="Adam"):
    return ActionContext(best_params={**BEST, "optimizer": best_optimizer, "learning_rate": best_rate},
                         conv_room=1, trial_params={**BEST, "optimizer": trial_optimizer,
                                                    "learning_rate": trial_rate},
                         problem=problem, best_problems=best_problems)


def test_the_failed_optimizer_leaves_the_choices_and_nothing_else_changes():
    space = default_space()
    new_space, arch = apply_action("drop_optimizer", space, Architecture(), ctx())
    assert new_space["optimizer"].categories == ("Adam", "Adamax")
    assert [d for d in new_space.dimensions if d.name != "optimizer"] == \
        [d for d in space.dimensions if d.name != "optimizer"]
    assert arch == Architecture()
    # once dropped, the same trial's optimizer cannot be dropped again
    with pytest.raises(NotApplicable, match="Adadelta is no longer among the choices"):
        apply_action("drop_optimizer", new_space, Architecture(), ctx())


@pytest.mark.parametrize("trial_rate, best_rate, problem", [
    (3e-4, 1e-3, "low_lr"),   # the best trained at a higher rate: the rate may be too low
    (1e-3, 3e-4, "high_lr"),  # the best trained at a lower rate: the rate may be too high
])
def test_no_drop_when_the_rate_may_be_what_failed(trial_rate, best_rate, problem):
    with pytest.raises(NotApplicable, match="rather than its learning rate"):
        apply_action("drop_optimizer", default_space(), Architecture(),
                     ctx(trial_rate=trial_rate, best_rate=best_rate, problem=problem))


def test_the_rate_move_never_takes_away_the_witness_rate():
    """Wherever drop_optimizer has a witness (another optimizer trained well at a rate contradicting the
    diagnosis), the learning-rate move answers the same problem for the failed optimizer only: the
    witness optimizer keeps its rate inside its range, and the failed one's range moves."""
    space = SearchSpace((Real("learning_rate", 1e-5, 1e-2, "log-uniform"),
                         Categorical("optimizer", ("Adam", "Adamax", "Adadelta"))))
    rates = (1e-4, 3e-4, 1e-3)
    witnessed = 0
    for trial_rate, best_rate in itertools.product(rates, rates):
        for problem, move in (("low_lr", "inc_lr"), ("high_lr", "decr_lr")):
            context = ctx(trial_rate=trial_rate, best_rate=best_rate, problem=problem)
            moved, _ = apply_action(move, space, Architecture(), context)
            lr = moved["learning_rate"]
            assert lr.bounds("Adadelta") != space["learning_rate"].bounds("Adadelta"), (trial_rate, best_rate)
            if is_applicable("drop_optimizer", space, Architecture(), context):
                witnessed += 1
                low, high = lr.bounds("Adam")
                assert low <= best_rate <= high, (trial_rate, best_rate, problem, lr)
    assert witnessed == 12  # the best's rate is as low (low_lr) or as high (high_lr) or more in 12 of 18


def test_no_drop_without_a_best_trial_that_trained_well_with_another_optimizer():
    space = default_space()
    for context, why in (
            (ctx(best_optimizer="Adadelta"), "rather than its learning rate"),  # same optimizer
            (ctx(best_problems=("low_lr",)), "rather than its learning rate"),  # the best crawled too
            (ActionContext(best_params=None, conv_room=1, trial_params=dict(BEST), problem="low_lr"),
             "rather than its learning rate"),
            (ActionContext(best_params=dict(BEST), conv_room=1, problem="low_lr"), "no diagnosed trial")):
        with pytest.raises(NotApplicable, match=why):
            apply_action("drop_optimizer", space, Architecture(), context)


def test_the_best_trials_optimizer_must_still_be_offered_so_a_proven_choice_remains():
    space = default_space().with_categories("optimizer", ["Adamax", "Adadelta"])
    with pytest.raises(NotApplicable, match=r"no trial that trained well with another optimizer still among the choices \[.Adamax.\]"):
        apply_action("drop_optimizer", space, Architecture(), ctx())


def test_other_problems_need_a_best_trial_at_about_the_same_rate():
    near = ctx(trial_rate=3e-4, best_rate=6e-4, problem="underfitting")
    far = ctx(trial_rate=3e-4, best_rate=3e-3, problem="underfitting")
    assert is_applicable("drop_optimizer", default_space(), Architecture(), near)
    assert not is_applicable("drop_optimizer", default_space(), Architecture(), far)


def test_no_optimizer_dimension():
    space = SearchSpace((Real("learning_rate", 1e-4, 1e-2, "log-uniform"),))
    with pytest.raises(NotApplicable, match="no 'optimizer' dimension"):
        apply_action("drop_optimizer", space, Architecture(), ctx())
    fixed = SearchSpace((Real("optimizer", 0.1, 0.2),))
    with pytest.raises(NotApplicable, match="not a categorical dimension"):
        apply_action("drop_optimizer", fixed, Architecture(), ctx())


def test_with_categories_names_bad_values():
    space = default_space()
    with pytest.raises(ConfigError, match="has no category 'SGD'"):
        space.with_categories("optimizer", ["Adam", "SGD"])
    with pytest.raises(ConfigError, match="must not be empty"):
        space.with_categories("optimizer", [])
    with pytest.raises(ConfigError, match="'learning_rate' is not categorical"):
        space.with_categories("learning_rate", ["Adam"])


def test_tpe_leaves_out_trials_of_a_dropped_choice_instead_of_recording_them_as_another():
    pytest.importorskip("optuna")
    space = SearchSpace((Real("learning_rate", 1e-4, 1e-2, "log-uniform"),
                         Categorical("optimizer", ("Adam", "Adadelta"))))
    narrowed = space.with_categories("optimizer", ["Adam"])
    history = [Observation({"learning_rate": 1e-3, "optimizer": "Adadelta"}, 2.3) for _ in range(8)]
    history += [Observation({"learning_rate": 1e-3, "optimizer": "Adam"}, 0.1)]
    from symtuner.search.optimizers.tpe import replayed

    assert [o.params["optimizer"] for o in replayed(narrowed, history)] == ["Adam"]
    assert narrowed.contains(TPEOptimizer(n_initial=2).ask(narrowed, history, seed=0))


def test_any_trial_that_learned_is_a_witness_not_only_the_best():
    # the best trial used Adam at a higher rate (no evidence); another trial learned with Adamax at a lower one
    context = ActionContext(best_params={**BEST, "learning_rate": 1e-3}, conv_room=1,
                            trial_params={**BEST, "optimizer": "Adadelta", "learning_rate": 5e-4}, problem="low_lr",
                            learned=({**BEST, "optimizer": "Adamax", "learning_rate": 4e-4},))
    new_space, _ = apply_action("drop_optimizer", default_space(), Architecture(), context)
    assert new_space["optimizer"].categories == ("Adam", "Adamax")
    # the rate move instead raises Adadelta's range and leaves Adamax its 0.0004 as a range of its own
    raised, _ = apply_action("inc_lr", default_space(), Architecture(), context)
    assert raised["learning_rate"].bounds("Adadelta")[0] == pytest.approx(5e-4)
    assert raised["learning_rate"].bounds("Adamax") == (1e-4, 1e-3)
    assert raised["learning_rate"].bounds("Adam")[0] == pytest.approx(5e-4)  # no evidence of its own: it follows
    # a witness with the diagnosed trial's own optimizer says nothing
    same = ActionContext(best_params={**BEST, "learning_rate": 1e-3}, conv_room=1,
                         trial_params={**BEST, "optimizer": "Adadelta", "learning_rate": 5e-4}, problem="low_lr",
                         learned=({**BEST, "optimizer": "Adadelta", "learning_rate": 4e-4},))
    assert not is_applicable("drop_optimizer", default_space(), Architecture(), same)


def test_the_advisor_counts_only_trials_that_learned_as_witnesses():
    from symtuner.core.records import Diagnosis, Trial, TrialState
    from symtuner.tuning.advisor import learned_params

    def trial(number, problems, state=TrialState.COMPLETE):
        diagnosis = Diagnosis(facts={}, problems=tuple(problems), actions=(), explanation="")
        return Trial(number, state, {"optimizer": "Adam", "learning_rate": 1e-3 * number}, 1, objective=0.5,
                     diagnosis=diagnosis)

    trials = [trial(1, ()), trial(2, ("overfitting",)), trial(3, ("underfitting", "low_lr")), trial(4, ("high_lr",)),
              trial(5, (), TrialState.FAILED), trial(6, ())]
    assert [p["learning_rate"] for p in learned_params(trials, trials[-1])] == [1e-3, 2e-3]


def test_repeated_drops_never_empty_the_choices_and_always_leave_a_witness():
    """Whatever the trials and their order, each drop leaves an optimizer some trial trained well with."""
    import random

    optimizers = ("Adam", "Adamax", "Adadelta", "RMSprop")
    rng = random.Random(7)
    for _ in range(300):
        space = SearchSpace((Real("learning_rate", 1e-5, 1e-2, "log-uniform"), Categorical("optimizer", optimizers)))
        for _step in range(6):
            choices = space["optimizer"].categories
            def point():
                return {"optimizer": rng.choice(optimizers), "learning_rate": 10 ** rng.uniform(-5, -2)}
            learned = tuple(point() for _ in range(rng.randint(0, 3)))
            context = ActionContext(best_params=point(), conv_room=1,
                                    trial_params={**point(), "optimizer": rng.choice(choices)},
                                    problem=rng.choice(("low_lr", "high_lr", "underfitting")), learned=learned)
            try:
                after, _ = apply_action("drop_optimizer", space, Architecture(), context)
            except NotApplicable:
                continue
            left = after["optimizer"].categories
            assert left and set(left) < set(choices)
            witnesses = {p["optimizer"] for p in (*learned, context.best_params)}
            assert witnesses & set(left)
            space = after
