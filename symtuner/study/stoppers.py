"""What may stop a running trial after an epoch: a pruner from the registry (``median``,
``hyperband``, or one a user registered), else symbolic early stopping (the rules' ``stop/1``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from symtuner.core.records import LearningCurve
from symtuner.core.settings import StudySettings
from symtuner.search.pruners import StopperContext, make_stopper
from symtuner.study.task import TaskInfo
from symtuner.symbolic.engine import SymbolicEngine
from symtuner.symbolic.stopping import SymbolicStopper

#: Called with the curve so far after every epoch; returns why to stop ("" to go on).
Stopper = Callable[[LearningCurve], str]


def choose_stopper(settings: StudySettings, engine: SymbolicEngine | None, task: TaskInfo, best: float | None,
                   finished: Sequence[LearningCurve], loss_scale: float | None) -> Stopper | None:
    """The stopper of the next trial: the pruner ``settings.pruner`` names (fed the objective's curve of
    every ``finished`` trial), else the symbolic one when the study has rules and ``stop_early``."""
    if settings.pruner != "none":
        context = StopperContext(objective=settings.objective, maximize=settings.maximize, epochs=settings.epochs,
                                 finished_curves=tuple(tuple(c.series(settings.objective)) for c in finished),
                                 extra={})
        return make_stopper(settings.pruner, context)
    if engine is None or not settings.stop_early:
        return None
    return SymbolicStopper(engine, task.n_classes or None, settings.epochs, best, settings.objective,
                           settings.maximize, loss_scale=loss_scale)
