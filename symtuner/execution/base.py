"""The dispatcher protocol, the execution settings, and the in-process dispatcher."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from symtuner.core.contract import EpochSink, Outcome, WorkerLost
from symtuner.core.errors import ConfigError, DataError, TrialFailed


@dataclass(frozen=True)
class ExecutionSettings:
    """How trials run (not stored with the study: a study may be resumed with other settings).

    ``workers`` trials run at once. With ``ray`` unset and one worker they run
    in this process; with more, each in a fresh spawned process of a local
    pool. ``ray`` is ``"local"`` (a private Ray instance for the study's
    lifetime), ``"auto"`` or ``HOST:PORT`` (an existing cluster). A trial
    whose worker dies is rerun up to ``retries`` times. ``spare_workers``:
    pool workers started ahead of need (None: as many as there are cores
    the running trials leave free, see
    :func:`symtuner.execution.pool.spare_count`).
    """

    workers: int = 1
    threads_per_trial: int | None = None
    ray: str | None = None
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    retries: int = 2
    spare_workers: int | None = None

    def __post_init__(self) -> None:
        for name in ("workers",):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if self.threads_per_trial is not None and (isinstance(self.threads_per_trial, bool) or not isinstance(
                self.threads_per_trial, int) or self.threads_per_trial < 1):
            raise ConfigError(f"threads_per_trial must be a positive integer, got {self.threads_per_trial!r}")
        for name in ("retries", "spare_workers"):
            value = getattr(self, name)
            if value is None and name == "spare_workers":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name} must be a non-negative integer, got {value!r}")
        for name in ("cpus_per_trial", "gpus_per_trial"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1e6:
                raise ConfigError(f"{name} must be a non-negative number, got {value!r}")
        if self.cpus_per_trial <= 0:
            raise ConfigError(f"cpus_per_trial must be above 0, got {self.cpus_per_trial!r}")
        if self.ray is not None and (not isinstance(self.ray, str) or not self.ray.strip()):
            raise ConfigError(f"ray must be 'local', 'auto' or HOST:PORT, got {self.ray!r}")

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "[execution]") -> ExecutionSettings:
        from symtuner.core.fields import check_known_keys

        check_known_keys(cls, data, f"keys in {where}")
        return cls(**data)


class Dispatcher(Protocol):
    """Runs trials; the loop submits up to ``capacity`` at once and waits for them.

    A dispatcher starts its workers when it is made (:func:`start_dispatcher`),
    before the study's data set is loaded, so that their start overlaps the
    loading; :meth:`load` then gives it the data set, the network and the
    training config, before any ``check`` or ``submit``.
    """

    capacity: int

    def load(self, dataset: Any, network: Any, config: Any) -> None:
        """Take the study's data set, network (a function or a spec string) and training config."""
        ...

    def check(self, space: Any, architecture: Any) -> None:
        """Raise ConfigError when a trial cannot run (before a study is created)."""
        ...

    def submit(self, spec: Any) -> None: ...

    def wait(self, on_epoch: EpochSink, timeout: float) -> list[Outcome]:
        """Hand every epoch reported meanwhile to ``on_epoch``; return the trials that finished
        (possibly none, after ``timeout`` seconds)."""
        ...

    def cancel(self) -> None:
        """Stop every running trial (Ctrl-C)."""
        ...

    def close(self) -> None: ...


class InlineDispatcher:
    """One trial at a time, in this process, through an executor's ``run`` (today's loop)."""

    capacity = 1

    def __init__(self, executor_factory: Callable[..., Any] | None = None) -> None:
        self._factory = executor_factory
        self.executor: Any = None
        self._pending: list[Any] = []

    def load(self, dataset: Any, network: Any, config: Any) -> None:
        from symtuner.execution.inprocess import InProcessExecutor
        from symtuner.execution.worker import resolve_network

        factory = self._factory or InProcessExecutor
        self.executor = factory(dataset, resolve_network(network, dataset.is_regression), config)

    def check(self, space: Any, architecture: Any) -> None:
        check = getattr(self.executor, "check", None)
        if check is not None:
            check(space, architecture)

    def submit(self, spec: Any) -> None:
        if self._pending:
            raise RuntimeError("the inline dispatcher runs one trial at a time")
        self._pending.append(spec)

    def wait(self, on_epoch: EpochSink, timeout: float) -> list[Outcome]:
        if not self._pending:
            return []
        spec = self._pending.pop()
        try:
            result = self.executor.run(spec, on_epoch=lambda epoch, logs: on_epoch(spec.number, epoch, logs))
        except (TrialFailed, ConfigError, DataError, WorkerLost) as exc:
            return [(spec.number, exc)]
        return [(spec.number, result)]

    def cancel(self) -> None:
        self._pending.clear()

    def close(self) -> None:
        close = getattr(self.executor, "close", None)
        if close is not None:
            close()


def start_dispatcher(execution: ExecutionSettings, executor_factory: Callable[..., Any] | None = None) -> Any:
    """The dispatcher ``execution`` asks for, its workers starting: a private Ray instance (or the
    connection to a cluster) and its first worker processes, or the local pool's spare workers. Call its
    ``load`` with the study's data set before using it."""
    if execution.ray is not None:
        from symtuner.execution.ray_tasks import RayDispatcher

        return RayDispatcher(execution, executor_factory)
    if execution.workers > 1:
        from symtuner.execution.pool import PoolDispatcher

        return PoolDispatcher(execution, executor_factory)
    return InlineDispatcher(executor_factory)


def check_can_load(execution: ExecutionSettings, dataset: Any) -> None:
    """A streamed data set (tf.data pipelines, PyDatasets) trains in this process only: its pipelines
    cannot be sent to other processes."""
    if getattr(dataset, "streamed", False) and (execution.ray is not None or execution.workers > 1):
        where = f"--ray {execution.ray}" if execution.ray is not None else f"--workers {execution.workers}"
        raise ConfigError(f"{dataset.name} is a streamed data set (tf.data or PyDataset), which trains in this "
                          f"process only: its pipelines cannot be sent to worker processes; run it without "
                          f"{where}")


def make_dispatcher(execution: ExecutionSettings, dataset: Any, network: Any, config: Any,
                    executor_factory: Callable[..., Any] | None) -> Any:
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
