"""Where trials run: in this process, in a local pool of worker processes, or as Ray tasks.

The tuning loop talks to a :class:`~symtuner.execution.base.Dispatcher`,
started before the data set is loaded and then given it (``load``):
``submit`` a trial, ``wait`` for whichever finishes first (per-epoch metrics
are handed to the loop as they arrive), ``cancel`` the running ones. The
loop stays the only writer of the study store. The messages between the loop
and the workers are the plain values of :mod:`symtuner.core.contract`.
"""

from symtuner.core.contract import EpochSink, Outcome, TrainResult, TrialSpec, WorkerLost
from symtuner.core.execution import ExecutionSettings
from symtuner.execution.base import Dispatcher, InlineDispatcher
from symtuner.execution.dispatch import check_can_load, make_dispatcher, start_dispatcher

__all__ = ["Dispatcher", "EpochSink", "ExecutionSettings", "InlineDispatcher", "Outcome", "TrainResult", "TrialSpec",
           "WorkerLost", "check_can_load", "make_dispatcher", "start_dispatcher"]
