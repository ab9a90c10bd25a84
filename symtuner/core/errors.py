"""Exceptions symtuner raises. User-facing ones name the bad value."""


class SymtunerError(Exception):
    """Base class of symtuner's own errors."""


class ConfigError(SymtunerError, ValueError):
    """Bad user input: a search space, a config file, an option value."""


class DataError(SymtunerError, ValueError):
    """A data set that cannot be trained on (shapes, labels, emptiness)."""


class RulesError(SymtunerError, ValueError):
    """A rules file that does not parse or lacks required predicates."""


class StudyError(SymtunerError):
    """A study directory that is not a study, or a store in a bad state."""


class TrialFailed(SymtunerError):
    """A trial could not be trained; the study goes on without it."""


class DamagedStoreError(StudyError):
    """A study database that is damaged: the message names the damage and how to recover."""

    def __init__(self, directory: object, problem: str) -> None:
        self.directory = directory
        self.problem = problem
        super().__init__(f"the study database {directory}/study.db is damaged: {problem}; "
                         f"check it with 'symtuner doctor {directory}' (it can export the completed "
                         "trials and repair what can be repaired)")
