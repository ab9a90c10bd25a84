"""Define-by-run studies: the search space written in the user's own training code.

``create_study`` makes (or reopens) a study; ``study.optimize(objective,
n_trials)`` calls ``objective(trial)`` for each trial, where the objective asks
for its parameters (``trial.suggest_float`` ...), trains with any framework,
reports each epoch (``trial.report``) and asks ``trial.should_stop()``. After
each trial the same diagnosis and tuning rules run as for a Keras study: space
actions move the bounds later ``suggest_*`` calls receive, architecture
actions reach the objective as ``trial.architecture``. ``study.ask()`` and
``study.tell(trial, value)`` serve loops that do not fit ``optimize``. The
store is the state: running the script again resumes the study.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from symtuner.core.architecture import Architecture
from symtuner.core.contract import TrainResult
from symtuner.core.errors import ConfigError, TrialFailed
from symtuner.core.execution import ExecutionSettings
from symtuner.core.fields import positive_int
from symtuner.core.records import Trial
from symtuner.core.settings import StudySettings, stored_settings
from symtuner.core.space import SearchSpace
from symtuner.execution.base import Dispatcher, InlineDispatcher
from symtuner.execution.dispatch import start_dispatcher
from symtuner.execution.objective import ObjectiveExecutor, ObjectiveFactory, ObjectiveTrial
from symtuner.search.optimizers import make_optimizer
from symtuner.search.proposer import Proposer
from symtuner.storage import INITIAL_WEIGHTS_TRIAL, StudyStore
from symtuner.storage.lock import study_lock
from symtuner.study import setup
from symtuner.study.asktell import StudyCallback, StudyLoop
from symtuner.study.handle import StudyHandle
from symtuner.study.journal import Journal
from symtuner.study.observer import Progress, SilentProgress
from symtuner.study.scheduler import Scheduler, Target
from symtuner.study.task import TaskInfo
from symtuner.tuning.actions import ActionSettings
from symtuner.tuning.advisor import Advisor
from symtuner.tuning.view import best_trial

#: What the ``dataset`` and ``network`` settings of a define-by-run study say.
DEFINE_BY_RUN = "define-by-run"
_DIRECTIONS = {"maximize": "max", "minimize": "min", "max": "max", "min": "min", "auto": "auto"}


def create_study(study_dir: str | Path, *, objective: str = "val_accuracy", direction: str = "auto",
                 epochs: int = 10, n_classes: int | None = None, input_shape: Sequence[int] = (), seed: int = 0,
                 optimizer: str = "gp", n_initial: int = 5, symbolic: bool = True, pruner: str = "none",
                 stop_early: bool = True, revert_after: int = 3, rules_dir: str | Path | None = None,
                 progress_factory: Callable[[str], Progress] | None = None) -> Study:
    """A define-by-run study in ``study_dir``: new, or the one stored there (whose settings must equal these).

    ``objective`` names the reported metric to optimise (``val_accuracy``,
    ``val_loss``, any ``val_`` metric) and ``direction`` whether higher
    (``maximize``) or lower (``minimize``) is better (``auto``: from the name).
    ``epochs`` is how many epochs the objective trains (early stopping and the
    actions' guards read it); ``n_classes`` lets the diagnosis read accuracies
    against chance level (None: the losses are read on the scale of the first
    epoch); ``input_shape`` (height, width, channels) lets conv blocks be added.
    ``progress_factory(objective)`` makes the display of each ``optimize`` run.
    """
    if direction not in _DIRECTIONS:
        raise ConfigError(f"direction must be one of {sorted(_DIRECTIONS)}, got {direction!r}")
    if n_classes is not None:
        positive_int(n_classes, "n_classes")
    settings = StudySettings(dataset=DEFINE_BY_RUN, network=DEFINE_BY_RUN, epochs=epochs, seed=seed,
                             optimizer=optimizer, n_initial=n_initial, objective=objective,
                             direction=_DIRECTIONS[direction], symbolic=symbolic, pruner=pruner, stop_early=stop_early,
                             revert_after=revert_after, rules_dir=None if rules_dir is None else str(rules_dir),
                             keep_models=0)
    shape = tuple(input_shape)
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in shape):
        raise ConfigError(f"input_shape must be positive integers, got {input_shape!r}")
    setup.check_names(settings)
    return Study(Path(study_dir), settings, n_classes or 0, shape, progress_factory)


def load_study(study_dir: str | Path, progress_factory: Callable[[str], Progress] | None = None) -> Study:
    """The define-by-run study stored in ``study_dir``."""
    directory = Path(study_dir)
    if not StudyStore.exists(directory):
        raise ConfigError(f"{directory} holds no study")
    with StudyStore.open(directory, readonly=True) as store:
        settings, info = stored_settings(store), store.data_info()
    if settings.dataset != DEFINE_BY_RUN:
        raise ConfigError(f"{directory} is a study of data set {settings.dataset!r}, not a define-by-run study; "
                          "continue it with symtuner.Tuner or 'symtuner resume'")
    return Study(directory, settings, int(info.get("n_classes") or 0), tuple(info.get("input_shape") or ()),
                 progress_factory)


class Study:
    """A define-by-run study (see :func:`create_study`)."""

    def __init__(self, study_dir: Path, settings: StudySettings, n_classes: int, input_shape: tuple[int, ...],
                 progress_factory: Callable[[str], Progress] | None = None) -> None:
        self.study_dir = study_dir
        self.task = TaskInfo(DEFINE_BY_RUN, n_classes, n_classes == 0, input_shape, None, None)
        self._progress_factory = progress_factory
        self.settings = settings
        if StudyStore.exists(study_dir):
            self.settings = self._stored(settings)
        self._engine = setup.load_engine(self.settings) if self.settings.symbolic else None
        self._open: ExitStack | None = None
        self._loop: StudyLoop | None = None
        self._asked: dict[int, ObjectiveTrial] = {}

    # -- running -----------------------------------------------------------
    def optimize(self, objective: Callable[[ObjectiveTrial], Any] | str, n_trials: int | None = None, *,
                 budget_epochs: int | None = None, workers: int = 1, ray: str | None = None,
                 callbacks: Sequence[StudyCallback] = ()) -> Trial | None:
        """Run ``objective(trial)`` until the study holds ``n_trials`` finished trials (or ``budget_epochs``
        epochs in all); return the best trial. With ``workers`` > 1 the objective runs in a local pool of
        worker processes, with ``ray`` (``local``, ``auto`` or ``HOST:PORT``) as Ray tasks: give it as a
        ``module:function`` spec or a function of an importable module."""
        setup.check_target(n_trials, budget_epochs)
        if self._asked:
            raise ConfigError(f"trials {sorted(self._asked)} were asked for and not told; tell them before optimize")
        self.close()  # an ask/tell session with nothing pending: optimize opens its own
        execution = ExecutionSettings(workers=workers, ray=ray)
        dispatcher = self._dispatcher(objective, execution)
        progress = self._progress_factory(self.settings.objective) if self._progress_factory else SilentProgress()
        try:
            with _Session(self, progress) as loop:
                scheduler = Scheduler(loop, dispatcher, Target(n_trials, budget_epochs))
                handle = StudyHandle(self.study_dir, self.settings, loop.store, scheduler.stop)
                scheduler.on_told.extend(_bound(fn, handle) for fn in callbacks)
                loop.store.set_target(n_trials, budget_epochs)
                scheduler.run()
                return best_trial(loop.store.trials(), self.settings.maximize)
        finally:
            dispatcher.close()
            close = getattr(progress, "close", None)
            if close is not None:
                close()

    def ask(self) -> ObjectiveTrial:
        """Start a trial for a loop of your own; end it with :meth:`tell`."""
        loop = self._ensure_open()
        spec = loop.ask()
        trial = ObjectiveTrial(spec, lambda epoch, logs: loop.record_epoch(spec.number, epoch, logs))
        self._asked[spec.number] = trial
        return trial

    def tell(self, trial: ObjectiveTrial | int, value: float | None = None, *,
             error: BaseException | str | None = None) -> Trial:
        """End a trial from :meth:`ask`: ``value`` is its objective (None: the last reported value of the
        study's objective), or ``error`` what it failed with."""
        number = trial if isinstance(trial, int) else getattr(trial, "number", None)
        if number not in self._asked:
            raise ConfigError(f"trial {number!r} was not asked for by this study object (or is already told)")
        loop = self._ensure_open()
        asked = self._asked.pop(number)
        outcome: TrainResult | BaseException
        if error is not None:
            outcome = error if isinstance(error, BaseException) else TrialFailed(f"trial {number}: {error}")
        else:
            try:
                outcome = asked.result(value, self.settings.objective)
            except (ConfigError, TrialFailed) as exc:
                outcome = exc
        return loop.tell(number, outcome)

    def enqueue_trial(self, params: dict[str, Any]) -> None:
        """Run ``params`` as the next trial (before any proposal); kept in the store until it runs."""
        if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
            raise ConfigError(f"enqueue_trial takes a dict of parameter values, got {params!r:.60}")
        if self._loop is not None:
            self._loop.store.set_meta("enqueued", [*self._loop.store.meta("enqueued", []), params])
            return
        with _Session(self, SilentProgress()) as loop:
            loop.store.set_meta("enqueued", [*loop.store.meta("enqueued", []), params])

    def close(self) -> None:
        """Release the study (the lock a loop of ask/tell holds); trials asked and not told stay running,
        and run again when the study resumes."""
        if self._open is not None:
            self._open.close()
        self._open, self._loop = None, None

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------
    @property
    def trials(self) -> list[Trial]:
        with self._reader() as store:
            return store.trials()

    @property
    def best_trial(self) -> Trial | None:
        return best_trial(self.trials, self.settings.maximize)

    @property
    def best_params(self) -> dict[str, Any] | None:
        best = self.best_trial
        return dict(best.params) if best is not None else None

    @property
    def best_value(self) -> float | None:
        best = self.best_trial
        return best.objective if best is not None else None

    def trials_dataframe(self) -> Any:
        """One row per trial: number, state, objective, ``params_*`` and the problems diagnosed (pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("trials_dataframe needs pandas: pip install pandas") from None

        rows = [{"number": t.number, "state": str(t.state), "value": t.objective,
                 "epochs": t.epochs_run, "stopped": t.stopped or None,
                 **{f"params_{name}": value for name, value in t.params.items()},
                 "problems": ", ".join(t.diagnosis.problems) if t.diagnosis else None} for t in self.trials]
        return pd.DataFrame(rows)

    # -- internals -------------------------------------------------------------
    def _stored(self, given: StudySettings) -> StudySettings:
        with StudyStore.open(self.study_dir, readonly=True) as store:
            store.check_readable()
            stored = stored_settings(store)
        differences = stored.differences(given)
        if differences:
            raise ConfigError(f"study {self.study_dir} was created with other settings (stored -> given: "
                              f"{'; '.join(differences)}); give what it was created with, or choose a new directory")
        return stored

    def _reader(self) -> StudyStore:
        if not StudyStore.exists(self.study_dir):
            raise ConfigError(f"study {self.study_dir} has no trials yet")
        return StudyStore.open(self.study_dir, readonly=True)

    def _create(self) -> None:
        settings, engine, task = self.settings, self._engine, self.task

        def init(store: StudyStore) -> None:
            store.set_data_info({"name": DEFINE_BY_RUN, "n_classes": task.n_classes,
                                 "task": "regression" if task.is_regression else "classification",
                                 "input_shape": list(task.input_shape), "define_by_run": True})
            store.add_tuning_version(SearchSpace.empty(), Architecture(), None, "declared by the objective")
            if engine is not None:
                store.save_weights(INITIAL_WEIGHTS_TRIAL, engine.rules.initial_weights)
            store.log_event("study_created", f"study created with settings {settings.to_dict()}")

        StudyStore.create(self.study_dir, settings.to_dict(), init).close()

    def _ensure_open(self) -> StudyLoop:
        if self._loop is None:
            stack = ExitStack()
            try:
                self._loop = stack.enter_context(_Session(self, SilentProgress()))
            except BaseException:
                stack.close()
                raise
            self._open = stack
        return self._loop

    def _dispatcher(self, objective: Callable[..., Any] | str, execution: ExecutionSettings) -> Dispatcher:
        metric = self.settings.objective
        if execution.in_process:
            function = objective if callable(objective) else ObjectiveFactory(objective, metric)().objective
            dispatcher: Dispatcher = InlineDispatcher(lambda *_: ObjectiveExecutor(function, metric))
        else:
            spec = objective if isinstance(objective, str) else setup.describe(objective)
            if spec.startswith("__main__:") or "<locals>" in spec or "<lambda>" in spec:
                raise ConfigError(f"with workers > 1, isolate or Ray the objective runs in worker processes, which import it: define "
                                  f"{spec.split(':')[-1].split('.')[-1]} at the top level of a module and give it (or its "
                                  "'module:function' spec), not a function of the script itself")
            ObjectiveFactory(spec, metric)()  # a spec that does not load fails here, before any trial
            dispatcher = start_dispatcher(execution, ObjectiveFactory(spec, metric))
        try:
            dispatcher.load(None, None, None)
        except BaseException:
            dispatcher.close()
            raise
        return dispatcher


class _Session:
    """The study opened for writing: its lock, store, journal and ask/tell loop, for one ``with``."""

    def __init__(self, study: Study, progress: Progress) -> None:
        self.study = study
        self.progress = progress
        self.stack = ExitStack()

    def __enter__(self) -> StudyLoop:
        study = self.study
        if self.study._open is not None:
            raise ConfigError("this study has trials asked for and not told; tell them or close() it first")
        try:
            study.study_dir.mkdir(parents=True, exist_ok=True)
            self.stack.enter_context(study_lock(study.study_dir))
            if not StudyStore.exists(study.study_dir):
                study._create()
            store = self.stack.enter_context(StudyStore.open(study.study_dir))
            journal = Journal(store, study.study_dir)
            self.stack.callback(journal.close)
            for number in store.mark_running_interrupted():
                journal.event("trial_interrupted", f"trial {number} was interrupted; it will run again", number)
            settings = study.settings
            advisor = Advisor(study._engine, ActionSettings(max_dense_layers=settings.max_dense_layers,
                                                            max_conv_blocks=settings.max_conv_blocks),
                              settings.maximize, settings.seed, settings.revert_after, study.task.conv_room) \
                if study._engine is not None else None
            return StudyLoop(store, journal, settings, study.task,
                             Proposer(make_optimizer(settings.optimizer, settings.n_initial)), advisor, self.progress,
                             study.study_dir, files=False)
        except BaseException:
            self.stack.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stack.close()


def _bound(callback: StudyCallback, handle: StudyHandle) -> Callable[[Trial], None]:
    return lambda trial: callback(handle, trial)


__all__ = ["Study", "create_study", "load_study"]
