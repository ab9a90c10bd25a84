"""What the loop tells whoever displays it (a progress bar, plain lines, nothing)."""

from __future__ import annotations

from typing import Any, Protocol

from symtuner.core.records import Trial
from symtuner.tuning.advisor import Advice


class Progress(Protocol):
    """Receives what the loop does, for display."""

    def trial_started(self, number: int, index: int, total: int, params: dict[str, Any]) -> None: ...

    def epoch_finished(self, number: int, epoch: int, epochs: int, logs: dict[str, float]) -> None: ...

    def trial_finished(self, trial: Trial, best: Trial | None, advice: Advice | None) -> None: ...

    def trial_failed(self, number: int, error: str) -> None: ...

    # Optional, called when present: ``study_started(target_trials, budget_epochs, epochs, finished,
    # epochs_used)`` once a run starts, ``set_objective(name)``, ``trial_retried(number, error)`` for a
    # trial whose worker was lost and that runs again (``trial_failed`` otherwise), and ``close()`` when
    # it ends.


class SilentProgress:
    """A Progress that shows nothing."""

    def trial_started(self, number: int, index: int, total: int, params: dict[str, Any]) -> None:
        pass

    def epoch_finished(self, number: int, epoch: int, epochs: int, logs: dict[str, float]) -> None:
        pass

    def trial_finished(self, trial: Trial, best: Trial | None, advice: Advice | None) -> None:
        pass

    def trial_failed(self, number: int, error: str) -> None:
        pass

    def trial_retried(self, number: int, error: str) -> None:
        pass

    def study_started(self, target_trials: int | None, budget_epochs: int | None, epochs: int, finished: int,
                      epochs_used: int) -> None:
        pass

    def close(self) -> None:
        pass
