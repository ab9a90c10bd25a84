"""The proposer: every optimizer call on one thread, a background proposal equal to a foreground one."""

from __future__ import annotations

import threading

import pytest

from symtuner.core.space import Integer, Real, SearchSpace
from symtuner.search.optimizers import Observation
from symtuner.search.optimizers.gp import GaussianProcessOptimizer
from symtuner.search.proposer import Proposer, Request, propose

SPACE = SearchSpace((Real("lr", 1e-4, 1e-2, "log-uniform"), Integer("units", 8, 64)))


def history(n: int) -> list[Observation]:
    return [Observation({"lr": 1e-4 * (1.5 ** i), "units": 8 + 3 * i}, 1.0 / (1 + i)) for i in range(n)]


def request(n: int = 8, **kwargs) -> Request:
    return Request(SPACE, history(n), seeds=[11, 12, 13], fallback_seed=99, surrogate=None, **kwargs)


class Recording:
    """An optimizer that records the thread of every call and proposes from a fixed list."""

    def __init__(self, proposals: list[dict]) -> None:
        self.proposals = list(proposals)
        self.threads: set[int] = set()
        self.seeds: list[int] = []

    def ask(self, space, history, seed, surrogate=None):
        self.threads.add(threading.get_ident())
        self.seeds.append(seed)
        return self.proposals.pop(0)


def test_a_background_proposal_is_the_foreground_one():
    gp_now, gp_later = GaussianProcessOptimizer(n_initial=3), GaussianProcessOptimizer(n_initial=3)
    now = Proposer(gp_now).ask(request())
    later = Proposer(gp_later)
    later.start(request())
    assert later.busy
    params, made_for = later.result()
    assert params == now and made_for == request()
    assert not later.busy and later.result() is None
    later.close()


def test_every_optimizer_call_runs_on_the_proposers_one_thread():
    optimizer = Recording([{"lr": 1e-3, "units": 9}] * 3)
    proposer = Proposer(optimizer)
    proposer.ask(request())
    proposer.start(request())
    proposer.result()
    proposer.ask(request())
    assert len(optimizer.threads) == 1 and threading.get_ident() not in optimizer.threads
    proposer.close()


def test_one_background_proposal_at_a_time_and_its_errors_reach_the_loop():
    class Failing:
        def ask(self, *args, **kwargs):
            raise ValueError("the kernel did not fit")

    proposer = Proposer(Failing())
    proposer.start(request())
    with pytest.raises(RuntimeError, match="already being made"):
        proposer.start(request())
    with pytest.raises(ValueError, match="the kernel did not fit"):
        proposer.result()
    proposer.close()


def test_a_proposal_equal_to_a_pending_point_is_asked_again_then_replaced_by_a_random_one():
    taken = {"lr": 1e-3, "units": 9}
    optimizer = Recording([taken, {"lr": 2e-3, "units": 10}])
    assert propose(optimizer, request(avoid=[taken])) == {"lr": 2e-3, "units": 10}
    assert optimizer.seeds == [11, 12]
    stubborn = Recording([taken] * 3)
    fallback = propose(stubborn, request(avoid=[taken]))
    assert stubborn.seeds == [11, 12, 13] and fallback != taken and SPACE.contains(fallback)
