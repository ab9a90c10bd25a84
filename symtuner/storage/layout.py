"""The names of everything in a study directory, in one place.

Paths stored in the database are relative to the study directory; they are
joined to it exactly once, by the functions here, whatever directory (relative
or absolute) the reader was given.
"""

from __future__ import annotations

from pathlib import Path

#: The study database (SQLite, WAL mode) and its side files.
DB_NAME = "study.db"
DB_SIDE_FILES = (DB_NAME + "-wal", DB_NAME + "-shm")
#: A study database still being created (a killed creation leaves it; it is replaced).
PARTIAL_DB = DB_NAME + ".partial"
#: The copy of a damaged database that a repair keeps, and a repair's work in progress.
DAMAGED_DB = DB_NAME + ".damaged"
REPAIRED_DB = DB_NAME + ".repaired"
#: The study's event log (plain text).
LOG_NAME = "study.log"
#: The lock held by the one process that writes the study.
LOCK_NAME = ".lock"
#: Saved models, one file per trial, and TensorBoard logs, one directory per trial.
MODELS_DIR = "models"
LOGS_DIR = "logs"

#: Every file symtuner writes at the top of a study directory.
STUDY_FILES = (DB_NAME, *DB_SIDE_FILES, LOG_NAME, LOCK_NAME, DAMAGED_DB, PARTIAL_DB, REPAIRED_DB)
#: Every directory symtuner writes in a study directory.
STUDY_DIRS = (MODELS_DIR, LOGS_DIR)


def model_file(study_dir: Path, number: int) -> Path:
    """Where trial ``number``'s trained model is saved."""
    return study_dir / MODELS_DIR / f"trial_{number:04d}.keras"


def log_dir(study_dir: Path, number: int) -> Path:
    """Where trial ``number``'s TensorBoard logs are written."""
    return study_dir / LOGS_DIR / f"trial_{number:04d}"


def in_study(study_dir: Path, stored: str | None) -> Path | None:
    """A path as stored (relative to the study directory, or absolute from older studies) joined to
    ``study_dir`` once."""
    if not stored:
        return None
    path = Path(stored)
    return path if path.is_absolute() else study_dir / path
