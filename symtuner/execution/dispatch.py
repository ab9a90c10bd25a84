"""The dispatcher a study's execution settings ask for: in this process, a local pool, or Ray."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from symtuner.core.errors import ConfigError
from symtuner.core.execution import ExecutionSettings
from symtuner.execution.base import Dispatcher, InlineDispatcher
from symtuner.execution.pool import PoolDispatcher
from symtuner.execution.ray_tasks import RayDispatcher


def start_dispatcher(execution: ExecutionSettings, executor_factory: Callable[..., Any] | None = None) -> Dispatcher:
    """The dispatcher ``execution`` asks for, its workers starting: a private Ray instance (or the
    connection to a cluster) and its first worker processes, or the local pool's spare workers. Call its
    ``load`` with the study's data set before using it."""
    if execution.ray is not None:
        return RayDispatcher(execution, executor_factory)
    if not execution.in_process:
        return PoolDispatcher(execution, executor_factory)
    return InlineDispatcher(executor_factory)


def check_can_load(execution: ExecutionSettings, dataset: Any) -> None:
    """A streamed data set (tf.data pipelines, PyDatasets) trains in this process only: its pipelines
    cannot be sent to other processes."""
    if getattr(dataset, "streamed", False) and not execution.in_process:
        where = (f"--ray {execution.ray}" if execution.ray is not None
                 else f"--workers {execution.workers}" if execution.workers > 1 else "--isolate")
        raise ConfigError(f"{dataset.name} is a streamed data set (tf.data or PyDataset), which trains in this "
                          f"process only: its pipelines cannot be sent to worker processes; run it without "
                          f"{where}")


def make_dispatcher(execution: ExecutionSettings, dataset: Any, network: Any, config: Any,
                    executor_factory: Callable[..., Any] | None) -> Dispatcher:
    """The dispatcher ``execution`` asks for, loaded with ``dataset``; ``network`` is the function or its
    spec string (:func:`start_dispatcher`, then ``load``)."""
    check_can_load(execution, dataset)
    dispatcher = start_dispatcher(execution, executor_factory)
    try:
        dispatcher.load(dataset, network, config)
    except BaseException:
        dispatcher.close()
        raise
    return dispatcher
