"""Values as the study store keeps them: numbers, JSON, file paths, and rows decoded into records.

A value that cannot be read is a damaged store
(:class:`~symtuner.core.errors.DamagedStoreError`) naming what it was.
"""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import Any

from symtuner.core.architecture import Architecture
from symtuner.core.errors import DamagedStoreError, SymtunerError
from symtuner.core.records import Diagnosis, LearningCurve, Trial, TuningVersion
from symtuner.core.space import SearchSpace


def num(value: Any) -> float | None:
    """A float for SQLite; NaN and infinities are stored as NULL."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def decode(text: Any, what: str, directory: Path, kind: type = object) -> Any:
    """A JSON value read from the store; a malformed one is a damaged store naming ``what``."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        raise DamagedStoreError(directory, f"{what} is not valid JSON ({str(text)[:40]!r})") from None
    if not isinstance(value, kind):
        raise DamagedStoreError(directory, f"{what} is a {type(value).__name__}, not a {kind.__name__}")
    return value


def tuning_from_row(row: sqlite3.Row, directory: Path = Path(".")) -> TuningVersion:
    what = f"tuning version {row['version']}"
    try:
        return TuningVersion(row["version"],
                             SearchSpace.from_dict(decode(row["space"], f"the space of {what}", directory, dict)),
                             Architecture.from_dict(decode(row["architecture"], f"the architecture of {what}",
                                                            directory, dict)),
                             row["after_trial"], row["reason"], row["created_at"])
    except (SymtunerError, TypeError, ValueError, KeyError) as exc:
        if isinstance(exc, DamagedStoreError):
            raise
        raise DamagedStoreError(directory, f"{what} cannot be read: {exc}") from None


def trial_from_row(row: sqlite3.Row, curve: LearningCurve | None, directory: Path = Path(".")) -> Trial:
    what = f"trial {row['number']}"
    try:
        return _trial_fields(row, curve, directory, what)
    except (SymtunerError, TypeError, ValueError, KeyError) as exc:
        if isinstance(exc, DamagedStoreError):
            raise
        raise DamagedStoreError(directory, f"{what} cannot be read: {exc}") from None


def _trial_fields(row: sqlite3.Row, curve: LearningCurve | None, directory: Path, what: str) -> Trial:
    diagnosis = Diagnosis.from_dict(decode(row["diagnosis"], f"the diagnosis of {what}", directory, dict)) \
        if row["diagnosis"] else None
    extra = decode(row["extra"], f"the extra data of {what}", directory, dict)
    return Trial(
        number=row["number"], state=row["state"],
        params=decode(row["params"], f"the params of {what}", directory, dict),
        tuning_version=row["tuning_version"], objective=row["objective"],
        val_accuracy=row["val_accuracy"], test_loss=row["test_loss"],
        test_accuracy=row["test_accuracy"], curve=curve, started_at=row["started_at"],
        finished_at=row["finished_at"], train_seconds=row["train_seconds"],
        model_path=in_study(directory, row["model_path"]), log_dir=in_study(directory, row["log_dir"]),
        error=row["error"],
        diagnosis=diagnosis, extra={**extra, "val_loss": row["val_loss"],
                                    "epochs_run": row["epochs_run"]},
    )


def relative_to_study(directory: Path, path: str) -> str:
    """A file of the study as stored: relative to the study directory, so a study can be moved."""
    try:
        return Path(path).resolve().relative_to(Path(directory).resolve()).as_posix()
    except ValueError:  # outside the study directory: kept as given
        return path


def in_study(directory: Path, stored: str | None) -> str | None:
    """A stored file path as a path to use: a relative one is inside the study directory.

    Studies written before paths were stored relative to the study hold
    absolute paths, or paths relative to the directory the study was run
    from; those are returned as stored when they do not name a file of the study.
    """
    if not stored or Path(stored).is_absolute():
        return stored
    inside = Path(directory) / stored
    return str(inside) if inside.exists() or not Path(stored).exists() else stored
