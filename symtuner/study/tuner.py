"""``Tuner``: a study on a data set, a search space and a network, run to a target.

A facade: the checks and the set-up are in :mod:`symtuner.study.setup`, the
ask/tell core in :mod:`symtuner.study.asktell`, the scheduling of workers in
:mod:`symtuner.study.scheduler`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from symtuner.core.architecture import Architecture
from symtuner.core.errors import ConfigError
from symtuner.core.execution import ExecutionSettings
from symtuner.core.records import Trial
from symtuner.core.settings import StudySettings, stored_settings
from symtuner.core.space import SearchSpace
from symtuner.execution import Dispatcher, check_can_load, start_dispatcher
from symtuner.search.optimizers import make_optimizer
from symtuner.search.proposer import Proposer
from symtuner.storage import StudyStore
from symtuner.storage.layout import LOCK_NAME  # noqa: F401  (kept importable from here)
from symtuner.storage.lock import study_lock
from symtuner.study import setup
from symtuner.study.asktell import StudyCallback, StudyLoop
from symtuner.study.handle import StudyHandle
from symtuner.study.journal import Journal
from symtuner.study.observer import Progress, SilentProgress
from symtuner.study.scheduler import Scheduler, Target
from symtuner.study.seeds import epochs_used, finished_count
from symtuner.study.task import TaskInfo
from symtuner.symbolic.engine import SymbolicEngine
from symtuner.training.quiet import import_keras_quietly
from symtuner.tuning.actions import ActionSettings
from symtuner.tuning.advisor import Advisor
from symtuner.tuning.view import best_trial


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
    trial), its ``module:function`` spec, or a list. ``progress`` receives
    what the loop does (``progress_factory(objective)`` makes one when it is
    not given and ``quiet`` is false). Running on an existing study resumes
    it with its stored settings and space.
    """

    def __init__(self, study_dir: str | Path, dataset: setup.DatasetArg | None = None,
                 space: Any = None, network: str | Callable[..., Any] | None = None,
                 settings: StudySettings | None = None, progress: Progress | None = None,
                 executor_factory: Callable[..., Any] | None = None,
                 execution: ExecutionSettings | None = None, quiet: bool = False,
                 callbacks: Any = None, progress_factory: Callable[[str], Progress] | None = None) -> None:
        self._inputs = setup.check_inputs(study_dir, dataset, space, network, settings, execution, callbacks)
        self.study_dir = self._inputs.study_dir
        self.settings = self._inputs.settings
        self.progress: Progress = progress or SilentProgress()
        self._progress_factory = progress_factory if progress is None and not quiet else None
        self._executor_factory = executor_factory
        self.execution = execution or ExecutionSettings()
        #: Whether the last :meth:`run` found the study at its target already (and ran nothing).
        self.finished_already = False

    def run(self, n_trials: int | None = None, budget_epochs: int | None = None,
            callbacks: Sequence[StudyCallback] = ()) -> Trial | None:
        """Run until the study holds ``n_trials`` finished trials, or its trials have run
        ``budget_epochs`` epochs in all (whichever comes first); return the best.

        Finished means complete or failed; interrupted trials are run again.
        With a budget, the epochs early stopping saves buy more trials, and
        the budget is never exceeded: a trial starts only while all its epochs
        fit in what is left (a budget below one trial's epochs is refused).
        ``callbacks`` are called as ``fn(study, trial)`` after every stored
        trial (see :class:`~symtuner.study.handle.StudyHandle`). Everything the
        user gave is validated before anything is written.
        """
        setup.check_target(n_trials, budget_epochs)
        for callback in callbacks:
            if not callable(callback):
                raise ConfigError(f"a study callback must be a function fn(study, trial), got {callback!r:.60}")
        resuming = StudyStore.exists(self.study_dir)
        settings = self._resume_settings() if resuming else self.settings
        if not resuming:
            setup.check_new_directory(self.study_dir)
        setup.check_names(settings)
        setup.check_dataset(self._inputs, settings)
        setup.check_callbacks_spec(self._inputs.callbacks)
        engine = setup.load_engine(settings) if settings.symbolic else None
        if isinstance(self._inputs.space, SearchSpace) and settings.network == "default":
            setup.check_space_values(self._inputs.space)
        self.settings = settings
        if budget_epochs is not None and budget_epochs < settings.epochs:
            raise ConfigError(f"the epoch budget {budget_epochs} is smaller than one trial's {settings.epochs} epochs; "
                              f"give a budget of at least {settings.epochs}, or fewer epochs per trial")
        target = Target(n_trials, budget_epochs)
        self.finished_already = resuming and self._reached(target)  # the run checks all, then starts no trial
        if self._executor_factory is None:  # every check that needs no Keras is done: import it, quietly
            import_keras_quietly()
        # the workers start (a Ray instance, pool processes importing Keras) while the data set loads
        dispatcher = start_dispatcher(self.execution, self._executor_factory)
        try:
            return self._run_loaded(dispatcher, engine, resuming, target, callbacks)
        finally:
            dispatcher.close()

    def best_model(self, trial_number: int | None = None) -> Any:
        """The trained ``keras.Model`` of the best complete trial (or of trial ``trial_number``),
        compiled as it trained, ready for ``predict`` and ``evaluate``."""
        from symtuner.storage.models import load_model

        return load_model(self.study_dir, trial_number)

    def best_models(self, k: int) -> list[tuple[Trial, Any]]:
        """The ``k`` best complete trials whose model files are kept, best first, with their models."""
        from symtuner.storage.models import best_models

        return best_models(self.study_dir, k)

    def _reached(self, target: Target) -> bool:
        """Whether the study on disk meets ``target`` already (the scheduler would start no trial)."""
        with StudyStore.open(self.study_dir, readonly=True) as store:
            return target.reached(store.trials(with_curves=False), self.settings.epochs)

    def _resume_settings(self) -> StudySettings:
        with StudyStore.open(self.study_dir, readonly=True) as existing:
            existing.check_readable()
            shape = existing.data_info().get("input_shape")
            return setup.resumed_settings(self._inputs, stored_settings(existing),
                                          existing.tuning_versions()[0].space,
                                          tuple(shape) if isinstance(shape, list) else None)

    def _run_loaded(self, dispatcher: Dispatcher, engine: SymbolicEngine | None, resuming: bool, target: Target,
                    callbacks: Sequence[StudyCallback]) -> Trial | None:
        """Load the data set, give it to ``dispatcher``, and run the study (see :meth:`run`)."""
        dataset = setup.load_data(self._inputs, self.settings)
        self.settings = settings = self.settings.for_task(dataset.is_regression)
        if self._progress_factory is not None:
            self.progress = self._progress_factory(settings.objective)
        rename = getattr(self.progress, "set_objective", None)
        if rename is not None:
            rename(settings.objective)
        try:
            setup.check_task(settings, dataset)
            space = setup.initial_space(self._inputs, dataset.input_shape)
            check_can_load(self.execution, dataset)
            network = self._inputs.network if callable(self._inputs.network) else settings.network
            dispatcher.load(dataset, network, setup.training_config(settings, self._inputs.callbacks))
            setup.check_callbacks(self._inputs.callbacks)  # on resume too: a bad spec fails before trial 1
            if not resuming:
                setup.check_trials_can_run(settings, space, dataset)
                dispatcher.check(space, Architecture(flip=settings.flip))
            with study_lock(self.study_dir):
                store = StudyStore.open(self.study_dir) if resuming else \
                    setup.create_store(self.study_dir, settings, engine, dataset, space)
                try:
                    return self._loop(store, engine, TaskInfo.of(dataset, settings.validation_split), dispatcher,
                                      target, callbacks)
                finally:
                    store.close()
        finally:
            close = getattr(self.progress, "close", None)  # progress objects of the four-method protocol lack it
            if close is not None:
                close()

    def _loop(self, store: StudyStore, engine: SymbolicEngine | None, task: TaskInfo, dispatcher: Dispatcher,
              target: Target, callbacks: Sequence[StudyCallback]) -> Trial | None:
        settings = self.settings
        store.set_target(target.trials, target.epochs)
        journal = Journal(store, self.study_dir)
        try:
            advisor = Advisor(engine, ActionSettings(max_dense_layers=settings.max_dense_layers,
                                                     max_conv_blocks=settings.max_conv_blocks),
                              settings.maximize, settings.seed, settings.revert_after, task.conv_room) \
                if engine is not None else None
            for number in store.mark_running_interrupted():
                journal.event("trial_interrupted", f"trial {number} was interrupted; it will run again", number)
            journal.info("running study %s to %s trials, %s epochs on %s, %d worker(s)", self.study_dir,
                         target.trials or "any", target.epochs or "any", task.name, dispatcher.capacity)
            known = store.trials(with_curves=False)
            started = getattr(self.progress, "study_started", None)
            if started is not None:
                started(target.trials, target.epochs, settings.epochs, finished_count(known), epochs_used(known))
            loop = StudyLoop(store, journal, settings, task, Proposer(make_optimizer(settings.optimizer,
                                                                                     settings.n_initial)),
                             advisor, self.progress, self.study_dir, self.execution.retries)
            scheduler = Scheduler(loop, dispatcher, target, ordered=self.execution.reproducible)
            handle = StudyHandle(self.study_dir, settings, store, scheduler.stop)
            scheduler.on_told.append(lambda trial: self._prune_models(store, journal, trial.number))
            scheduler.on_told.extend(_bound(fn, handle) for fn in callbacks)
            scheduler.run()
            best = best_trial(store.trials(), settings.maximize)
            if best is not None:
                journal.info("best trial %d: %s %.4f", best.number, settings.objective, best.objective)
            return best
        finally:
            journal.close()

    def _prune_models(self, store: StudyStore, journal: Journal, number: int) -> None:
        """Keep the model files of the ``keep_models`` best trials and the latest; delete the others."""
        from symtuner.storage.models import prune_models

        deleted = prune_models(self.study_dir, store.trials(with_curves=False), self.settings.keep_models,
                               self.settings.maximize)
        if deleted:
            journal.event("models_pruned", f"model files deleted (keep_models={self.settings.keep_models}): "
                          f"{', '.join(p.name for p in deleted)}", number)


def _bound(callback: StudyCallback, handle: StudyHandle) -> Callable[[Trial], None]:
    """``callback(handle, trial)`` as a function of the trial."""
    return lambda trial: callback(handle, trial)
