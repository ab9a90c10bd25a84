"""Persistence: the SQLite study store, the only shared state of a study."""

from symtuner.storage.sqlite import (
    DB_NAME,
    INITIAL_WEIGHTS_TRIAL,
    SCHEMA_VERSION,
    ActionRecord,
    Event,
    StudyStore,
    TuningVersion,
    Verdict,
)

__all__ = ["StudyStore", "TuningVersion", "ActionRecord", "Event", "Verdict", "INITIAL_WEIGHTS_TRIAL",
           "SCHEMA_VERSION", "DB_NAME"]
