"""The dispatcher protocol, the execution settings, and the in-process dispatcher."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from symtuner.core.contract import EpochSink, Outcome, WorkerLost
from symtuner.core.errors import ConfigError, DataError, TrialFailed


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

        factory: Callable[..., Any] = self._factory or InProcessExecutor
        if dataset is None:  # a trainer that needs no data set of the study's (a define-by-run objective)
            self.executor = factory(None, None, config)
            return
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
