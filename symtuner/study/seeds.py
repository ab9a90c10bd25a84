"""Which seed a trial trains with, and how reruns of interrupted trials relate to the trials they rerun.

A resumed study must train the same networks as one that was never
interrupted: a rerun trains with the seed of the trial it reruns, and the
trial numbers that interrupted trials take up do not shift the seeds of the
trials after them.
"""

from __future__ import annotations

from collections.abc import Sequence

from symtuner.core.records import Trial, TrialState


def derived_seed(seed: int, index: int) -> int:
    """The seed of one proposal or training, in the 32-bit range numpy and TensorFlow accept
    (the same value as ``seed * 100003 + index`` while that is below 2**32)."""
    return (seed * 100_003 + index) % 2**32


def retry_chain(trials: Sequence[Trial], number: int) -> list[int]:
    """The trial numbers from ``number`` back to the first run it reruns (``[number]`` for a first run)."""
    by_number = {t.number: t for t in trials}
    chain = [number]
    while number in by_number and by_number[number].retry_of is not None:
        number = int(by_number[number].retry_of)  # type: ignore[arg-type]
        if number in chain:  # a damaged store: a chain that loops
            break
        chain.append(number)
    return chain


def slot(trials: Sequence[Trial], number: int) -> int:
    """The place (1-based) of the first run of trial ``number``'s chain in the study as it would be
    without interruptions: one more than the first runs before it (each chain of reruns has one)."""
    first = retry_chain(trials, number)[-1]
    return 1 + sum(1 for t in trials if t.number < first and t.retry_of is None)


def trial_seed(seed: int, trials: Sequence[Trial], number: int) -> int:
    """The seed trial ``number`` trains with (a rerun: the seed of the trial it reruns)."""
    return derived_seed(seed, slot(trials, number))


def known_at_start(trials: Sequence[Trial], number: int) -> list[Trial]:
    """The trials as the first run of trial ``number``'s chain found them when it started: those that had
    finished by then. Its reruns are stopped early on what it knew, not on what finished meanwhile."""
    by_number = {t.number: t for t in trials}
    first = by_number.get(retry_chain(trials, number)[-1])
    if first is None or first.started_at is None:
        return list(trials)
    return [t for t in trials if t.is_finished and t.finished_at is not None and t.finished_at <= first.started_at]


def pending_retry(trials: Sequence[Trial]) -> Trial | None:
    """The oldest interrupted trial no other trial reruns yet."""
    retried = {t.retry_of for t in trials}
    return next((t for t in trials if t.state == TrialState.INTERRUPTED and t.number not in retried), None)


def finished_count(trials: Sequence[Trial]) -> int:
    """Trials that count towards the target: complete or failed (interrupted ones run again)."""
    return sum(1 for t in trials if t.is_finished)


def epochs_used(trials: Sequence[Trial]) -> int:
    """Epochs the study's finished trials have run (interrupted ones rerun, so they do not count)."""
    return sum(t.epochs_run for t in trials if t.is_finished)
