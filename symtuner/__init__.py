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
    "create_study": "symtuner.tuner",
    "load_study": "symtuner.tuner",
    "Study": "symtuner.study.define",
    "ExecutionSettings": "symtuner.execution",
    "StudySettings": "symtuner.core.settings",
    "load_config": "symtuner.core.settings",
    "SearchSpace": "symtuner.core.space",
    "Integer": "symtuner.core.space",
    "Real": "symtuner.core.space",
    "Categorical": "symtuner.core.space",
    "default_space": "symtuner.core.space",
    "Architecture": "symtuner.core.architecture",
    "StudyStore": "symtuner.storage",
    "load_dataset": "symtuner.data",
    "Dataset": "symtuner.data",
    "load_model": "symtuner.storage.models",
    "best_models": "symtuner.storage.models",
    "export_model": "symtuner.storage.models",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'symtuner' has no attribute {name!r}")
