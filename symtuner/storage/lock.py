"""The study lock: one writing process per study directory."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from symtuner.core.errors import StudyError
from symtuner.storage.layout import LOCK_NAME


@contextmanager
def study_lock(study_dir: Path, doing: str = "run") -> Iterator[None]:
    """Hold the study's lock (the directory is created if needed); a killed holder releases it by dying."""
    study_dir = Path(study_dir)
    if study_dir.exists() and not study_dir.is_dir():
        raise StudyError(f"study directory {study_dir} is a file")
    study_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(study_dir / LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StudyError(f"study {study_dir} is being run by another process; cannot {doing} it now") from None
        yield
    finally:
        os.close(fd)


def writer_running(study_dir: Path) -> bool:
    """Whether a process holds the study's lock now (a run, a resume, a repair); read-only, creates nothing.

    A trial the store holds as ``running`` while no process holds the lock
    is the trial of a process that was killed (``kill -9``, a power cut): the
    next run marks it interrupted and runs it again.
    """
    try:
        fd = os.open(Path(study_dir) / LOCK_NAME, os.O_RDONLY)
    except OSError:  # no lock file: no run ever took it (or the directory cannot be read)
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing the only descriptor releases a shared lock taken here
    return False
