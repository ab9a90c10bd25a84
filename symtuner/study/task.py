"""What the loop knows of a study's data: read once from the data set, plain values afterwards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

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
    #: samples a trial's objective is measured on (None when unknown)
    n_val: int | None = None
    #: a classification's most frequent class's share of the training data (None when unknown)
    majority: float | None = None

    @classmethod
    def of(cls, dataset: Any, validation_split: float) -> TaskInfo:
        return cls(dataset.name, dataset.n_classes, dataset.is_regression, tuple(dataset.input_shape),
                   fitted_samples(dataset, validation_split), dataset.loss_baseline,
                   validation_samples(dataset, validation_split), majority_share(dataset))

    def loss_scale(self, trials: Sequence[Trial]) -> float | None:
        """The unit of the diagnosis's loss thresholds: a regression's baseline when its trials train
        with symtuner's loss; None otherwise, which means ln(n_classes) for a classifier and the first
        epoch's loss for a regression of the user's own loss."""
        own_loss = not any(t.extra.get("own_loss") is False for t in trials)
        return self.loss_baseline if self.is_regression and own_loss else None

    def facts(self, trials: Sequence[Trial], settings: StudySettings) -> TaskFacts:
        """What the step after a trial must know of the task."""
        return TaskFacts(self.n_classes or None, len(self.input_shape) == 3, self.n_train, settings.epochs,
                         self.loss_scale(trials), settings.limits, settings.objective, self.n_val, self.majority)

    def conv_room(self, architecture: Architecture) -> int:
        """How many conv blocks the input still has room for under ``architecture`` (none but for images)."""
        return max_conv_blocks(self.input_shape, architecture) if len(self.input_shape) == 3 else 0


def validation_samples(dataset: Any, fraction: float) -> int | None:
    """Samples a trial validates on: the held-out ``fraction`` of an in-memory training set (as
    :func:`~symtuner.training.splits.split_validation` holds it out), or of a streamed one carved from
    its training set (approximately); None for a streamed set with its own validation set or of unknown
    size."""
    n_train = getattr(dataset, "n_train", None)
    if n_train is None or getattr(dataset, "validation", None) is not None:
        return None
    n_val = int(round(n_train * fraction))
    return n_val if 1 <= n_val < n_train else None


def majority_share(dataset: Any) -> float | None:
    """The most frequent class's share of an in-memory classification's training labels (None for a
    regression or a streamed set): the accuracy of always guessing it, which a stratified validation
    split shares."""
    labels = getattr(dataset, "y_train", None)
    if dataset.is_regression or labels is None or getattr(dataset, "streamed", False):
        return None
    try:
        counts = np.bincount(np.asarray(labels, dtype=np.int64).ravel())
    except (TypeError, ValueError):  # labels that are not class indices: no chance level from them
        return None
    return float(counts.max() / counts.sum()) if counts.size and counts.sum() else None
