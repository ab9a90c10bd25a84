"""Plain, frozen records passed between the parts of symtuner.

They hold data only; storage turns them into rows and back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from symtuner.errors import ConfigError

CURVE_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")

#: The problems the symbolic component can diagnose (paper Table 1).
PROBLEMS = ("overfitting", "underfitting", "increasing_loss", "fluctuating_loss", "low_lr", "high_lr")


def _as_float(value: Any) -> float:
    """A plain float; ``None`` (JSON's stand-in for NaN) becomes NaN."""
    if value is None:
        return math.nan
    return float(value)


@dataclass(frozen=True)
class LearningCurve:
    """Per-epoch training and validation loss and accuracy of one training."""

    loss: tuple[float, ...]
    accuracy: tuple[float, ...]
    val_loss: tuple[float, ...]
    val_accuracy: tuple[float, ...]

    def __post_init__(self) -> None:
        for key in CURVE_KEYS:
            object.__setattr__(self, key, tuple(_as_float(v) for v in getattr(self, key)))
        lengths = {key: len(getattr(self, key)) for key in CURVE_KEYS}
        if len(set(lengths.values())) != 1:
            raise ConfigError(f"learning-curve series have different lengths: {lengths}")

    @property
    def n_epochs(self) -> int:
        return len(self.loss)

    @classmethod
    def from_history(cls, history: dict[str, Any]) -> LearningCurve:
        """From a Keras ``History.history`` dict (``acc`` aliases accepted)."""
        if not isinstance(history, dict):
            raise ConfigError(f"a history must be a JSON object of series, got {type(history).__name__}")
        aliases = {"accuracy": ("accuracy", "acc"), "val_accuracy": ("val_accuracy", "val_acc"),
                   "loss": ("loss",), "val_loss": ("val_loss",)}
        series: dict[str, list[Any]] = {}
        for key, names in aliases.items():
            found = next((history[n] for n in names if n in history), None)
            if found is None:
                raise ConfigError(f"history lacks the series {key!r} (has {sorted(history)})")
            if not isinstance(found, list):
                raise ConfigError(f"history series {key!r} must be a list, got {found!r}")
            series[key] = found
        return cls(**{k: tuple(v) for k, v in series.items()})

    def to_dict(self) -> dict[str, list[float | None]]:
        """JSON-safe form: NaN and infinities become ``None``."""
        return {key: [v if math.isfinite(v) else None for v in getattr(self, key)] for key in CURVE_KEYS}


@dataclass(frozen=True)
class ChosenAction:
    """A tuning action picked for a problem, with the rule's probability."""

    name: str
    problem: str
    probability: float


@dataclass(frozen=True)
class Diagnosis:
    """What the symbolic component concluded about one trial, and why."""

    facts: dict[str, float]
    problems: tuple[str, ...]
    actions: tuple[ChosenAction, ...]
    explanation: str
    skipped: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "problems": list(self.problems),
            "actions": [{"name": a.name, "problem": a.problem, "probability": a.probability}
                        for a in self.actions],
            "facts": {k: (v if isinstance(v, float) and math.isfinite(v) else
                          (None if isinstance(v, float) else v)) for k, v in self.facts.items()},
            "explanation": self.explanation,
            "skipped": list(self.skipped),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Diagnosis:
        return cls(
            facts={k: (math.nan if v is None else v) for k, v in data.get("facts", {}).items()},
            problems=tuple(data.get("problems", [])),
            actions=tuple(ChosenAction(a["name"], a["problem"], float(a["probability"]))
                          for a in data.get("actions", [])),
            explanation=data.get("explanation", ""),
            skipped=tuple(data.get("skipped", [])),
        )


class TrialState:
    """The states a trial goes through (strings, as stored)."""

    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class Trial:
    """One training of one network with one set of hyper-parameters."""

    number: int
    state: str
    params: dict[str, Any]
    tuning_version: int
    objective: float | None = None
    val_accuracy: float | None = None
    test_loss: float | None = None
    test_accuracy: float | None = None
    curve: LearningCurve | None = None
    started_at: float | None = None
    finished_at: float | None = None
    train_seconds: float | None = None
    model_path: str | None = None
    log_dir: str | None = None
    error: str | None = None
    diagnosis: Diagnosis | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_complete(self) -> bool:
        return self.state == TrialState.COMPLETE
