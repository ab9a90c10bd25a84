"""The tuning loop: propose, train, diagnose, act, store; repeat.

The loop holds nothing that is not in the study store: every step reads the
trials, the current space and architecture and the rule weights from the
store, so a killed run resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
import os
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, cast

from symtuner.app.console import test_score
from symtuner.core.architecture import Architecture
from symtuner.core.errors import ConfigError, DataError, StudyError
from symtuner.core.metrics import check_task
from symtuner.core.records import LearningCurve, Trial, TrialState
from symtuner.core.settings import AUTO_OBJECTIVE, RESUME_MAY_CHANGE, StudySettings, stored_settings
from symtuner.core.space import Categorical, SearchSpace, SpaceOverrides, default_space, space_differences
from symtuner.data import Dataset, load_dataset
from symtuner.data.loaders import dataset_from_values
from symtuner.execution import ExecutionSettings
from symtuner.search.optimizers import make_optimizer
from symtuner.search.proposer import Proposer, Request
from symtuner.search.surrogate import observations, pending_observations, planned_observations, surrogate
from symtuner.storage import INITIAL_WEIGHTS_TRIAL, StudyStore
from symtuner.storage.lock import LOCK_NAME, study_lock
from symtuner.symbolic.stopping import SymbolicStopper
from symtuner.training.splits import fitted_samples
from symtuner.tuning.actions import ActionSettings, require_known
from symtuner.tuning.advisor import Advice, Advisor, best_trial
from symtuner.tuning.hypotheses import (
    RESTORING,
    Judgement,
    ignore_changes,
    judge,
    revert_evidence,
    reverted_pairs,
    unusable_actions,
)

LOG_NAME = "study.log"
#: A study database still being created (a killed creation leaves it; it is replaced).
PARTIAL_DB = "study.db.partial"


class Progress(Protocol):
    """Receives what the loop does, for display."""

    def trial_started(self, number: int, index: int, total: int, params: dict[str, Any]) -> None: ...

    def epoch_finished(self, number: int, epoch: int, epochs: int, logs: dict[str, float]) -> None: ...

    def trial_finished(self, trial: Trial, best: Trial | None, advice: Advice | None) -> None: ...

    def trial_failed(self, number: int, error: str) -> None: ...

    # Optional, called when present: ``study_started(target_trials, budget_epochs, epochs, finished,
    # epochs_used)`` once a run starts, and ``close()`` when it ends, however it ends.


class SilentProgress:
    """A Progress that shows nothing."""

    def trial_started(self, number: int, index: int, total: int, params: dict[str, Any]) -> None:
        pass

    def epoch_finished(self, number: int, epoch: int, epochs: int, logs: dict[str, float]) -> None:
        pass

    def trial_finished(self, trial: Trial, best: Trial | None, advice: Advice | None) -> None:
        pass

    def trial_failed(self, number: int, error: str) -> None:
        pass

    def study_started(self, target_trials: int | None, budget_epochs: int | None, epochs: int, finished: int,
                      epochs_used: int) -> None:
        pass

    def close(self) -> None:
        pass


DatasetArg = str | Dataset | Callable[[], Sequence[Any]]


class Tuner:
    """Tune a network on a data set inside a search space; the study lives in ``study_dir``.

    ``dataset`` is a name (``digits``, ``mnist``, ...), a ``module:function``
    spec, a :class:`~symtuner.data.Dataset`, or a function returning the
    seed's ``(x_train, x_test, y_train, y_test, n_classes)`` or, for data
    read batch by batch, ``(train, [validation,] test, n_classes)`` of
    ``tf.data.Dataset`` or ``keras.utils.PyDataset`` sets. ``network`` is
    ``"default"``, a spec, or a function ``(params, architecture,
    input_shape, n_classes) -> keras.Model``. ``callbacks``: your own Keras
    callbacks for every trial, as a function returning them (called per
    trial), its ``module:function`` spec, or a list. Running on an existing
    study resumes it with its stored settings and space.
    """

    def __init__(self, study_dir: str | Path, dataset: DatasetArg | None = None,
                 space: SearchSpace | None = None, network: str | Callable[..., Any] | None = None,
                 settings: StudySettings | None = None, progress: Progress | None = None,
                 executor_factory: Callable[..., Any] | None = None,
                 execution: ExecutionSettings | None = None, quiet: bool = False,
                 callbacks: Any = None) -> None:
        if not isinstance(study_dir, (str, os.PathLike)) or not str(study_dir):
            raise ConfigError(f"the study directory must be a path, got {study_dir!r}")
        for name, value, kind in (("space", space, (SearchSpace, SpaceOverrides)),
                                  ("settings", settings, StudySettings),
                                  ("execution", execution, ExecutionSettings)):
            if value is not None and not isinstance(value, kind):
                kinds = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
                raise ConfigError(f"{name} must be a {kinds}, got {type(value).__name__}: {value!r:.60}")
        if dataset is not None and not (isinstance(dataset, (str, Dataset)) or callable(dataset)
                                        or getattr(dataset, "streamed", False)):
            raise ConfigError(f"dataset must be a name, a spec, a Dataset or a function, got {dataset!r:.60}")
        if network is not None and not (isinstance(network, str) or callable(network)):
            raise ConfigError(f"network must be 'default', a spec or a function, got {network!r:.60}")
        self.study_dir = Path(study_dir)
        self.progress: Progress = progress or SilentProgress()
        #: no progress given and not quiet: chosen when a run starts (bars in a terminal or notebook,
        #: plain lines elsewhere), for the objective of the study as stored
        self._auto_progress = progress is None and not quiet
        self._dataset_arg = dataset
        self._network_arg = network
        self._space_arg = space
        self._settings_arg = settings
        base = settings or StudySettings()
        changes: dict[str, Any] = {}
        if dataset is not None:
            changes["dataset"] = dataset if isinstance(dataset, str) else _describe(dataset)
        if network is not None:
            changes["network"] = network if isinstance(network, str) else _describe(network)
        self.settings = replace(base, **changes)
        self._executor_factory = executor_factory
        self.execution = execution or ExecutionSettings()
        #: the user's Keras callbacks (see ``TrainingConfig.callbacks``); not stored with the study
        self._callbacks = callbacks
        #: whether the trials train with symtuner's loss (False once one reports the user's own compile)
        self._own_loss = True

    # -- public ------------------------------------------------------------
    def run(self, n_trials: int | None = None, budget_epochs: int | None = None) -> Trial | None:
        """Run until the study holds ``n_trials`` finished trials, or its trials have run
        ``budget_epochs`` epochs in all (whichever comes first); return the best.

        Finished means complete or failed; interrupted trials are run again.
        With a budget, the epochs early stopping saves buy more trials (the
        last trial may end past the budget by less than one trial's epochs).
        Everything the user gave is validated before anything is written.
        """
        if n_trials is None and budget_epochs is None:
            raise ConfigError("give the number of trials, an epoch budget, or both")
        for name, value in (("the number of trials", n_trials), ("the epoch budget", budget_epochs)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        resuming = StudyStore.exists(self.study_dir)
        if resuming:
            with StudyStore.open(self.study_dir, readonly=True) as existing:
                existing.check_readable()
                shape = existing.data_info().get("input_shape")
                self._check_resume(stored_settings(existing), existing.tuning_versions()[0].space,
                                   tuple(shape) if isinstance(shape, list) else None)
        elif self.study_dir.exists() and (not self.study_dir.is_dir() or any(
                p.name != LOCK_NAME and not p.name.startswith(PARTIAL_DB) for p in self.study_dir.iterdir())):
            raise StudyError(f"{self.study_dir} is not an empty directory and holds no study; "
                             "choose a new directory")
        engine = self._load_engine() if self.settings.symbolic else None
        if isinstance(self._space_arg, SearchSpace) and self.settings.network == "default":
            _check_space_values(self._space_arg)
        from symtuner.execution.base import start_dispatcher

        # the workers start (a Ray instance, pool processes importing Keras) while the data set loads
        dispatcher = start_dispatcher(self.execution, self._executor_factory)
        try:
            return self._run_loaded(dispatcher, engine, resuming, n_trials, budget_epochs)
        finally:
            dispatcher.close()

    def _run_loaded(self, dispatcher: Any, engine: Any, resuming: bool, n_trials: int | None,
                    budget_epochs: int | None) -> Trial | None:
        """Load the data set, give it to ``dispatcher``, and run the study (see :meth:`run`)."""
        dataset = self._dataset()
        self.settings = self.settings.for_task(dataset.is_regression)
        if self._auto_progress:
            from symtuner.app.progress import auto_progress

            self.progress = auto_progress(self.settings.objective)
        rename = getattr(self.progress, "set_objective", None)
        if rename is not None:
            rename(self.settings.objective)
        check_task(self.settings.objective, self.settings.metrics, dataset.is_regression)
        space = self._initial_space(dataset.input_shape)
        self._load(dispatcher, dataset)
        try:
            if not resuming:
                self._check_trials_can_run(dispatcher, space, dataset)
            with study_lock(self.study_dir):
                store = StudyStore.open(self.study_dir) if resuming else self._create_store(engine, dataset, space)
                store.set_target(n_trials, budget_epochs)
                logger = _study_logger(self.study_dir)
                try:
                    return self._run(store, logger, n_trials, budget_epochs, engine, dataset, dispatcher)
                finally:
                    for handler in list(logger.handlers):
                        handler.close()
                        logger.removeHandler(handler)
                    store.close()
        finally:
            close = getattr(self.progress, "close", None)  # progress objects of the four-method protocol lack it
            if close is not None:
                close()

    def best_model(self, trial_number: int | None = None) -> Any:
        """The trained ``keras.Model`` of the best complete trial (or of trial ``trial_number``),
        compiled as it trained, ready for ``predict`` and ``evaluate``."""
        from symtuner.storage.models import load_model

        return load_model(self.study_dir, trial_number)

    def best_models(self, k: int) -> list[tuple[Trial, Any]]:
        """The ``k`` best complete trials whose model files are kept, best first, with their models."""
        from symtuner.storage.models import best_models

        return best_models(self.study_dir, k)

    def _prune_models(self, store: StudyStore, logger: logging.Logger, number: int) -> None:
        """Keep the model files of the ``keep_models`` best trials and the latest; delete the others."""
        from symtuner.storage.models import prune_models

        deleted = prune_models(self.study_dir, store.trials(with_curves=False), self.settings.keep_models,
                               self.settings.maximize)
        if deleted:
            _event(store, logger, "models_pruned", f"model files deleted (keep_models="
                   f"{self.settings.keep_models}): {', '.join(p.name for p in deleted)}", number)

    # -- set-up ------------------------------------------------------------
    def _initial_space(self, input_shape: tuple[int, ...] | None) -> SearchSpace:
        """The space a new study starts in: the one given, the given dimensions applied to the
        default space of this data, or that default space."""
        if isinstance(self._space_arg, SearchSpace):
            return self._space_arg
        if isinstance(self._space_arg, SpaceOverrides):
            return self._space_arg.apply(input_shape)
        return default_space(input_shape)

    def _check_trials_can_run(self, dispatcher: Any, space: SearchSpace, dataset: Dataset) -> None:
        """Before a study is created: the space's values, and the network built from them, must work."""
        from symtuner.training.builder import check_default_space

        if self.settings.network == "default":
            _check_space_values(space)
            check_default_space(space, dataset.input_shape)
        if self._callbacks is not None:
            from symtuner.training.training import user_callbacks

            user_callbacks(self._callbacks)  # a bad spec or a wrong return fails here, not in trial 1
        dispatcher.check(space, Architecture(flip=self.settings.flip))

    def _create_store(self, engine: Any, dataset: Dataset, space: SearchSpace) -> StudyStore:
        def init(store: StudyStore) -> None:
            store.set_data_info({"name": dataset.name, "n_classes": dataset.n_classes,
                                 "task": "regression" if dataset.is_regression else "classification",
                                 "n_outputs": dataset.n_outputs, "input_shape": list(dataset.input_shape),
                                 "n_train": dataset.n_train, "n_test": dataset.n_test,
                                 "streamed": bool(getattr(dataset, "streamed", False))})
            store.add_tuning_version(space, Architecture(flip=self.settings.flip), None,
                                     "initial search space")
            if engine is not None:
                store.save_weights(INITIAL_WEIGHTS_TRIAL, engine.rules.initial_weights)
            store.log_event("study_created", f"study created with settings {self.settings.to_dict()}")

        return StudyStore.create(self.study_dir, self.settings.to_dict(), init)

    def _check_resume(self, stored: StudySettings, initial_space: SearchSpace,
                      input_shape: tuple[int, ...] | None = None) -> None:
        """Running on an existing study continues it when what is given equals what is stored.

        Given settings are compared field by field (a setting that does not
        change what is computed, such as ``keep_models``, takes the given
        value); a given space is compared with the study's initial space
        (the space it was created with, before any action changed it). Every
        difference is listed in one error.
        """
        if self._settings_arg is not None:
            given = self.settings  # with the dataset and network arguments applied (see __init__)
        else:
            given = replace(stored, **{key: getattr(self.settings, key) for key, arg in
                                       (("dataset", self._dataset_arg), ("network", self._network_arg))
                                       if arg is not None})
        if given.objective == AUTO_OBJECTIVE:  # not chosen: the stored one
            given = replace(given, objective=stored.objective)
        differences = stored.differences(given)
        if self._space_arg is not None:
            given_space = self._initial_space(input_shape)
            differences += [f"search space: {d}" for d in space_differences(initial_space, given_space)]
        if differences:
            raise ConfigError(
                f"study {self.study_dir} was created with other settings (stored -> given: "
                f"{'; '.join(differences)}); give what it was created with to continue it, or continue it with "
                f"'symtuner resume {self.study_dir}', or choose a new directory")
        self.settings = replace(stored, **{key: getattr(given, key) for key in RESUME_MAY_CHANGE})

    def _load_engine(self) -> Any:
        from symtuner.symbolic.engine import SymbolicEngine
        from symtuner.symbolic.rules import load_rules

        rules_dir = Path(self.settings.rules_dir) if self.settings.rules_dir else None
        rules = load_rules(rules_dir, mode=self.settings.rules_mode, thresholds=self.settings.thresholds)
        require_known(rules.actions)
        return SymbolicEngine(rules)

    def _dataset(self) -> Dataset:
        arg = self._dataset_arg
        if isinstance(arg, Dataset) or getattr(arg, "streamed", False):
            return cast(Dataset, arg)  # a StreamedDataset offers what the loop reads of a Dataset
        if arg is not None and not isinstance(arg, str):
            return dataset_from_values(arg(), _describe(arg))
        return load_dataset(self.settings.dataset, seed=self.settings.seed)

    def _load(self, dispatcher: Any, dataset: Dataset) -> None:
        """Give ``dispatcher`` the data set, the network and the training config of this study."""
        from symtuner.execution.base import check_can_load
        from symtuner.training.training import TrainingConfig

        config = TrainingConfig(epochs=self.settings.epochs, validation_split=self.settings.validation_split,
                                patience=self.settings.patience, split_seed=self.settings.seed,
                                callbacks=self._callbacks, metrics=self.settings.metrics,
                                objective=self.settings.objective)
        network = self._network_arg if self._network_arg is not None and not isinstance(self._network_arg, str) \
            else self.settings.network
        check_can_load(self.execution, dataset)
        dispatcher.load(dataset, network, config)

    # -- the loop ----------------------------------------------------------
    def _run(self, store: StudyStore, logger: logging.Logger, n_trials: int | None, budget_epochs: int | None,
             engine: Any, dataset: Dataset, dispatcher: Any) -> Trial | None:
        """Keep ``dispatcher.capacity`` trials running until the target is reached.

        Whenever a worker is free a trial is proposed, with the running
        trials as pending points, and submitted; every finished trial gets
        its symbolic step and one store transaction. With one worker this is
        propose, train, diagnose, act, store, as in the paper.
        """
        settings = self.settings
        proposer = Proposer(make_optimizer(settings.optimizer, settings.n_initial))
        advisor = Advisor(engine, ActionSettings(max_dense_layers=settings.max_dense_layers,
                                                 max_conv_blocks=settings.max_conv_blocks),
                          settings.maximize, settings.seed) if engine else None
        for number in store.mark_running_interrupted():
            _event(store, logger, "trial_interrupted", f"trial {number} was interrupted; it will run again",
                   number)
        logger.info("running study %s to %s trials, %s epochs on %s, %d worker(s)", self.study_dir,
                    n_trials or "any", budget_epochs or "any", dataset.name, dispatcher.capacity)
        known = store.trials(with_curves=False)
        # a resumed study remembers whether its trials train with the user's own compile
        self._own_loss = not any(t.extra.get("own_loss") is False for t in known)
        started = getattr(self.progress, "study_started", None)
        if started is not None:
            started(n_trials, budget_epochs, settings.epochs,
                    sum(t.state in (TrialState.COMPLETE, TrialState.FAILED) for t in known), epochs_used(known))
        running: dict[int, _Running] = {}
        # proposals made ahead, while every worker trains (with more than one worker): a freed worker
        # then gets one at once instead of waiting for the optimizer
        ahead: list[_Ahead] = []

        def on_epoch(number: int, epoch: int, logs: dict[str, float]) -> str:
            return self._epoch(store, logger, running[number], epoch, logs) if number in running else ""

        def fill() -> list[Trial]:
            """Start trials while fewer than ``capacity`` run and more are wanted. A trial that finished is
            running until it is handled: its worker's next trial comes after its symbolic step."""
            trials = store.trials(with_curves=False)
            while len(running) < dispatcher.capacity and self._more_wanted(
                    trials, running, n_trials, budget_epochs, logger):
                job = self._start(store, logger, trials, n_trials or 0, dataset, proposer, advisor, running, ahead)
                running[job.spec.number] = job
                dispatcher.submit(job.spec)
                trials = store.trials(with_curves=False)
            return trials

        try:
            while True:
                trials = fill()
                if not running:
                    break
                if dispatcher.capacity > 1:
                    self._propose_ahead(store, trials, proposer, running, ahead,
                                        self._still_wanted(trials, running, n_trials, dispatcher.capacity))
                # while a proposal is made in the background, look again soon to collect it
                timeout = _COLLECT_SECONDS if proposer.busy else _WAIT_SECONDS
                done = dispatcher.wait(on_epoch, timeout=timeout)
                for index, (number, outcome) in enumerate(done):
                    self._finish(store, logger, running.pop(number), outcome, dataset, advisor)
                    if index < len(done) - 1:
                        # trials that finished together: each freed worker gets its next trial as soon
                        # as the trial it ran is handled, not after all of them are
                        fill()
        except KeyboardInterrupt:
            dispatcher.cancel()
            for number in running:
                store.fail_trial(number, "stopped by the user during training", TrialState.INTERRUPTED)
                _event(store, logger, "trial_interrupted", f"trial {number} stopped by the user", number)
            raise
        finally:
            proposer.close()
        best = best_trial(store.trials(), settings.maximize)
        if best is not None:
            logger.info("best trial %d: %s %.4f", best.number, settings.objective, best.objective)
        return best

    @staticmethod
    def _more_wanted(trials: list[Trial], running: dict[int, _Running], n_trials: int | None,
                     budget_epochs: int | None, logger: logging.Logger) -> bool:
        """Whether another trial should start (running ones count as if they will finish)."""
        finished = sum(t.state in (TrialState.COMPLETE, TrialState.FAILED) for t in trials)
        if n_trials is not None and finished + len(running) >= n_trials:
            return False
        if budget_epochs is not None:
            reserved = sum(job.spec_epochs for job in running.values())
            if epochs_used(trials) + reserved >= budget_epochs:
                if not running:
                    logger.info("epoch budget %d used up", budget_epochs)
                return False
        return True

    @staticmethod
    def _still_wanted(trials: list[Trial], running: dict[int, _Running], n_trials: int | None, capacity: int) -> int:
        """How many trials may still start after the running ones (at most ``capacity``)."""
        if n_trials is None:
            return capacity
        finished = sum(t.state in (TrialState.COMPLETE, TrialState.FAILED) for t in trials)
        return max(0, min(capacity, n_trials - finished - len(running)))

    def _propose_ahead(self, store: StudyStore, trials: list[Trial], proposer: Proposer,
                       running: dict[int, _Running], ahead: list[_Ahead], wanted: int) -> None:
        """Collect the proposal made in the background, if ready, and start the next one while fewer than
        ``wanted`` are made.

        Each is what the optimizer proposes now, with the running trials and
        the proposals already made ahead as pending points (the constant
        liar), for the current tuning version; after a change of space it is
        brought up to date or dropped (:func:`_up_to_date`). It
        is computed on the proposer's thread (``symtuner.search.proposer``), so
        trials that finish meanwhile are handled at once. Nothing is stored:
        a proposal made ahead that is never used leaves no trace, so a
        resumed study is not affected by it.
        """
        if proposer.done():
            _collect(proposer, ahead)
        tuning = store.latest_tuning()
        ahead[:] = _up_to_date(ahead, tuning)
        if proposer.busy or len(ahead) >= wanted or _pending_retry(trials) is not None:
            return
        pending = [job.spec.params for job in running.values()]
        proposer.start(self._request(store, trials, tuning, pending, [a.params for a in ahead]))

    @staticmethod
    def _take_ahead(ahead: list[_Ahead], tuning: Any, running: dict[int, _Running]) -> _Ahead | None:
        """The oldest proposal made ahead that ``tuning`` still allows and no running trial has; the others go."""
        ahead[:] = _up_to_date(ahead, tuning)
        taken = [job.spec.params for job in running.values()]
        while ahead:
            proposal = ahead.pop(0)
            if proposal.params not in taken:
                return proposal
        return None

    def _start(self, store: StudyStore, logger: logging.Logger, trials: list[Trial], total: int,
               dataset: Dataset, proposer: Proposer, advisor: Advisor | None, running: dict[int, _Running],
               ahead: list[_Ahead] | None = None) -> _Running:
        """Propose (or take a trial to rerun, or a proposal made ahead), store the trial as running, and
        describe it."""
        from symtuner.core.contract import TrialSpec

        settings = self.settings
        tuning = store.latest_tuning()
        retry = _pending_retry(trials)
        if retry is not None:
            params = tuning.space.project(retry.params)
            extra: dict[str, Any] = {"retry_of": retry.number}
        else:
            if proposer.busy and ahead is not None:
                # a proposal is being made ahead: waiting for it is quicker than making another
                _collect(proposer, ahead)
            made = self._take_ahead(ahead, tuning, running) if ahead else None
            if made is None:
                params = proposer.ask(self._request(store, trials, tuning, [job.spec.params for job in running.values()]))
                extra = {}
            else:
                params = made.params
                extra = {"proposed_ahead": True, **({"drawn_ahead": list(made.drawn)} if made.drawn else {})}
        with store.transaction():
            number = store.start_trial(params, tuning.version, extra)
            # a rerun of an interrupted trial trains with the seed of the trial it reruns, so that a
            # resumed study trains the same networks as one that was never interrupted
            seed = derived_seed(settings.seed, _slot(trials, _first_run(trials, retry.number) if retry is not None
                                                     else number))
            store.update_extra(number, {"seed": seed})
            # absolute for the workers (which may run elsewhere on a shared file system); stored relative
            model_path = self.study_dir.resolve() / "models" / f"trial_{number:04d}.keras"
            log_dir = self.study_dir.resolve() / "logs" / f"trial_{number:04d}"
            store.set_model_files(number, str(model_path), str(log_dir))
        _event(store, logger, "trial_started", f"trial {number} started with {params}", number)
        finished = sum(t.state in (TrialState.COMPLETE, TrialState.FAILED) for t in trials)
        self.progress.trial_started(number, finished + len(running) + 1, total, params)
        spec = TrialSpec(number=number, params=params, architecture=tuning.architecture,
                         seed=seed, model_path=model_path, log_dir=log_dir)
        return _Running(spec, tuning, trials, self._stopper(store, advisor, trials, dataset), settings.epochs)

    def _request(self, store: StudyStore, trials: list[Trial], tuning: Any, pending: list[dict[str, Any]],
                 planned: list[dict[str, Any]] | None = None) -> Request:
        """What the optimizer's next point depends on; running trials (and ``planned`` proposals made
        ahead, which will run under ``tuning``) are pending points (a constant liar), and a proposal equal
        to one of them is asked for again with another seed."""
        settings = self.settings
        planned = planned or []
        versions = store.tuning_versions()
        history = observations(trials, versions, settings.maximize)
        by_version = {v.version: v for v in versions}
        if pending or planned:
            running = [t for t in trials if t.state == TrialState.RUNNING]
            history = history + pending_observations(running, by_version, history) \
                + planned_observations(planned, tuning.architecture, history)
        # interrupted trials do not count, so a resumed study proposes what an uninterrupted one would
        ran = sum(1 for t in trials if t.state != TrialState.INTERRUPTED) + len(planned)
        return Request(tuning.space, history,
                       seeds=[derived_seed(settings.seed, ran + 7919 * attempt) for attempt in range(_PROPOSAL_ATTEMPTS)],
                       fallback_seed=derived_seed(settings.seed, ran + 104729), surrogate=surrogate(versions, tuning),
                       avoid=[*pending, *planned], version=tuning.version)

    def _epoch(self, store: StudyStore, logger: logging.Logger, job: _Running, epoch: int,
               logs: dict[str, float]) -> str:
        """Record one epoch of a running trial; the reason to stop it, if the stopper gives one."""
        number = job.spec.number
        store.record_epoch(number, epoch, logs)
        self.progress.epoch_finished(number, epoch, self.settings.epochs, logs)
        job.seen.append({key: float(value) for key, value in logs.items()})
        if job.stopper is None or job.stop_reason:
            return job.stop_reason
        reason = job.stopper(LearningCurve.from_epochs(job.seen))
        if reason:
            job.stop_reason = reason
            _event(store, logger, "trial_stopped", f"trial {number} stopped after epoch {epoch + 1}: {reason}",
                   number)
        return reason

    def _finish(self, store: StudyStore, logger: logging.Logger, job: _Running, outcome: Any, dataset: Dataset,
                advisor: Advisor | None) -> None:
        """Store a finished trial: failed, to rerun, or complete with its diagnosis and actions."""
        from symtuner.execution import WorkerLost
        from symtuner.training.builder import max_conv_blocks

        settings = self.settings
        number = job.spec.number
        if isinstance(outcome, WorkerLost):
            reruns = _reruns(store.trials(with_curves=False), number)
            state = TrialState.INTERRUPTED if reruns < self.execution.retries else TrialState.FAILED
            store.fail_trial(number, str(outcome), state)
            _event(store, logger, "worker_lost", f"{outcome}; "
                   f"{'it will run again' if state == TrialState.INTERRUPTED else 'no retries left'}", number)
            self.progress.trial_failed(number, str(outcome))
            return
        if isinstance(outcome, BaseException):
            store.fail_trial(number, str(outcome))
            _event(store, logger, "trial_failed", f"trial {number} failed: {outcome}", number)
            self.progress.trial_failed(number, str(outcome))
            if isinstance(outcome, (ConfigError, DataError)):
                raise outcome  # every later trial would fail the same way: the study stops, stored as it is
            return
        result = outcome
        stopped = job.stop_reason or getattr(result, "stopped", "")
        if stopped:
            store.update_extra(number, {"stopped": stopped})
        ignored = list(getattr(result, "ignored_changes", ()))
        ignored_features = dict(getattr(result, "ignored_features", {}))
        if ignored:
            store.update_extra(number, {"ignored_changes": ignored})
            _event(store, logger, "network_ignores_changes",
                   f"trial {number}: the network ignores applied changes: {'; '.join(ignored)}", number)
        objective = _objective_of(result, settings.objective)
        scores = {f"{part}_metrics": dict(getattr(result, f"{part}_metrics", {}) or {}) for part in ("val", "test")}
        if any(scores.values()):
            store.update_extra(number, scores)
        self._own_loss = bool(getattr(result, "own_loss", True))
        if not self._own_loss:
            store.update_extra(number, {"own_loss": False})
        done = replace(store.trial(number), state=TrialState.COMPLETE, objective=objective,
                       curve=result.curve)
        # the trials as they are now (others may have finished meanwhile); the rule learning needs no
        # older curves
        earlier = [t for t in store.trials(with_curves=False) if t.number != number]
        all_trials = earlier + [done]
        advice = None
        judgement = Judgement((), None)
        tuning = store.latest_tuning()
        if advisor is not None:
            versions, verdicts, records = store.tuning_versions(), store.verdicts(), store.actions()
            judgement = ignore_changes(versions, verdicts, ignored_features, number)
            if not judgement.verdicts:
                judgement = judge(versions, verdicts, all_trials, settings.maximize, settings.revert_after,
                                  number, records)
            verdicts = {**verdicts, **{v.version: v for v in judgement.verdicts}}
            now = judgement.restore or tuning
            room = max_conv_blocks(dataset.input_shape, now.architecture)
            advice = advisor.advise(all_trials, done, dataset.n_classes or None, now.space, now.architecture,
                                    room, n_train=fitted_samples(dataset, settings.validation_split),
                                    epochs=settings.epochs, image_input=len(dataset.input_shape) == 3,
                                    extra_evidence=revert_evidence(verdicts, versions, records),
                                    reverted=reverted_pairs(verdicts, versions, records),
                                    unusable=unusable_actions(verdicts, versions, records),
                                    loss_scale=self._loss_scale(dataset))
        with store.transaction():
            store.complete_trial(number, objective=objective, val_accuracy=result.val_accuracy,
                                 val_loss=result.val_loss, test_loss=result.test_loss,
                                 test_accuracy=result.test_accuracy, train_seconds=result.train_seconds,
                                 curve=result.curve, epochs_run=result.epochs_run)
            self._store_verdicts(store, logger, judgement, number)
            if advice is not None:
                store.set_diagnosis(number, advice.diagnosis)
                store.add_actions(number, advice.actions)
                store.save_weights(number, advice.weights)
                if advice.changed:
                    applied = ", ".join(a.name for a in advice.actions if a.applied)
                    store.add_tuning_version(advice.space, advice.architecture, number,
                                             f"after trial {number}: {applied}")
                    store.log_event("space_changed", "; ".join(advice.changes), number)
        _event(store, logger, "trial_complete",
               f"trial {number} complete: {settings.objective} {objective:.4f}, {test_score(result)}", number)
        self._prune_models(store, logger, number)
        if advice is not None:
            logger.info("trial %d diagnosis: %s", number, advice.diagnosis.explanation)
            if advice.changed:
                logger.info("search space / architecture changed: %s", "; ".join(advice.changes))
        finished = store.trial(number)
        self.progress.trial_finished(finished, best_trial(earlier + [finished], settings.maximize), advice)

    def _stopper(self, store: StudyStore, advisor: Advisor | None, trials: list[Trial],
                 dataset: Dataset) -> Callable[[LearningCurve], str] | None:
        """What may stop the next trial early: Optuna's MedianPruner when asked for, else symbolic
        early stopping (None when off or without the symbolic layer)."""
        if self.settings.pruner == "median":
            from symtuner.search.pruners import MedianPruningStopper

            curves = [t.curve.series(self.settings.objective) for t in store.trials()
                      if t.is_complete and t.curve is not None]
            return MedianPruningStopper(curves, self.settings.objective, self.settings.maximize)
        if advisor is None or not self.settings.stop_early:
            return None
        best = best_trial(trials, self.settings.maximize)
        return SymbolicStopper(advisor.engine, dataset.n_classes or None, self.settings.epochs,
                               best.objective if best is not None else None, self.settings.objective,
                               self.settings.maximize, loss_scale=self._loss_scale(dataset))

    def _loss_scale(self, dataset: Dataset) -> float | None:
        """The unit of the diagnosis's loss thresholds: a regression's baseline (the mean squared error of
        predicting the mean) when the trials train with symtuner's loss; None otherwise, which means
        ln(n_classes) for a classifier and the first epoch's loss for a regression of the user's loss."""
        if not dataset.is_regression or not self._own_loss:
            return None
        return dataset.loss_baseline

    @staticmethod
    def _store_verdicts(store: StudyStore, logger: logging.Logger, judgement: Judgement, number: int) -> None:
        """Store the verdicts due after trial ``number``; a revert adds the restored version."""
        restored_by = None
        if judgement.restore is not None:
            restored_by = store.add_tuning_version(
                judgement.restore.space, judgement.restore.architecture, number,
                f"after trial {number}: revert to version {judgement.restore.version}")
        for verdict in judgement.verdicts:
            if verdict.verdict in RESTORING:
                verdict = replace(verdict, restored_by=restored_by)
            store.add_verdict(verdict)
            _event(store, logger, f"change_{verdict.verdict}",
                   f"the change of version {verdict.version} is {verdict.verdict}: {verdict.reason}", number)


@dataclass(frozen=True)
class _Ahead:
    """A proposal made while every worker trained, for the tuning version it was made under."""

    params: dict[str, Any]
    version: int
    #: HPs added after the proposal was made, drawn at random (see :func:`_up_to_date`)
    drawn: tuple[str, ...] = ()


@dataclass
class _Running:
    """A trial the loop has submitted: what it runs, under which version, and what it has seen."""

    spec: Any
    tuning: Any
    trials_at_start: list[Trial]
    stopper: Callable[[LearningCurve], str] | None
    spec_epochs: int
    #: the logs of its epochs so far
    seen: list[dict[str, float]] = field(default_factory=list)
    stop_reason: str = ""


#: Proposals asked for before a random point replaces one that equals a running trial's params.
_PROPOSAL_ATTEMPTS = 5
#: Seconds the loop waits for a finished trial; while a proposal is made in the background, the shorter one.
_WAIT_SECONDS, _COLLECT_SECONDS = 0.5, 0.05


def _collect(proposer: Proposer, ahead: list[_Ahead]) -> None:
    """Add the proposal made in the background (waiting for it if needed) to ``ahead``."""
    made = proposer.result()
    if made is not None:
        params, request = made
        ahead.append(_Ahead(params, request.version))


def _reruns(trials: list[Trial], number: int) -> int:
    """How many times the trial ``number`` is itself a rerun (the length of its retry chain)."""
    by_number = {t.number: t for t in trials}
    count = 0
    while number in by_number and by_number[number].extra.get("retry_of") is not None and count < len(trials):
        number = int(by_number[number].extra["retry_of"])
        count += 1
    return count


def _check_space_values(space: SearchSpace) -> None:
    """Categorical optimizer and activation values the default network cannot use fail up front."""
    from symtuner.training.hparams import activation_name
    from symtuner.training.training import OPTIMIZERS

    for name, known in (("optimizer", OPTIMIZERS), ("activation", None)):
        if name not in space or not isinstance(space[name], Categorical):
            continue
        for value in space[name].categories:  # type: ignore[union-attr]
            try:
                if known is not None:
                    if not isinstance(value, str) or value.lower() not in known:
                        raise ConfigError(f"unknown optimizer {value!r}; choose one of "
                                          f"{sorted(known.values())}")
                else:
                    activation_name(value)
            except ConfigError as exc:
                raise ConfigError(f"search space dimension {name!r}: {exc}") from None


def derived_seed(seed: int, index: int) -> int:
    """The seed of one proposal or training, in the 32-bit range numpy and TensorFlow accept
    (the same value as ``seed * 100003 + index`` while that is below 2**32)."""
    return (seed * 100_003 + index) % 2**32


def epochs_used(trials: Sequence[Trial]) -> int:
    """Epochs the study's finished trials have run (interrupted ones rerun, so they do not count)."""
    return sum(int(t.extra.get("epochs_run") or 0) for t in trials
               if t.state in (TrialState.COMPLETE, TrialState.FAILED))


def _objective_of(result: Any, objective: str) -> float:
    """The objective's value in a training's result (trainers that report only the four scores give
    ``val_accuracy`` and ``val_loss``)."""
    method = getattr(result, "objective_value", None)
    if method is not None:
        return float(method(objective))
    if objective in ("val_accuracy", "val_loss"):
        return float(getattr(result, objective))
    raise ConfigError(f"objective {objective!r} is not reported by the trainer {type(result).__name__}")


def _up_to_date(ahead: list[_Ahead], tuning: Any) -> list[_Ahead]:
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
            from symtuner.search.optimizers.random_search import RandomSearch

            seed = zlib.crc32(json.dumps(proposal.params, sort_keys=True, default=str).encode())
            params |= RandomSearch().ask(SearchSpace(tuple(missing)), [], seed=seed)
        if space.contains(params):
            out.append(_Ahead(params, tuning.version, proposal.drawn + tuple(d.name for d in missing)))
    return out


def _pending_retry(trials: list[Trial]) -> Trial | None:
    retried = {t.extra.get("retry_of") for t in trials}
    for trial in trials:
        if trial.state == TrialState.INTERRUPTED and trial.number not in retried:
            return trial
    return None


def _slot(trials: list[Trial], number: int) -> int:
    """The place of trial ``number`` in the study as it would be without interruptions (1-based): the
    trial numbers an interrupted trial takes up do not shift the seeds of the trials after it."""
    return 1 + sum(1 for t in trials if t.number < number and t.state != TrialState.INTERRUPTED)


def _first_run(trials: list[Trial], number: int) -> int:
    """The number of the first trial in the chain of reruns that ``number`` belongs to."""
    by_number = {t.number: t for t in trials}
    seen: set[int] = set()
    while number in by_number and by_number[number].extra.get("retry_of") is not None and number not in seen:
        seen.add(number)
        number = int(by_number[number].extra["retry_of"])
    return number


def _describe(obj: Any) -> str:
    module = getattr(obj, "__module__", None) or "?"
    name = getattr(obj, "__qualname__", None) or type(obj).__name__
    return f"{module}:{name}"


def _event(store: StudyStore, logger: logging.Logger, kind: str, message: str, trial: int | None) -> None:
    store.log_event(kind, message, trial)
    logger.info(message)


def _study_logger(study_dir: Path) -> logging.Logger:
    """A logger writing this study's events to ``study.log`` in its directory."""
    logger = logging.getLogger(f"symtuner.study.{study_dir.resolve()}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = logging.FileHandler(study_dir / LOG_NAME, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    return logger
