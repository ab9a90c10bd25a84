"""The worker process of the local pool: ``python -m symtuner.execution.pool_worker FD [--preload-keras]``.

It reads its trial from the connection on file descriptor ``FD``, trains it,
sends every epoch and then its result (or its error), and stops early when
the driver sends a stop request. It exits as soon as the driver dies.
"""

from __future__ import annotations

import sys
from multiprocessing.connection import Connection
from pathlib import Path

from symtuner.execution.worker import error_message, load_split, run_work, set_threads

#: Seconds between two looks at whether the driver is still alive.
WATCH_SECONDS = 0.5


def exit_with_the_driver(driver: int) -> None:
    """End this process as soon as the driver (its parent, ``driver``) dies, whatever it is doing: a
    killed driver leaves no worker training for nobody (its trial reruns when the study resumes)."""
    import os
    import threading
    import time

    def watch() -> None:
        while os.getppid() == driver:
            time.sleep(WATCH_SECONDS)
        os._exit(3)

    threading.Thread(target=watch, name="driver-watch", daemon=True).start()


def main(fd: int, preload_keras: bool = False) -> int:
    import os
    import signal

    # Ctrl-C in a terminal reaches every process of the group: the driver decides (it waits for trials that
    # have trained all their epochs, and stops the others), so a worker evaluating or saving one finishes it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_the_driver(os.getppid())
    import symtuner.training.training  # noqa: F401 (imported while waiting for a trial: a spare worker is warm)

    if preload_keras:
        from symtuner.training.quiet import import_keras_quietly

        import_keras_quietly()

    conn = Connection(fd)
    try:
        work, data_dir = conn.recv()
    except EOFError:  # a spare worker the driver no longer needs
        return 0
    set_threads(work.threads)
    stop = False

    def report(epoch: int, logs: dict[str, float]) -> None:
        conn.send(("epoch", epoch, logs))

    def should_stop() -> bool:
        nonlocal stop
        while not stop and conn.poll():
            stop = conn.recv()[0] == "stop"
        return stop

    try:
        dataset, split = load_split(Path(data_dir)) if data_dir is not None else (None, None)
        result = run_work(work, dataset, split, report, should_stop)
    except BaseException as exc:  # everything goes back to the driver
        conn.send(("error", *error_message(exc)))
        return 1
    conn.send(("result", result))
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), "--preload-keras" in sys.argv[2:]))
