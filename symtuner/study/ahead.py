"""Proposals made ahead: while every worker trains, the next proposal is computed in the background so
that a freed worker gets one at once. Nothing of them is stored: one never used leaves no trace, so a
resumed study is not affected by them."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, replace
from typing import Any

from symtuner.core.records import TuningVersion
from symtuner.core.space import Dimension, Real, SearchSpace
from symtuner.search.optimizers.random_search import RandomSearch
from symtuner.search.proposer import Proposer


@dataclass(frozen=True)
class Ahead:
    """A proposal made while every worker trained, for the tuning version it was made under."""

    params: dict[str, Any]
    version: int
    #: HPs added after the proposal was made, drawn at random (see :func:`up_to_date`)
    drawn: tuple[str, ...] = ()


class AheadQueue:
    """The proposals made ahead, oldest first, and the one being made on the proposer's thread."""

    def __init__(self, proposer: Proposer) -> None:
        self.proposer = proposer
        self.made: list[Ahead] = []

    def collect(self, wait: bool = False) -> None:
        """Add the proposal made in the background to the queue, if it is ready (or ``wait`` for it)."""
        if not (wait or self.proposer.done()):
            return
        made = self.proposer.result()
        if made is not None:
            params, request = made
            self.made.append(Ahead(params, request.version))

    def refresh(self, tuning: TuningVersion) -> None:
        """Keep the proposals that may still start under ``tuning`` (see :func:`up_to_date`)."""
        self.made[:] = up_to_date(self.made, tuning)

    def take(self, tuning: TuningVersion, running: list[dict[str, Any]]) -> Ahead | None:
        """The oldest proposal made ahead that ``tuning`` still allows and no running trial has; the
        ones before it go. A proposal still being made is waited for: quicker than making another."""
        if self.proposer.busy:
            self.collect(wait=True)
        self.refresh(tuning)
        while self.made:
            proposal = self.made.pop(0)
            if proposal.params not in running:
                return proposal
        return None


def _drawn(missing: list[Dimension], params: dict[str, Any]) -> dict[str, Any]:
    """Values of the HPs ``missing`` from the proposal ``params``, drawn at random, seeded by it; a value
    whose range depends on another HP's choice (``Real.given``) is drawn in its shared range and moved
    into that choice's range, as the samplers draw it."""
    seed = zlib.crc32(json.dumps(params, sort_keys=True, default=str).encode())
    plain = tuple(replace(d, given=None, ranges=()) if isinstance(d, Real) and d.given is not None else d
                  for d in missing)
    drawn = RandomSearch().ask(SearchSpace(plain), [], seed=seed)
    for dim in missing:
        if isinstance(dim, Real) and dim.given is not None:
            choice = params.get(dim.given, drawn.get(dim.given))
            drawn[dim.name] = dim.placed(float(drawn[dim.name]), choice) if choice is not None else drawn[dim.name]
    return drawn


def up_to_date(ahead: list[Ahead], tuning: TuningVersion) -> list[Ahead]:
    """The proposals made ahead that may still start under ``tuning``, in order.

    One made under ``tuning`` stays. One made under an earlier version stays
    if ``tuning``'s space holds it (the same HPs, every value within the
    bounds), as any proposal of an asynchronous optimizer reflects what was
    known when it was made. One that lacks HPs an action has added since (the
    ``l2`` of ``reg_l2``) gets them drawn at random in their ranges, seeded
    by the proposal, and records which (``drawn``): the model that made the
    proposal did not know that HP, so it had nothing to say about its value.
    One that a narrowed bound excludes, or with an HP the space no
    longer has, is dropped.
    """
    out = []
    for proposal in ahead:
        if proposal.version == tuning.version:
            out.append(proposal)
            continue
        space = tuning.space
        if set(proposal.params) - set(space.names):
            continue
        missing = [dim for dim in space.dimensions if dim.name not in proposal.params]
        params = dict(proposal.params)
        if missing:
            params |= _drawn(missing, params)
        if space.contains(params):
            out.append(Ahead(params, tuning.version, proposal.drawn + tuple(d.name for d in missing)))
    return out
