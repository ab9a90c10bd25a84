"""The core of a study: ``ask`` for a trial to run, ``record_epoch`` as it trains, ``tell`` how it ended.

``ask`` proposes (or takes a trial to rerun, or a proposal made ahead),
stores the trial as running and returns what to train; ``tell`` runs the
step after a trial (verdicts, diagnosis, actions, rule weights) and writes
it in one store transaction. The loop holds nothing between trials that is
not in the store, except the trials it has asked for and not yet been told
about. The scheduler that keeps workers busy (:mod:`symtuner.study.scheduler`)
and a user's own training code alike drive a study through these three calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from symtuner.core.contract import TrainResult, TrialSpec, WorkerLost
from symtuner.core.costs import limit_outcome, over_text
from symtuner.core.errors import ConfigError, DataError
from symtuner.core.formatting import test_score
from symtuner.core.records import LearningCurve, Trial, TrialState, TuningVersion, Verdict
from symtuner.core.settings import StudySettings
from symtuner.search.proposer import Proposer, Request
from symtuner.search.surrogate import observations, pending_observations, planned_observations, surrogate
from symtuner.storage import StudyStore
from symtuner.storage.layout import log_dir, model_file
from symtuner.study.ahead import Ahead
from symtuner.study.journal import Journal
from symtuner.study.observer import Progress
from symtuner.study.seeds import (
    derived_seed,
    finished_count,
    known_at_start,
    pending_retry,
    retry_chain,
    trial_seed,
)
from symtuner.study.stoppers import Stopper, choose_stopper
from symtuner.study.task import TaskInfo
from symtuner.tuning.advisor import Advice, Advisor, AfterTrial
from symtuner.tuning.hypotheses import KEPT, RESTORING, Judgement
from symtuner.tuning.noise import SPREAD_KEY, epoch_spread
from symtuner.tuning.view import StudyView, best_trial

#: Proposals asked for before a random point replaces one that equals a running trial's params.
PROPOSAL_ATTEMPTS = 5
#: A study callback: called with the study and each trial once it is stored.
StudyCallback = Callable[[Any, Trial], None]


@dataclass
class RunningTrial:
    """A trial the study has asked for and not yet been told about."""

    spec: TrialSpec
    tuning: TuningVersion
    stopper: Stopper | None
    #: the logs of its epochs so far
    seen: list[dict[str, float]] = field(default_factory=list)
    stop_reason: str = ""


class StudyLoop:
    """Asks for trials and is told their outcomes; every step reads and writes ``store``."""

    def __init__(self, store: StudyStore, journal: Journal, settings: StudySettings, task: TaskInfo,
                 proposer: Proposer, advisor: Advisor | None, progress: Progress, study_dir: Path,
                 retries: int = 2, files: bool = True) -> None:
        self.store = store
        self.journal = journal
        self.settings = settings
        self.task = task
        self.proposer = proposer
        self.advisor = advisor
        self.progress = progress
        self.study_dir = study_dir
        self.retries = retries
        #: whether trials save a model and TensorBoard logs (a define-by-run objective keeps its own)
        self.files = files
        self.running: dict[int, RunningTrial] = {}

    # -- ask ---------------------------------------------------------------
    def ask(self, total: int = 0, take_ahead: Callable[[TuningVersion], Ahead | None] | None = None) -> TrialSpec:
        """Store a new trial as running and return what to train: an interrupted trial's params again,
        else params the user enqueued (``enqueued`` in the store), else a proposal made ahead
        (``take_ahead``), else the optimizer's proposal now."""
        trials = self.store.trials(with_curves=False)
        tuning = self.store.latest_tuning()
        retry = pending_retry(trials)
        if retry is not None:  # a rerun trains what its first run trained: that run's space and architecture
            tuning = self.store.tuning(retry.tuning_version)
        extra: dict[str, Any] = {}
        enqueued = self.store.meta("enqueued", []) if retry is None else []
        params = dict(enqueued[0]) if enqueued else None
        made = take_ahead(tuning) if take_ahead is not None and retry is None and params is None else None
        if retry is not None:
            params = tuning.space.project(retry.params) if tuning.space.dimensions else dict(retry.params)
            extra = {"retry_of": retry.number}
        elif params is not None:
            params, extra = dict(params), {"enqueued": True}
        elif made is not None:
            params = made.params
            extra = {"proposed_ahead": True, **({"drawn_ahead": list(made.drawn)} if made.drawn else {})}
        elif not tuning.space.dimensions:  # a define-by-run study before its objective declared anything
            params = {}
        else:
            params = self.proposer.ask(self.request(trials, tuning, self.pending_params()))
        files = self.files
        where = self.study_dir.resolve()  # absolute for workers (elsewhere on a shared file system); stored relative
        with self.store.transaction():
            number = self.store.start_trial(params, tuning.version, extra)
            if enqueued and retry is None:
                self.store.set_meta("enqueued", enqueued[1:])
            # a rerun trains with the seed of the trial it reruns: a resumed study trains the same networks
            seed = trial_seed(self.settings.seed, trials, retry.number if retry is not None else number)
            self.store.update_extra(number, {"seed": seed})
            if files:
                self.store.set_model_files(number, str(model_file(where, number)), str(log_dir(where, number)))
        self.journal.event("trial_started", f"trial {number} started with {params}", number)
        self.progress.trial_started(number, finished_count(trials) + len(self.running) + 1, total, params)
        spec = TrialSpec(number=number, params=params, architecture=tuning.architecture, seed=seed,
                         model_path=model_file(where, number) if files else None,
                         log_dir=log_dir(where, number) if files else None)
        # a rerun is stopped early as its first run would have been: on what was known when that one started
        known = trials if retry is None else known_at_start(trials, retry.number)
        self.running[number] = RunningTrial(spec, tuning, self._stopper(known))
        return spec

    def pending_params(self) -> list[dict[str, Any]]:
        """The params of the trials running now."""
        return [job.spec.params for job in self.running.values()]

    def request(self, trials: Sequence[Trial], tuning: TuningVersion, pending: list[dict[str, Any]],
                planned: list[dict[str, Any]] | None = None) -> Request:
        """What the optimizer's next point depends on; running trials (and ``planned`` proposals made
        ahead, which will run under ``tuning``) are pending points (a constant liar), and a proposal
        equal to one of them is asked for again with another seed."""
        planned = planned or []
        versions = self.store.tuning_versions()
        hard = self.settings.limits if self.settings.limit_mode == "hard" else None
        history = observations(trials, versions, self.settings.maximize, hard)
        if pending or planned:
            running = [t for t in trials if t.state == TrialState.RUNNING]
            history = history + pending_observations(running, {v.version: v for v in versions}, history) \
                + planned_observations(planned, tuning.architecture, history)
        # interrupted trials do not count, so a resumed study proposes what an uninterrupted one would
        ran = sum(1 for t in trials if t.state != TrialState.INTERRUPTED) + len(planned)
        seed = self.settings.seed
        return Request(tuning.space, history,
                       seeds=[derived_seed(seed, ran + 7919 * attempt) for attempt in range(PROPOSAL_ATTEMPTS)],
                       fallback_seed=derived_seed(seed, ran + 104729), surrogate=surrogate(versions, tuning),
                       avoid=[*pending, *planned], version=tuning.version)

    def _stopper(self, trials: Sequence[Trial]) -> Stopper | None:
        best = best_trial(trials, self.settings.maximize)
        curves: list[LearningCurve] = []
        if self.settings.pruner != "none":
            known = {t.number for t in trials}
            curves = [t.curve for t in self.store.trials() if t.is_complete and t.curve is not None
                      and t.number in known]
        return choose_stopper(self.settings, self.advisor.engine if self.advisor else None, self.task,
                              best.objective if best is not None else None, curves,
                              self.task.loss_scale(trials))

    # -- record_epoch ------------------------------------------------------
    def record_epoch(self, number: int, epoch: int, logs: dict[str, float]) -> str:
        """Record one epoch of a running trial; the reason to stop it, if its stopper gives one."""
        job = self.running.get(number)
        if job is None:
            return ""
        self.store.record_epoch(number, epoch, logs)
        self.progress.epoch_finished(number, epoch, self.settings.epochs, logs)
        job.seen.append({key: float(value) for key, value in logs.items()})
        if job.stopper is None or job.stop_reason:
            return job.stop_reason
        reason = job.stopper(LearningCurve.from_epochs(job.seen))
        if reason:
            job.stop_reason = reason
            self.journal.event("trial_stopped", f"trial {number} stopped after epoch {epoch + 1}: {reason}", number)
        return reason

    # -- tell --------------------------------------------------------------
    def tell(self, number: int, outcome: TrainResult | BaseException) -> Trial:
        """Store how trial ``number`` ended: failed, to rerun (its worker was lost), or complete with
        the step after it. A user error (ConfigError, DataError) is stored, then raised: every later
        trial would fail the same way."""
        job = self.running.pop(number)
        if isinstance(outcome, WorkerLost):
            reruns = len(retry_chain(self.store.trials(with_curves=False), number)) - 1
            state = TrialState.INTERRUPTED if reruns < self.retries else TrialState.FAILED
            self.store.fail_trial(number, str(outcome), state)
            self.journal.event("worker_lost", f"{outcome}; " + ("it will run again" if state == TrialState.INTERRUPTED
                                                                else "no retries left"), number)
            retried = getattr(self.progress, "trial_retried", None)
            if state == TrialState.INTERRUPTED and retried is not None:  # not failed: it runs again
                retried(number, str(outcome))
            else:
                self.progress.trial_failed(number, str(outcome))
            return self.store.trial(number)
        if isinstance(outcome, BaseException):
            self.store.fail_trial(number, str(outcome))
            self.journal.event("trial_failed", f"trial {number} failed: {outcome}", number)
            self.progress.trial_failed(number, str(outcome))
            if isinstance(outcome, (ConfigError, DataError)):
                raise outcome
            return self.store.trial(number)
        return self._complete(job, outcome)

    def interrupt_running(self, why: str) -> None:
        """Mark every running trial interrupted (it runs again when the study resumes)."""
        for number in list(self.running):
            self.store.fail_trial(number, why, TrialState.INTERRUPTED)
            self.journal.event("trial_interrupted", f"trial {number} {why}", number)
        self.running.clear()

    def _complete(self, job: RunningTrial, result: TrainResult) -> Trial:
        number = job.spec.number
        if result.params_used is not None:
            self._record_params(number, job, result)
        self._record_extras(number, job, result)
        objective = self._judge_limits(number, result, result.objective_value(self.settings.objective))
        done = replace(self.store.trial(number), state=TrialState.COMPLETE, objective=objective, curve=result.curve)
        # the trials as they are now (others may have finished meanwhile); the rule learning needs no older curves
        earlier = [t for t in self.store.trials(with_curves=False) if t.number != number]
        step = None
        if self.advisor is not None:
            view = StudyView(tuple(earlier + [done]), tuple(self.store.tuning_versions()), self.store.verdicts(),
                             tuple(self.store.actions()), self.task.facts(earlier + [done], self.settings))
            step = self.advisor.after_trial(view, done, result.ignored_features)
        self._store_complete(number, objective, result, step)
        finished = self.store.trial(number)
        advice = step.advice if step is not None else None
        self.progress.trial_finished(finished, best_trial(earlier + [finished], self.settings.maximize), advice)
        if advice is not None:
            self.journal.info("trial %d diagnosis: %s", number, advice.diagnosis.explanation)
            if advice.changed:
                self.journal.info("search space / architecture changed: %s", "; ".join(advice.changes))
        return finished

    def _record_params(self, number: int, job: RunningTrial, result: TrainResult) -> None:
        """A define-by-run trial: store the params its objective asked for (a value proposed for a parameter it
        never asked for stays, listed as unused), and add the dimensions it declared to the space, a change
        the objective made, not a hypothesis of the rules (recorded as kept at once)."""
        used = dict(result.params_used or {})
        params = {**job.spec.params, **used}
        unused = sorted(set(job.spec.params) - set(used))
        with self.store.transaction():
            self.store.set_params(number, params)
            if unused:
                self.store.update_extra(number, {"unused_params": unused})
            latest = self.store.latest_tuning()
            new = [d for d in result.declared if d.name not in latest.space]
            if not new:
                return
            space = latest.space
            for dim in new:
                space = space.with_dimension(dim, params[dim.name])
            names = ", ".join(d.name for d in new)
            version = self.store.add_tuning_version(space, latest.architecture, number,
                                                    f"after trial {number}: declared {names}")
            self.store.add_verdict(Verdict(version, KEPT, number, f"declared by the objective of trial {number}",
                                           None, None))
            self.journal.event("space_declared", f"trial {number} declared {names}", number)

    def _record_extras(self, number: int, job: RunningTrial, result: TrainResult) -> None:
        """What the trial reported beside its scores: why it stopped, ignored changes, every metric."""
        extra: dict[str, Any] = {}
        stopped = job.stop_reason or result.stopped
        if stopped:
            extra["stopped"] = stopped
        if result.ignored_changes:
            extra["ignored_changes"] = list(result.ignored_changes)
            self.journal.event("network_ignores_changes", f"trial {number}: the network ignores applied changes: "
                               f"{'; '.join(result.ignored_changes)}", number)
        if result.unread_params:
            extra["unread_params"] = list(result.unread_params)
            self.journal.event("network_reads_no_params", f"trial {number}: the network never read "
                               f"{', '.join(result.unread_params)}", number)
        if result.val_metrics or result.test_metrics:
            extra |= {"val_metrics": dict(result.val_metrics), "test_metrics": dict(result.test_metrics)}
        if not result.own_loss:
            extra["own_loss"] = False
        if result.costs:
            extra["costs"] = {name: float(value) for name, value in result.costs.items()}
        spread = epoch_spread(result.curve, self.settings.objective)
        if spread is not None:  # the objective's noise, for the verdicts on changes (symtuner.tuning.noise)
            extra[SPREAD_KEY] = spread
        if extra:
            self.store.update_extra(number, extra)

    def _judge_limits(self, number: int, result: TrainResult, objective: float) -> float:
        """The objective the trial is ranked by (penalised in soft mode), with the trial's standing against
        the study's limits recorded in its ``extra`` (:func:`symtuner.core.costs.limit_outcome`)."""
        ranked, extra = limit_outcome(result.costs, self.settings, objective)
        if extra:
            self.store.update_extra(number, extra)
            what = "infeasible" if extra.get("infeasible") else f"penalised to {ranked:.4f}"
            self.journal.event("over_limits", f"trial {number} is over its limits ({over_text(extra)}): {what}",
                               number)
        return ranked

    def _store_complete(self, number: int, objective: float, result: TrainResult, step: AfterTrial | None) -> None:
        """One transaction: the trial's result, the verdicts due, its diagnosis, actions, weights and
        the new tuning version."""
        store = self.store
        with store.transaction():
            store.complete_trial(number, objective=objective, val_accuracy=result.val_accuracy,
                                 val_loss=result.val_loss, test_loss=result.test_loss,
                                 test_accuracy=result.test_accuracy, train_seconds=result.train_seconds,
                                 curve=result.curve, epochs_run=result.epochs_run)
            if step is not None:
                self._store_verdicts(step.judgement, number)
                self._store_advice(step.advice, number)
        self.journal.event("trial_complete", f"trial {number} complete: {self.settings.objective} {objective:.4f}, "
                           f"{test_score(result)}", number)

    def _store_advice(self, advice: Advice, number: int) -> None:
        self.store.set_diagnosis(number, advice.diagnosis)
        self.store.add_actions(number, advice.actions)
        self.store.save_weights(number, advice.weights)
        if advice.changed:
            applied = ", ".join(a.name for a in advice.actions if a.applied)
            self.store.add_tuning_version(advice.space, advice.architecture, number, f"after trial {number}: {applied}")
            self.store.log_event("space_changed", "; ".join(advice.changes), number)

    def _store_verdicts(self, judgement: Judgement, number: int) -> None:
        """Store the verdicts due after trial ``number``; a revert adds the restored version."""
        restored_by = None
        if judgement.restore is not None:
            restored_by = self.store.add_tuning_version(
                judgement.restore.space, judgement.restore.architecture, number,
                f"after trial {number}: revert to version {judgement.restore.version}")
        for verdict in judgement.verdicts:
            if verdict.verdict in RESTORING:
                verdict = replace(verdict, restored_by=restored_by)
            self.store.add_verdict(verdict)
            self.journal.event(f"change_{verdict.verdict}",
                               f"the change of version {verdict.version} is {verdict.verdict}: {verdict.reason}", number)

