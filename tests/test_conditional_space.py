"""Learning rates that belong to an optimizer: a real dimension with a range per choice of another one."""

from __future__ import annotations

from dataclasses import replace

import pytest

from symtuner.core.architecture import Architecture
from symtuner.core.errors import ConfigError
from symtuner.core.space import (
    Categorical,
    Real,
    SearchSpace,
    default_space,
    describe_dimension,
    dimension_from_dict,
    span,
)
from symtuner.search.optimizers.base import Observation
from symtuner.search.optimizers.gp import GaussianProcessOptimizer
from symtuner.search.optimizers.random_search import RandomSearch
from symtuner.search.proposer import Request, propose
from symtuner.tuning.actions import ActionContext, apply_action
from symtuner.tuning.actions.describe import describe_change

SPACE = default_space().with_range("learning_rate", "optimizer", "Adadelta", 0.1, 1.0)


def test_a_choice_with_a_range_of_its_own():
    lr = SPACE["learning_rate"]
    assert lr.bounds("Adadelta") == (0.1, 1.0) and lr.bounds("Adam") == (1e-4, 1e-3)
    assert lr.envelope() == (1e-4, 1.0)
    assert SPACE.project({"optimizer": "Adadelta", "learning_rate": 1e-3})["learning_rate"] == 0.1
    assert SPACE.project({"optimizer": "Adam", "learning_rate": 0.5})["learning_rate"] == 1e-3
    point = SPACE.project({})
    assert SPACE.contains({**point, "optimizer": "Adadelta", "learning_rate": 0.5})
    assert not SPACE.contains({**point, "optimizer": "Adam", "learning_rate": 0.5})
    assert describe_dimension(lr) == "learning_rate 0.0001..0.001 log-uniform (optimizer Adadelta 0.1..1)"


def test_stored_and_read_back_and_written_in_toml_form():
    assert SearchSpace.from_dict(SPACE.to_dict()) == SPACE
    table = {"type": "real", "name": "learning_rate", "low": 1e-4, "high": 1e-3, "prior": "log-uniform",
             "given": "optimizer", "ranges": {"Adadelta": [0.1, 1.0]}}  # ranges = { Adadelta = [0.1, 1.0] }
    assert dimension_from_dict(table) == SPACE["learning_rate"]


@pytest.mark.parametrize("change, message", [
    (dict(given=None), "'ranges' needs 'given'"),
    (dict(ranges={"Adadelta": [1.0, 0.1]}), "low 1.0 must be < high 0.1"),
    (dict(ranges={"Adadelta": [0.0, 0.1]}), "log-uniform prior needs low > 0"),
    (dict(ranges=[["Adadelta", 0.1]]), "must be [choice, low, high]"),
    (dict(ranges="Adadelta"), "must be a list"),
])
def test_a_bad_range_is_refused_naming_it(change, message):
    table = {"type": "real", "name": "learning_rate", "low": 1e-4, "high": 1e-3, "prior": "log-uniform",
             "given": "optimizer", "ranges": {"Adadelta": [0.1, 1.0]}, **change}
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        dimension_from_dict(table)


def test_a_range_for_a_choice_not_offered_or_a_given_that_is_not_categorical_is_refused():
    lr = Real("learning_rate", 1e-4, 1e-3, "log-uniform", "optimizer", (("SGD", 0.01, 0.1),))
    with pytest.raises(ConfigError, match=r"optimizer='SGD', which is not one of \['Adam', 'Adadelta'\]"):
        SearchSpace((lr, Categorical("optimizer", ("Adam", "Adadelta"))))
    with pytest.raises(ConfigError, match="given 'optimizer' is not a categorical dimension"):
        SearchSpace((Real("learning_rate", 1e-4, 1e-3, "log-uniform", "optimizer", ()),))


def test_dropping_a_choice_drops_its_range_and_the_hull_spans_every_range():
    assert SPACE.with_categories("optimizer", ["Adam", "Adamax"])["learning_rate"].ranges == ()
    hull = span([default_space(), SPACE])["learning_rate"]
    assert (hull.low, hull.high, hull.given) == (1e-4, 1.0, None)


def test_every_sampler_draws_each_choice_in_its_own_range():
    gp = GaussianProcessOptimizer(n_initial=3)
    history = [Observation({**SPACE.project({}), "optimizer": "Adadelta", "learning_rate": 0.3}, -0.9),
               Observation({**SPACE.project({}), "optimizer": "Adam", "learning_rate": 3e-4}, -0.8),
               Observation({**SPACE.project({}), "optimizer": "Adamax", "learning_rate": 5e-4}, -0.5)]
    seen = set()
    for seed in range(12):
        for optimizer, past in ((RandomSearch(), []), (gp, history)):
            params = propose(optimizer, Request(SPACE, past, seeds=(seed,), fallback_seed=seed, surrogate=None))
            assert SPACE.contains(params), params
            seen.add(params["optimizer"])
    assert seen == {"Adam", "Adamax", "Adadelta"}


def test_opposite_moves_for_two_optimizers_do_not_cancel():
    space = default_space().with_bounds("learning_rate", 1e-2, 1e-1)
    # Adam blew up at 0.05 while Adadelta trained well at 0.08: Adam's rates come down, Adadelta keeps its own
    adam = ActionContext(best_params={"optimizer": "Adadelta", "learning_rate": 0.08}, conv_room=0,
                         trial_params={"optimizer": "Adam", "learning_rate": 0.05}, problem="high_lr")
    lowered, _ = apply_action("decr_lr", space, Architecture(), adam)
    assert lowered["learning_rate"].bounds("Adam") == (1e-2, 0.05)
    assert lowered["learning_rate"].bounds("Adadelta") == (1e-2, 1e-1)
    assert describe_change(space, Architecture(), lowered, Architecture()) == [
        "learning_rate high 0.1 -> 0.05 (the optimizer choices without a range of their own)",
        "learning_rate for Adadelta keeps [0.01, 0.1] (a range of its own)"]
    # then Adadelta crept along at 0.02 while Adam trained well at 0.01: only Adadelta's range moves up
    adadelta = ActionContext(best_params={"optimizer": "Adam", "learning_rate": 0.01}, conv_room=0,
                             trial_params={"optimizer": "Adadelta", "learning_rate": 0.02}, problem="low_lr",
                             learned=({"optimizer": "Adam", "learning_rate": 0.01},))
    raised, _ = apply_action("inc_lr", lowered, Architecture(), adadelta)
    assert raised["learning_rate"].bounds("Adam") == (1e-2, 0.05)  # Adam's move stands
    assert raised["learning_rate"].bounds("Adadelta") == (0.02, 0.1)
    assert describe_change(lowered, Architecture(), raised, Architecture()) == [
        "learning_rate for Adadelta [0.01, 0.1] -> [0.02, 0.1]"]


def test_a_move_against_another_optimizers_own_diagnosis_leaves_that_optimizer_its_range():
    # every trial so far failed: Adam diverged at 0.05 (high_lr), then Adadelta crept along at 0.02 (low_lr).
    # No optimizer trained well, but Adam's own trial says its rates must come down, not up.
    space = default_space().with_bounds("learning_rate", 1e-2, 1e-1)
    adadelta = ActionContext(best_params=None, conv_room=0, problem="low_lr",
                             trial_params={"optimizer": "Adadelta", "learning_rate": 0.02},
                             rate_diagnoses=(("Adam", 0.05, "high_lr"),))
    raised, _ = apply_action("inc_lr", space, Architecture(), adadelta)
    assert raised["learning_rate"].bounds("Adam") == (1e-2, 1e-1)  # kept as Adam's own
    assert raised["learning_rate"].bounds("Adadelta") == (0.02, 0.1)
    assert raised["learning_rate"].bounds("Adamax") == (0.02, 0.1)  # no evidence of its own: the shared range
    # Adam's next failure moves Adam's own range down; Adadelta's and Adamax's stay where inc_lr put them
    adam = ActionContext(best_params=None, conv_room=0, problem="high_lr",
                         trial_params={"optimizer": "Adam", "learning_rate": 0.03},
                         rate_diagnoses=(("Adam", 0.05, "high_lr"), ("Adadelta", 0.02, "low_lr")))
    lowered, _ = apply_action("decr_lr", raised, Architecture(), adam)
    assert lowered["learning_rate"].bounds("Adam") == (1e-2, 0.03)
    assert lowered["learning_rate"].bounds("Adadelta") == (0.02, 0.1)
    # the same upward move with no diagnosis of Adam's against it: the shared range moves for every optimizer
    alone, _ = apply_action("inc_lr", space, Architecture(), replace(adadelta, rate_diagnoses=()))
    assert alone["learning_rate"].given is None and alone["learning_rate"].bounds("Adam") == (0.02, 0.1)
    # a diagnosis of the same direction is no evidence against the move
    same, _ = apply_action("inc_lr", space, Architecture(),
                           replace(adadelta, rate_diagnoses=(("Adam", 0.011, "low_lr"),)))
    assert same["learning_rate"].given is None


def test_without_an_optimizer_choice_the_one_range_moves():
    space = SearchSpace((Real("learning_rate", 1e-4, 1e-2, "log-uniform"), Categorical("optimizer", ("Adam",))))
    context = ActionContext(best_params=None, conv_room=0, trial_params={"optimizer": "Adam", "learning_rate": 1e-3},
                            problem="high_lr")
    moved, _ = apply_action("decr_lr", space, Architecture(), context)
    assert moved["learning_rate"] == Real("learning_rate", 1e-4, 1e-3, "log-uniform")


def test_the_advisor_reads_each_optimizers_rate_diagnoses_from_the_study():
    from symtuner.core.records import Diagnosis, Trial, TrialState
    from symtuner.tuning.advisor import rate_diagnoses

    def trial(number, optimizer, rate, *problems, state=TrialState.COMPLETE):
        return Trial(number, state, {"optimizer": optimizer, "learning_rate": rate}, 1, objective=0.1,
                     diagnosis=Diagnosis({}, problems, (), ""))

    trials = [trial(1, "Adam", 0.05, "underfitting", "high_lr"), trial(2, "Adadelta", 0.02, "low_lr"),
              trial(3, "Adamax", 0.01, "overfitting"), trial(4, "Adam", 0.08, "increasing_loss"),
              trial(5, "Adam", 0.09, "high_lr", state=TrialState.FAILED)]
    assert rate_diagnoses(trials, trials[1]) == (("Adam", 0.05, "high_lr"), ("Adam", 0.08, "increasing_loss"))
