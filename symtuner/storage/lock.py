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
