"""Parameter importance: which HPs explain the objective, on trials whose effect is known."""

from __future__ import annotations

import random

import pytest

from symtuner.app.dashboard.importance import MIN_TRIALS, param_importance
from symtuner.core.architecture import Architecture
from symtuner.core.records import Trial, TrialState
from symtuner.core.space import Categorical, Integer, Real, SearchSpace
from symtuner.storage import TuningVersion


def _trials(n: int, seed: int = 0, with_l2_from: int | None = None) -> list[Trial]:
    """Trials whose objective depends on the learning rate most, the optimizer next, the noise HP not at all."""
    rng = random.Random(seed)
    out = []
    for number in range(1, n + 1):
        params: dict = {"learning_rate": 10 ** rng.uniform(-4, -2), "optimizer": rng.choice(["Adam", "SGD", "Nadam"]),
                        "noise": rng.uniform(0, 1), "units": 32}
        if with_l2_from is not None and number >= with_l2_from:
            params["l2"] = 10 ** rng.uniform(-5, -2)
        objective = 0.95 - 40 * abs(params["learning_rate"] - 1e-3) + (0.04 if params["optimizer"] == "Adam" else 0.0)
        out.append(Trial(number=number, state=TrialState.COMPLETE, params=params, tuning_version=1,
                         objective=objective + rng.gauss(0, 0.002)))
    return out


def _version(space: SearchSpace, number: int = 1) -> TuningVersion:
    return TuningVersion(number, space, Architecture(), None, "start", 0.0)


SPACE = SearchSpace((Real("learning_rate", 1e-4, 1e-2, "log-uniform"),
                     Categorical("optimizer", ("Adam", "SGD", "Nadam")), Real("noise", 0, 1), Integer("units", 16, 64)))


def test_the_hp_that_drives_the_objective_ranks_first() -> None:
    result = param_importance(_trials(30), [_version(SPACE)])
    assert result.message == "" and result.n_trials == 30
    assert result.names[:2] == ("learning_rate", "optimizer")  # the categorical HP counts as one
    scores = dict(zip(result.names, result.scores))
    assert scores["learning_rate"] > 5 * scores["noise"] and scores["optimizer"] > scores["noise"]
    assert result.constant == ("units",) and "units" not in result.names
    assert all(s >= 0 for s in result.spreads)
    assert param_importance(_trials(30), [_version(SPACE)]) == result  # seeded: the same every refresh


def test_an_hp_added_during_the_study_is_handled() -> None:
    trials = _trials(24, seed=3, with_l2_from=13)  # l2 exists from trial 13 on only
    later = SearchSpace(SPACE.dimensions + (Real("l2", 1e-5, 1e-2, "log-uniform"),))
    result = param_importance(trials, [_version(SPACE), _version(later, 2)])
    assert set(result.names) == {"learning_rate", "optimizer", "noise", "l2"}
    assert result.names[0] == "learning_rate"


def test_too_few_or_uninformative_trials_give_a_message() -> None:
    few = param_importance(_trials(MIN_TRIALS - 1))
    assert few.names == () and f"at least {MIN_TRIALS} completed trials; {MIN_TRIALS - 1} so far" in few.message
    failed = [Trial(number=t.number, state=TrialState.FAILED, params=t.params, tuning_version=1)
              for t in _trials(8)]
    assert "2 so far" in param_importance(failed + _trials(2)).message  # failed trials do not count
    same = [Trial(number=t.number, state=t.state, params=t.params, tuning_version=1, objective=0.5)
            for t in _trials(8)]
    assert "same objective" in param_importance(same).message
    constant = [Trial(number=n, state=TrialState.COMPLETE, params={"units": 32}, tuning_version=1,
                      objective=0.1 * n) for n in range(1, 9)]
    result = param_importance(constant)
    assert result.constant == ("units",) and "more than one value" in result.message


def test_non_finite_objectives_are_left_out() -> None:
    trials = _trials(10)
    broken = [Trial(number=99, state=TrialState.COMPLETE, params=trials[0].params, tuning_version=1,
                    objective=float("nan"))]
    assert param_importance(trials + broken).n_trials == 10


@pytest.mark.parametrize("n", [MIN_TRIALS, 60])
def test_it_is_quick_enough_for_every_refresh(n: int) -> None:
    import time

    trials = _trials(n)
    param_importance(trials)  # imports scikit-learn
    started = time.perf_counter()
    param_importance(trials)
    assert time.perf_counter() - started < 3.0
