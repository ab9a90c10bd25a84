"""The optimizer's proposals, computed on one thread of their own.

With more than one worker the loop asks for proposals ahead, while every
worker trains, so that a freed worker gets one at once. Fitting the Gaussian
process takes a fair fraction of a second; on the loop's own thread it would
delay the handling of trials that finish meanwhile (their symbolic step,
storing them, starting the next). So every call of the optimizer runs on
this module's single thread, a proposal made ahead in the background and a
proposal needed now in the foreground alike; the optimizer (and the kernels
it caches) is only ever used from that one thread, one call at a time.

Everything a proposal needs is read from the store by the loop beforehand
(:class:`Request`); the proposer never touches the store. A proposal is a
pure function of its request, so one made in the background is the one the
loop would have made in the foreground with the same request.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from symtuner.core.space import SearchSpace
from symtuner.search.optimizers import Observation, Surrogate


@dataclass(frozen=True)
class Request:
    """One proposal's inputs: ask in ``space`` given ``history`` (pending points included), trying the
    seeds in order until the proposal differs from every one of ``avoid``, else a random point drawn
    with ``fallback_seed``."""

    space: SearchSpace
    history: Sequence[Observation]
    seeds: Sequence[int]
    fallback_seed: int
    surrogate: Surrogate | None
    avoid: Sequence[dict[str, Any]] = ()
    #: the tuning version whose space this is (what a proposal made ahead is valid for)
    version: int = 0


def propose(optimizer: Any, request: Request) -> dict[str, Any]:
    """The optimizer's proposal for ``request``: the first one that none of ``avoid`` equals."""
    for seed in request.seeds:
        params = dict(optimizer.ask(request.space, request.history, seed=seed, surrogate=request.surrogate))
        if request.space.conditional:  # whatever the optimizer, a conditional value within its choice's range
            params = {**params, **{d.name: request.space.project(params)[d.name] for d in request.space.conditional}}
        if params not in request.avoid:
            return params
    from symtuner.search.optimizers.random_search import RandomSearch

    return dict(RandomSearch().ask(request.space, request.history, seed=request.fallback_seed))


class Proposer:
    """Runs :func:`propose` for one optimizer on one thread: now (:meth:`ask`) or in the background
    (:meth:`start`, then :meth:`done` / :meth:`result`), one background proposal at a time."""

    def __init__(self, optimizer: Any) -> None:
        self.optimizer = optimizer
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="symtuner-proposer")
        self._future: Future[dict[str, Any]] | None = None
        self._request: Request | None = None

    def ask(self, request: Request) -> dict[str, Any]:
        """The proposal for ``request``, computed now (after a background one still running)."""
        return self._thread.submit(propose, self.optimizer, request).result()

    @property
    def busy(self) -> bool:
        """Whether a background proposal was started and not yet collected."""
        return self._future is not None

    def start(self, request: Request) -> None:
        """Compute the proposal for ``request`` in the background; one at a time."""
        if self._future is not None:
            raise RuntimeError("a proposal is already being made in the background")
        self._request = request
        self._future = self._thread.submit(propose, self.optimizer, request)

    def done(self) -> bool:
        """Whether the background proposal is ready to collect."""
        return self._future is not None and self._future.done()

    def result(self) -> tuple[dict[str, Any], Request] | None:
        """The background proposal and its request, waiting for it if needed (None when none was started).
        An error the optimizer raised is raised here."""
        future, request = self._future, self._request
        if future is None or request is None:
            return None
        self._future = self._request = None
        return future.result(), request

    def close(self) -> None:
        """Stop the thread (a proposal still being made is finished, and dropped)."""
        self._future = self._request = None
        self._thread.shutdown(wait=True, cancel_futures=True)
