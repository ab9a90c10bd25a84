"""The Keras side: architecture -> model, training, and where trials run.

Importing this package does not import Keras; building or training does.
The layer helpers for user networks live in :mod:`symtuner.neural.blocks`,
the model inspection in :mod:`symtuner.neural.checks` (both import Keras).
"""

from symtuner.neural.builder import NetworkFn, build_default_network, conv_blocks_fit, max_conv_blocks
from symtuner.neural.executor import Executor, InProcessExecutor
from symtuner.neural.training import (
    OPTIMIZERS,
    TrainingConfig,
    TrainResult,
    TrialSpec,
    ValidationSplit,
    split_validation,
    train_trial,
)

__all__ = [
    "OPTIMIZERS",
    "Executor",
    "InProcessExecutor",
    "NetworkFn",
    "TrainResult",
    "TrainingConfig",
    "TrialSpec",
    "ValidationSplit",
    "build_default_network",
    "conv_blocks_fit",
    "max_conv_blocks",
    "split_validation",
    "train_trial",
]
