"""symtuner: Bayesian optimisation of deep networks, steered by ProbLog diagnosis of learning curves.

The public API is imported lazily, so ``import symtuner`` (and the CLI) start
fast; Keras and ProbLog load only when a study needs them.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Tuner": "symtuner.tuner",
    "ExecutionSettings": "symtuner.execution",
    "StudySettings": "symtuner.settings",
    "load_config": "symtuner.settings",
    "SearchSpace": "symtuner.space",
    "Integer": "symtuner.space",
    "Real": "symtuner.space",
    "Categorical": "symtuner.space",
    "default_space": "symtuner.space",
    "Architecture": "symtuner.architecture",
    "StudyStore": "symtuner.storage",
    "load_dataset": "symtuner.data",
    "Dataset": "symtuner.data",
    "load_model": "symtuner.models",
    "best_models": "symtuner.models",
    "export_model": "symtuner.models",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'symtuner' has no attribute {name!r}")
