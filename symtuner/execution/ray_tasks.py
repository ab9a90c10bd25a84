"""Ray: each trial a Ray task, on this machine (``local``) or on an existing cluster.

``ray="local"`` starts a private Ray instance for the study's lifetime and
stops it at the end; ``"auto"`` or ``HOST:PORT`` joins a running cluster
(``ray.init(address=...)``), which the study leaves running. The data set
and its validation split go to Ray's object store once (``ray.put``); each
task asks for ``cpus_per_trial`` CPUs and ``gpus_per_trial`` GPUs. Epochs
and stop requests travel through one small actor. A task whose worker or
node dies is reported as :class:`~symtuner.execution.base.WorkerLost`.
Ray is an optional dependency: ``pip install "symbolic-dnn-tuner[ray]"``.
"""

from __future__ import annotations

import os
import time
from typing import Any

from symtuner.core.contract import EpochSink, Outcome, WorkerLost
from symtuner.core.errors import ConfigError, TrialFailed
from symtuner.core.execution import ExecutionSettings
from symtuner.execution.worker import Work, check_work, run_work, set_threads


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("Ray is not installed; install it with: pip install \"symbolic-dnn-tuner[ray]\"") from None
    return ray


#: Environment variables ``ray.init`` sets in the driver's process (put back when the study ends).
RAY_ENVIRON = ("RAY_AUTH_MODE", "RAY_USAGE_STATS_ENABLED", "PYTHONBREAKPOINT", "RAY_ADDRESS")

#: Seconds to wait for a TCP connection to a cluster's head before giving up.
CONNECT_TIMEOUT = 5.0


#: The opening of an HTTP/2 connection (what gRPC, Ray's protocol, speaks) with an empty SETTINGS frame.
_HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])


def _check_reachable(address: str) -> None:
    """``HOST:PORT`` must accept a TCP connection and answer as a gRPC server does (Ray's head does);
    Ray itself retries for minutes against anything else."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ConfigError(f"Ray address {address!r} must be 'local', 'auto' or HOST:PORT")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT) as sock:
            answer = _http2_answer(sock)
    except OSError as exc:
        raise ConfigError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc} (is 'ray start "
                          f"--head' running there, and is the port open?)") from None
    if len(answer) < 9 or answer[3] != 4:  # a server's first frame is its SETTINGS (type 4)
        said = f"it answered {answer[:24]!r}" if answer else f"it sent nothing in {CONNECT_TIMEOUT:g} s"
        raise ConfigError(f"the server at {address} is not a Ray head ({said}); give the address 'ray start "
                          "--head' printed (its GCS port, 6379 by default)")


def _http2_answer(sock: Any) -> bytes:
    """The first bytes a server sends back to an HTTP/2 opening (b'' if it sends none in time or closes)."""

    sock.settimeout(CONNECT_TIMEOUT)
    try:
        sock.sendall(_HTTP2_PREFACE)
        answer = b""
        while len(answer) < 9:
            chunk = sock.recv(9 - len(answer))
            if not chunk:
                break
            answer += chunk
    except (TimeoutError, ConnectionError):
        return b""
    return answer


def _start_local(ray: Any, execution: ExecutionSettings) -> None:
    """A private Ray instance whose servers listen on 127.0.0.1 only: Ray binds every interface unless
    its node address is the loopback one, which it takes where it runs without clusters."""
    constants = getattr(getattr(ray, "_private", None), "ray_constants", None)
    clusters = getattr(constants, "ENABLE_RAY_CLUSTER", None)
    if clusters is not None:
        constants.ENABLE_RAY_CLUSTER = False  # type: ignore[union-attr]
    try:
        ray.init(address="local",  # a new instance, even where 'ray start' runs one on this machine
                 num_cpus=max(execution.workers * execution.cpus_per_trial, 1), include_dashboard=False,
                 log_to_driver=False, logging_level="ERROR", configure_logging=True,
                 _node_ip_address="127.0.0.1")
    finally:
        if clusters is not None:
            constants.ENABLE_RAY_CLUSTER = clusters  # type: ignore[union-attr]


def _check_resources(ray: Any, execution: ExecutionSettings, address: str) -> None:
    """One trial must fit the cluster's CPUs and GPUs, or its task would wait for them for ever."""
    total = ray.cluster_resources()
    for name, option, wanted in (("GPU", "gpus_per_trial", execution.gpus_per_trial),
                                 ("CPU", "cpus_per_trial", execution.cpus_per_trial)):
        have = float(total.get(name, 0.0))
        if wanted > have:
            where = "this machine" if address == "local" else f"the Ray cluster at {address}"
            raise ConfigError(f"each trial asks Ray for {wanted:g} {name}(s) ({option}), but {where} has "
                              f"{have:g}; no trial could ever start: lower {option}"
                              + (" or run where GPUs are" if name == "GPU" else ""))


def _wants_token(exc: BaseException) -> bool:
    """Whether Ray refused the connection for want of an authentication token."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if "Authentication" in type(seen).__name__ or "InvalidAuthToken" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class _Channel:
    """The actor between tasks and the driver: epochs reported, stops requested."""

    def __init__(self) -> None:
        self.epochs: list[tuple[int, int, dict[str, float]]] = []
        self.stopped: set[int] = set()

    def report(self, number: int, epoch: int, logs: dict[str, float]) -> None:
        self.epochs.append((number, epoch, logs))

    def drain(self) -> list[tuple[int, int, dict[str, float]]]:
        out, self.epochs = self.epochs, []
        return out

    def stop(self, number: int) -> None:
        self.stopped.add(number)

    def should_stop(self, number: int) -> bool:
        return number in self.stopped


def _ray_trial(work: Work, data: Any, channel: Any) -> Any:
    """The Ray task: train one trial on the data from the object store."""
    import ray

    set_threads(work.threads)
    dataset, split = data
    number = work.spec.number
    return run_work(work, dataset, split,
                    lambda epoch, logs: channel.report.remote(number, epoch, logs),
                    lambda: bool(ray.get(channel.should_stop.remote(number))))


def _warm_up(keras: bool) -> None:
    """Start a Ray worker ahead of the first trials and import what a trial needs (Keras too, unless the
    trials use a stand-in trainer)."""
    import symtuner.training.training  # noqa: F401

    if keras:
        from symtuner.training.quiet import import_keras_quietly

        import_keras_quietly()


class RayDispatcher:
    """Runs up to ``execution.workers`` trials at once as Ray tasks."""

    def __init__(self, execution: ExecutionSettings, executor_factory: Any = None) -> None:
        ray = _import_ray()
        self._ray = ray
        self.capacity = execution.workers
        self._execution = execution
        self._factory = executor_factory
        self._dataset: Any = None
        self._loaded = False
        self._network: Any = None
        self._config: Any = None
        address = execution.ray or "local"
        if address not in ("local", "auto"):
            _check_reachable(address)
        # what ray.init sets in this process's environment (token authentication, ...), put back at close:
        # a private instance gone, a later connection to a cluster must not inherit it
        self._environ = {name: os.environ.get(name) for name in RAY_ENVIRON}
        try:
            if address == "local":
                _start_local(ray, execution)
            else:
                ray.init(address=address, log_to_driver=False, logging_level="ERROR")
        except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError, ...
            if _wants_token(exc):
                raise ConfigError(f"the Ray cluster at {address} wants token authentication (what 'ray start' "
                                  "enables by default): export RAY_AUTH_MODE=token, and RAY_AUTH_TOKEN unless "
                                  "~/.ray/auth_token holds the cluster's token, then run again") from None
            raise ConfigError(f"cannot reach the Ray cluster at {address!r}: {type(exc).__name__}: "
                              f"{' '.join(str(exc).split())[:300]}") from None
        try:
            _check_resources(ray, execution, address)
        except ConfigError:
            self._shutdown()
            raise
        # a Ray worker's first task costs about half a second (the worker starting, importing what a trial
        # needs); these start as many workers as trials will run, while the study's data set loads
        warm = ray.remote(num_cpus=execution.cpus_per_trial, num_gpus=execution.gpus_per_trial)(_warm_up)
        self._warming = [warm.remote(executor_factory is None) for _ in range(self.capacity)]
        self._refs: dict[Any, int] = {}

    def load(self, dataset: Any, network: Any, config: Any) -> None:
        """Put the data set and its validation split in Ray's object store, once for every task."""
        ray = self._ray
        if dataset is None:  # a trainer that needs no data set of the study's (a define-by-run objective)
            self._data = ray.put((None, None))
        else:
            from symtuner.training.splits import split_validation

            self._data = ray.put((dataset, split_validation(dataset, config.validation_split, config.split_seed)))
        self._channel = ray.remote(num_cpus=0)(_Channel).remote()
        self._task = ray.remote(num_cpus=self._execution.cpus_per_trial, num_gpus=self._execution.gpus_per_trial,
                                max_retries=0)(_ray_trial)
        self._dataset, self._network, self._config = dataset, network, config
        self._loaded = True

    def check(self, space: Any, architecture: Any) -> None:
        check_work(self._network, space, architecture, self._dataset, self._config, self._factory)

    def submit(self, spec: Any) -> None:
        if not self._loaded:
            raise RuntimeError("load the data set before submitting trials")
        work = Work(spec, self._network, self._config, self._execution.threads_per_trial, self._factory)
        self._refs[self._task.remote(work, self._data, self._channel)] = spec.number

    def wait(self, on_epoch: EpochSink, timeout: float) -> list[Outcome]:
        ray = self._ray
        deadline = time.monotonic() + timeout
        while True:
            ready: list[Any] = []
            if self._refs:
                ready, _ = ray.wait(list(self._refs), num_returns=1, timeout=max(0.0, min(0.1, deadline -
                                                                                           time.monotonic())))
            for number, epoch, logs in ray.get(self._channel.drain.remote()):
                if number in self._refs.values() and on_epoch(number, epoch, logs):
                    self._channel.stop.remote(number)
            done = [self._outcome(ref) for ref in ready]
            if done or time.monotonic() >= deadline or not self._refs:
                return done

    def _outcome(self, ref: Any) -> Outcome:
        ray = self._ray
        number = self._refs.pop(ref)
        try:
            return number, ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, (ConfigError, TrialFailed)):
                return number, cause
            return number, TrialFailed(f"trial {number}: {type(cause or exc).__name__}: {cause or exc}")
        except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
                ray.exceptions.ObjectLostError, ray.exceptions.TaskCancelledError) as exc:
            return number, WorkerLost(f"trial {number}: its Ray worker was lost ({type(exc).__name__})")
        except ray.exceptions.RayError as exc:
            return number, WorkerLost(f"trial {number}: Ray failed ({type(exc).__name__}: {exc})")

    def cancel(self) -> None:
        for ref in list(self._refs):
            self._ray.cancel(ref, force=True)
        self._refs.clear()

    def close(self) -> None:
        """Cancel what still runs and disconnect (a private instance stops; a cluster keeps running)."""
        self.cancel()
        self._shutdown()

    def _shutdown(self) -> None:
        """Disconnect from Ray and put back the environment variables ``ray.init`` set."""
        self._ray.shutdown()
        for name, value in self._environ.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
