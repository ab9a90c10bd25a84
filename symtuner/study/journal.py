"""A study's events: stored in its database and written to ``study.log`` in its directory."""

from __future__ import annotations

import logging
from pathlib import Path

from symtuner.storage import StudyStore
from symtuner.storage.layout import LOG_NAME


class Journal:
    """Logs one study's events to its store (the ``events`` table) and to its ``study.log``."""

    def __init__(self, store: StudyStore, study_dir: Path) -> None:
        self.store = store
        self.logger = logging.getLogger(f"symtuner.study.{study_dir.resolve()}")
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False
        handler = logging.FileHandler(study_dir / LOG_NAME, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        self.logger.addHandler(handler)

    def event(self, kind: str, message: str, trial: int | None) -> None:
        """Store the event and log its message."""
        self.store.log_event(kind, message, trial)
        self.logger.info(message)

    def info(self, message: str, *args: object) -> None:
        """Log a line that is not an event (``study.log`` only)."""
        self.logger.info(message, *args)

    def close(self) -> None:
        for handler in list(self.logger.handlers):
            handler.close()
            self.logger.removeHandler(handler)
