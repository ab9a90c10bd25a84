"""A local pool: each trial in a fresh worker process, up to ``workers`` at once.

A fresh process per trial means no TensorFlow state (graphs, memory, thread
pools) leaks from one trial into the next. Workers are started with
``python -m symtuner.execution.pool_worker`` (not with multiprocessing's
spawn, which would import the user's main script again in every worker and
needs an ``if __name__ == "__main__"`` guard there). Each worker talks to the
driver over its own socket pair: it receives its trial, sends every epoch and
its result, and reads a stop request; it exits as soon as the driver dies.
The data set and its validation split are written once to a temporary
directory that every worker maps from disk; the directory of a driver that
was killed is removed when the next pool starts.
Spare workers (up to ``MAX_SPARES``) are started ahead of need (the first
ones while the study's data set loads) and import Keras while they wait, so that a worker's start-up overlaps the running
trials instead of delaying the next one; that only pays where the running
trials leave cores free (:func:`spare_count`): on a machine they keep busy,
a spare importing TensorFlow takes its CPU from them.
A worker that dies without a result (killed, out of memory) is reported as
:class:`~symtuner.execution.base.WorkerLost`, with the last line it wrote
to stderr.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from symtuner.core.contract import EpochSink, Outcome, WorkerLost
from symtuner.core.execution import ExecutionSettings
from symtuner.execution.worker import Work, check_picklable, check_work, rebuild_error, save_split


@dataclass
class _Running:
    process: subprocess.Popen[bytes]
    conn: Connection
    log: Path
    stopped: bool = False


#: Most worker processes kept started ahead of need (each holds a loaded TensorFlow).
MAX_SPARES = 4


def spare_count(execution: ExecutionSettings, preload: bool, cores: int | None = None) -> int:
    """How many workers to keep started ahead of need.

    ``execution.spare_workers`` when given (at most :data:`MAX_SPARES`).
    Otherwise one per worker (at most :data:`MAX_SPARES`) when the workers
    import no Keras (a stand-in trainer: a spare costs a Python start-up);
    for Keras trials only as many as there are cores the running trials
    leave free. Importing TensorFlow takes several CPU-seconds on about one
    core, so on a machine whose cores the trials use (``threads_per_trial``
    unset: TensorFlow takes every core) a spare would slow the running trials
    by as much as it saves the next one; with GPUs doing the training, give
    ``spare_workers``.
    """
    if execution.spare_workers is not None:
        return min(execution.spare_workers, MAX_SPARES)
    wanted = min(execution.workers, MAX_SPARES)
    if not preload:
        return wanted
    if execution.threads_per_trial is None:
        return 0
    free = (cores if cores is not None else os.cpu_count() or 1) - execution.workers * execution.threads_per_trial
    return max(0, min(wanted, free))


#: The temporary directory of a pool's data set copy and worker logs, and the file naming its driver.
POOL_PREFIX, DRIVER_FILE = "symtuner-pool-", "driver.pid"
#: Seconds after which a pool directory without a driver file (being made, or older) counts as left over.
ORPHAN_SECONDS = 3600.0


def remove_orphans(where: Path | None = None) -> list[Path]:
    """Remove the pool directories whose driver has died (a killed study leaves its data set copy);
    returns them. Another user's, or a live driver's, are left alone."""
    import time

    removed = []
    for directory in Path(where or tempfile.gettempdir()).glob(POOL_PREFIX + "*"):
        try:
            pid = int((directory / DRIVER_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pid = None
        try:
            if (_alive(pid) if pid is not None else time.time() - directory.stat().st_mtime < ORPHAN_SECONDS):
                continue
            shutil.rmtree(directory)
        except OSError:
            continue
        removed.append(directory)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class PoolDispatcher:
    """Runs up to ``execution.workers`` trials at once, each in a fresh worker process."""

    def __init__(self, execution: ExecutionSettings, executor_factory: Any = None) -> None:
        if executor_factory is not None:
            check_picklable(executor_factory, "the executor factory")
        self.capacity = execution.workers
        self._execution = execution
        self._factory = executor_factory
        self._dataset: Any = None
        self._loaded = False
        self._network: Any = None
        self._config: Any = None
        self._running: dict[int, _Running] = {}
        self._spares: list[_Running] = []
        self._started = 0
        remove_orphans()
        self._dir = Path(tempfile.mkdtemp(prefix=POOL_PREFIX))
        (self._dir / DRIVER_FILE).write_text(str(os.getpid()), encoding="utf-8")
        # started before the data set is loaded: their start (and their Keras import) overlaps the loading
        self._spare_count = spare_count(execution, preload=executor_factory is None)
        self._fill_spares()

    def load(self, dataset: Any, network: Any, config: Any) -> None:
        """Write the data set and its validation split once, for every worker to map from disk."""
        self._loaded = True
        self._network, self._config = network, config
        if dataset is None:  # a trainer that needs no data set of the study's (a define-by-run objective)
            return
        check_picklable(network, "the network function")
        check_picklable(getattr(config, "callbacks", None), "the callbacks")
        from symtuner.training.splits import split_validation

        save_split(self._dir / "data", dataset, split_validation(dataset, config.validation_split,
                                                                 config.split_seed))
        self._dataset = dataset

    def check(self, space: Any, architecture: Any) -> None:
        check_work(self._network, space, architecture, self._dataset, self._config, self._factory)

    def submit(self, spec: Any) -> None:
        if not self._loaded:
            raise RuntimeError("load the data set before submitting trials")
        if len(self._running) >= self.capacity:
            raise RuntimeError("every worker is busy")
        work = Work(spec, self._network, self._config, self._execution.threads_per_trial, self._factory)
        worker = self._spare()
        worker.conn.send((work, str(self._dir / "data") if self._dataset is not None else None))
        self._running[spec.number] = worker
        self._fill_spares()

    def _fill_spares(self) -> None:
        while len(self._spares) < self._spare_count:
            self._spares.append(self._start_worker())

    def _spare(self) -> _Running:
        """A started worker waiting for its trial (a fresh one if none is alive)."""
        while self._spares:
            worker = self._spares.pop(0)
            if worker.process.poll() is None:
                return worker
            worker.conn.close()
        return self._start_worker()

    def _start_worker(self) -> _Running:
        ours, theirs = socket.socketpair()
        self._started += 1
        log = self._dir / f"worker_{self._started:04d}.stderr"
        env = dict(os.environ)
        threads = self._execution.threads_per_trial
        if threads is not None:
            for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
                env[name] = str(threads)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        with open(log, "wb") as err:
            preload = [] if self._factory is not None else ["--preload-keras"]
            process = subprocess.Popen([sys.executable, "-m", "symtuner.execution.pool_worker",
                                        str(theirs.fileno()), *preload], pass_fds=[theirs.fileno()],
                                       stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=os.getcwd())
        theirs.close()
        return _Running(process, Connection(ours.detach()), log)

    def wait(self, on_epoch: EpochSink, timeout: float) -> list[Outcome]:
        done: list[Outcome] = []
        by_conn = {id(r.conn): (n, r) for n, r in self._running.items()}
        for conn in wait([r.conn for r in self._running.values()], timeout=timeout):
            number, running = by_conn[id(conn)]
            outcome = self._read(number, running, on_epoch)
            if outcome is not None:
                done.append((number, outcome))
                self._end(number)
        return done

    def _read(self, number: int, running: _Running, on_epoch: EpochSink) -> Any:
        """Handle every message waiting on one worker's connection; its outcome once it has one."""
        conn = running.conn
        while True:
            try:
                if not conn.poll():
                    return None
                message = conn.recv()
            except (EOFError, OSError):
                code = running.process.wait()
                return WorkerLost(f"trial {number}: its worker process died (exit code {code}{self._last_words(running)})")
            kind = message[0]
            if kind == "epoch":
                if on_epoch(number, message[1], message[2]) and not running.stopped:
                    running.stopped = True
                    try:
                        conn.send(("stop",))
                    except OSError:
                        pass
            elif kind == "result":
                return message[1]
            else:
                return rebuild_error(message[1], message[2])

    @staticmethod
    def _last_words(running: _Running) -> str:
        try:
            lines = [line for line in running.log.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return ""
        return f"; its last words: {lines[-1][:300]}" if lines else ""

    def _end(self, number: int) -> None:
        running = self._running.pop(number)
        running.conn.close()
        try:
            running.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait()

    def cancel(self) -> None:
        self._stop(list(self._running.values()))
        self._running.clear()

    def close(self) -> None:
        self.cancel()
        self._stop(self._spares)
        self._spares.clear()
        shutil.rmtree(self._dir, ignore_errors=True)

    @staticmethod
    def _stop(workers: list[_Running]) -> None:
        for worker in workers:
            worker.process.terminate()
        for worker in workers:
            try:
                worker.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
            worker.conn.close()
