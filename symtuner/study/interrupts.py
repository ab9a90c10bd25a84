"""Holding Ctrl-C and SIGTERM while a finished trial is stored, so that its training is never thrown away."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: The signals that stop a study (Ctrl-C, and SIGTERM as ``symtuner`` handles it).
STOPPING = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Run the block with Ctrl-C and SIGTERM held; one that came meanwhile is delivered when the block
    ends, to the handler that was in place (which stops the study as it would have).

    A finished trial's step (diagnosis, actions, one store transaction) is short; interrupted in its
    middle, the trial would be left running and its training done again. Signals are only handled in
    the main thread, so elsewhere the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, frame: Any) -> None:
        received.append(signum)

    previous: dict[int, Any] = {}
    for stopping in STOPPING:
        try:
            previous[stopping] = signal.signal(stopping, hold)
        except (ValueError, OSError):  # not settable here
            continue
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)
        if received:
            _deliver(received[0], previous.get(received[0]))


def _deliver(number: int, handler: Any) -> None:
    """What signal ``number`` would have done under ``handler``."""
    if callable(handler):
        handler(number, None)
    elif handler != signal.SIG_IGN:  # the default action (SIGTERM ends the process)
        os.kill(os.getpid(), number)
