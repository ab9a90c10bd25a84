"""The Keras side: architecture -> model, compiling, training, saving.

Importing this package does not import Keras; building or training does.
The layer helpers for user networks live in :mod:`symtuner.training.blocks`,
the model inspection in :mod:`symtuner.training.checks` (both import Keras).
"""

from symtuner.core.contract import TrainResult, TrialSpec
from symtuner.training.builder import NetworkFn, build_default_network, conv_blocks_fit, max_conv_blocks
from symtuner.training.splits import StreamedSplit, ValidationSplit, split_validation
from symtuner.training.training import OPTIMIZERS, TrainingConfig, train_trial

__all__ = [
    "OPTIMIZERS",
    "NetworkFn",
    "StreamedSplit",
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
