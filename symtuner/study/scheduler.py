"""Keeps a dispatcher's workers busy with a study's trials until its target is reached.

Whenever a worker is free a trial is asked for (the running trials are the
optimizer's pending points) and submitted; every finished trial is told to
the study, one at a time, and its worker gets the next trial as soon as its
own trial is handled. With several workers the next proposal is made ahead,
in the background. With one worker this is propose, train, diagnose, act,
store, as in the paper.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from symtuner.core.contract import Outcome
from symtuner.core.records import Trial
from symtuner.execution.base import Dispatcher
from symtuner.study.ahead import AheadQueue
from symtuner.study.asktell import StudyLoop
from symtuner.study.interrupts import deferred_interrupts
from symtuner.study.seeds import epochs_used, finished_count, pending_retry, retry_chain

#: Seconds the loop waits for a finished trial; while a proposal is made in the background, the shorter one.
WAIT_SECONDS, COLLECT_SECONDS = 0.5, 0.05
#: After Ctrl-C, how long trials that have trained all their epochs may take to be evaluated and saved.
TRAINED_GRACE_SECONDS = 60.0


@dataclass(frozen=True)
class Target:
    """When a run ends: ``trials`` finished trials, or ``epochs`` epochs run in all (whichever first)."""

    trials: int | None
    epochs: int | None

    def reached(self, trials: list[Trial], epochs_per_trial: int) -> bool:
        """Whether the finished ``trials`` of a study meet the target already (no trial of
        ``epochs_per_trial`` epochs fits in what is left of the epoch budget)."""
        return (self.trials is not None and finished_count(trials) >= self.trials) or \
            (self.epochs is not None and epochs_used(trials) + epochs_per_trial > self.epochs)


class Scheduler:
    """Runs ``loop``'s trials on ``dispatcher`` until ``target`` is reached (or :meth:`stop` is called);
    ``on_told`` functions are called with every trial once it is stored."""

    def __init__(self, loop: StudyLoop, dispatcher: Dispatcher, target: Target,
                 on_told: list[Callable[[Trial], None]] | None = None, ordered: bool = False) -> None:
        self.loop = loop
        self.dispatcher = dispatcher
        self.target = target
        self.ahead = AheadQueue(loop.proposer)
        self.stopping = False
        self.on_told = list(on_told or [])
        #: tell finished trials in the order of the first runs they are (see :meth:`release`)
        self.ordered = ordered
        self.first_runs: dict[int, int] = {}
        self.held: list[Outcome] = []

    def stop(self) -> None:
        """Start no new trial; the running ones finish and are told."""
        self.stopping = True

    def run(self) -> None:
        loop, dispatcher = self.loop, self.dispatcher
        try:
            while True:
                trials = self.fill()
                if not loop.running:
                    break
                if dispatcher.capacity > 1 and not self.ordered:
                    self.propose_ahead(trials)
                # while a proposal is made in the background, look again soon to collect it
                timeout = COLLECT_SECONDS if loop.proposer.busy else WAIT_SECONDS
                done = self.release(dispatcher.wait(loop.record_epoch, timeout=timeout))
                for index, (number, outcome) in enumerate(done):
                    with deferred_interrupts():  # a stop waits until the finished trial is stored
                        trial = loop.tell(number, outcome)
                    for callback in self.on_told:
                        callback(trial)
                    if index < len(done) - 1:
                        # trials that finished together: each freed worker gets its next trial as soon
                        # as the trial it ran is handled, not after all of them are
                        self.fill()
        except KeyboardInterrupt:
            try:
                self.keep_trained()
            except KeyboardInterrupt:  # a second Ctrl-C: stop now
                pass
            dispatcher.cancel()
            loop.interrupt_running("stopped by the user during training")
            raise
        finally:
            loop.proposer.close()

    def keep_trained(self) -> None:
        """After a stop request: wait (up to ``TRAINED_GRACE_SECONDS``) for the running trials that have
        trained all their epochs (they are being evaluated and saved) and tell them, so that a stop does
        not throw their training away; the others are left to be interrupted."""
        loop, dispatcher = self.loop, self.dispatcher
        deadline = time.monotonic() + TRAINED_GRACE_SECONDS
        timeout = 0.0  # first the messages already sent (a last epoch, a result)
        while loop.running and time.monotonic() < deadline:
            for number, outcome in dispatcher.wait(loop.record_epoch, timeout=timeout):
                with deferred_interrupts():
                    trial = loop.tell(number, outcome)
                for callback in self.on_told:
                    callback(trial)
            if not any(job.stop_reason or len(job.seen) >= loop.settings.epochs for job in loop.running.values()):
                return
            timeout = WAIT_SECONDS

    def release(self, done: list[Outcome]) -> list[Outcome]:
        """The finished trials to tell now: all of them; when ``ordered``, those that no running trial
        started before (a rerun counts as the first run it repeats), in that order, the others held.
        Every trial is then asked for on what the same earlier trials told, whatever the timing."""
        if not self.ordered:
            return done
        self.held.extend(done)
        finished = {number for number, _ in self.held}
        first = min((self.first_runs.get(n, n) for n in self.loop.running if n not in finished), default=None)
        ready = sorted((o for o in self.held if first is None or self.first_runs.get(o[0], o[0]) < first),
                       key=lambda o: self.first_runs.get(o[0], o[0]))
        self.held = [o for o in self.held if o not in ready]
        return ready

    def fill(self) -> list[Trial]:
        """Start trials while fewer than ``capacity`` run and more are wanted. A trial that finished is
        running until it is told: its worker's next trial comes after its step."""
        loop = self.loop
        trials = loop.store.trials(with_curves=False)
        while len(loop.running) < self.dispatcher.capacity and self.more_wanted(trials):
            retry = pending_retry(trials)  # ask takes an interrupted trial's params first
            spec = loop.ask(self.target.trials or 0,
                            lambda tuning: self.ahead.take(tuning, loop.pending_params()))
            if retry is not None:
                self.first_runs[spec.number] = retry_chain(trials, retry.number)[-1]
            self.dispatcher.submit(spec)
            trials = loop.store.trials(with_curves=False)
        return trials

    def more_wanted(self, trials: list[Trial]) -> bool:
        """Whether another trial should start (running ones count as if they will finish)."""
        if self.stopping:
            return False
        running = self.loop.running
        if self.target.trials is not None and finished_count(trials) + len(running) >= self.target.trials:
            return False
        if self.target.epochs is not None:  # never past the budget: a trial starts only if all its epochs fit
            reserved = self.loop.settings.epochs * (len(running) + 1)
            if epochs_used(trials) + reserved > self.target.epochs:
                if not running:
                    self.loop.journal.info("epoch budget %d used up", self.target.epochs)
                return False
        return True

    def still_wanted(self, trials: list[Trial]) -> int:
        """How many trials may still start after the running ones (at most ``capacity``)."""
        capacity = self.dispatcher.capacity
        if self.target.trials is None:
            return capacity
        return max(0, min(capacity, self.target.trials - finished_count(trials) - len(self.loop.running)))

    def propose_ahead(self, trials: list[Trial]) -> None:
        """Collect the proposal made in the background, if ready, and start the next one while fewer than
        wanted are made: what the optimizer proposes now, with the running trials and the proposals
        already made ahead as pending points (the constant liar), for the current tuning version."""
        self.ahead.collect()
        tuning = self.loop.store.latest_tuning()
        self.ahead.refresh(tuning)
        if self.loop.proposer.busy or len(self.ahead.made) >= self.still_wanted(trials) \
                or pending_retry(trials) is not None or not tuning.space.dimensions:
            return
        self.loop.proposer.start(self.loop.request(trials, tuning, self.loop.pending_params(),
                                                   [a.params for a in self.ahead.made]))

