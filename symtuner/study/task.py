"""What the loop knows of a study's data: read once from the data set, plain values afterwards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from symtuner.core.architecture import Architecture
from symtuner.core.records import Trial
from symtuner.core.settings import StudySettings
from symtuner.training.builder import max_conv_blocks
from symtuner.training.splits import fitted_samples
from symtuner.tuning.view import TaskFacts


@dataclass(frozen=True)
class TaskInfo:
    """A study's data set as the loop sees it (no arrays)."""

    name: str
    n_classes: int
    is_regression: bool
    input_shape: tuple[int, ...]
    #: samples a trial fits on per epoch (None when unknown)
    n_train: int | None
    #: the mean squared error of predicting the training mean (a regression's loss unit)
    loss_baseline: float | None

    @classmethod
    def of(cls, dataset: Any, validation_split: float) -> TaskInfo:
        return cls(dataset.name, dataset.n_classes, dataset.is_regression, tuple(dataset.input_shape),
                   fitted_samples(dataset, validation_split), dataset.loss_baseline)

    def loss_scale(self, trials: Sequence[Trial]) -> float | None:
        """The unit of the diagnosis's loss thresholds: a regression's baseline when its trials train
        with symtuner's loss; None otherwise, which means ln(n_classes) for a classifier and the first
        epoch's loss for a regression of the user's own loss."""
        own_loss = not any(t.extra.get("own_loss") is False for t in trials)
        return self.loss_baseline if self.is_regression and own_loss else None

    def facts(self, trials: Sequence[Trial], settings: StudySettings) -> TaskFacts:
        """What the step after a trial must know of the task."""
        return TaskFacts(self.n_classes or None, len(self.input_shape) == 3, self.n_train, settings.epochs,
                         self.loss_scale(trials), settings.limits)

    def conv_room(self, architecture: Architecture) -> int:
        """How many conv blocks the input still has room for under ``architecture`` (none but for images)."""
        return max_conv_blocks(self.input_shape, architecture) if len(self.input_shape) == 3 else 0
