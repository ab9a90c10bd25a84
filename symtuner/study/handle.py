"""What a study callback sees: ``fn(study, trial)`` is called after every stored trial, as Optuna's
``study.optimize(callbacks=...)`` does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from symtuner.core.records import Trial
from symtuner.core.settings import StudySettings
from symtuner.storage import StudyStore
from symtuner.tuning.view import best_trial


class StudyHandle:
    """A running study as its callbacks see it: its trials and best trial (read from the store, so
    always current), its settings, and :meth:`stop`."""

    def __init__(self, study_dir: Path, settings: StudySettings, store: StudyStore, stop: Any) -> None:
        self.study_dir = study_dir
        self.settings = settings
        self._store = store
        self._stop = stop

    @property
    def trials(self) -> list[Trial]:
        """Every trial of the study, oldest first."""
        return self._store.trials()

    @property
    def best_trial(self) -> Trial | None:
        """The complete trial with the best objective (None before the first)."""
        return best_trial(self._store.trials(with_curves=False), self.settings.maximize)

    @property
    def best_params(self) -> dict[str, Any] | None:
        best = self.best_trial
        return dict(best.params) if best is not None else None

    def stop(self) -> None:
        """Start no further trial: the running ones finish and are stored, then ``run`` returns."""
        self._stop()
