"""Where trials run. In this process for now; the Protocol lets other runners plug in."""

from __future__ import annotations

from typing import Protocol

from symtuner.core.architecture import Architecture
from symtuner.core.space import SearchSpace
from symtuner.data.dataset import Dataset
from symtuner.training.builder import NetworkFn
from symtuner.training.splits import split_validation
from symtuner.training.training import (
    EpochCallback,
    TrainingConfig,
    TrainResult,
    TrialSpec,
    check_before_study,
    train_trial,
)


class Executor(Protocol):
    """Runs one trial and returns its result (or raises TrialFailed / ConfigError)."""

    def run(self, spec: TrialSpec, on_epoch: EpochCallback | None = None) -> TrainResult: ...


class InProcessExecutor:
    """Trains each trial in this process, on one validation split made up front (arrays, or streamed
    batches for a :class:`~symtuner.data.streams.StreamedDataset`)."""

    def __init__(self, dataset: Dataset, network_fn: NetworkFn, config: TrainingConfig | None = None) -> None:
        self.dataset = dataset
        self.network_fn = network_fn
        self.config = config or TrainingConfig()
        self._split = split_validation(dataset, self.config.validation_split, self.config.split_seed)

    def check(self, space: SearchSpace, architecture: Architecture) -> None:
        """Raise ConfigError when the space, the network or the data cannot make a trial."""
        check_before_study(self.network_fn, space, architecture, self.dataset, self._split,
                           self.config.metrics, self.config.objective)

    def run(self, spec: TrialSpec, on_epoch: EpochCallback | None = None) -> TrainResult:
        return train_trial(spec, self.dataset, self.network_fn, self.config, on_epoch, split=self._split)
