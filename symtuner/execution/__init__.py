"""Where trials run: in this process, in a local pool of worker processes, or as Ray tasks.

The tuning loop talks to a :class:`~symtuner.execution.base.Dispatcher`,
started before the data set is loaded and then given it (``load``):
``submit`` a trial, ``wait`` for whichever finishes first (per-epoch metrics
are handed to the loop as they arrive), ``cancel`` the running ones. The
loop stays the only writer of the study store.
"""

from symtuner.core.contract import EpochSink, Outcome, TrainResult, TrialSpec, WorkerLost
from symtuner.execution.base import (
    Dispatcher,
    ExecutionSettings,
    InlineDispatcher,
    make_dispatcher,
    start_dispatcher,
)

__all__ = ["EpochSink", "Outcome", "TrainResult", "TrialSpec", "Dispatcher", "ExecutionSettings", "InlineDispatcher", "WorkerLost", "make_dispatcher", "start_dispatcher"]
