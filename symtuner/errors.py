"""The exceptions symtuner raises, at their public path (defined in :mod:`symtuner.core.errors`)."""

from symtuner.core.errors import (
    ConfigError,
    DamagedStoreError,
    DataError,
    RulesError,
    StudyError,
    SymtunerError,
    TrialFailed,
)

__all__ = ["ConfigError", "DamagedStoreError", "DataError", "RulesError", "StudyError", "SymtunerError",
           "TrialFailed"]
