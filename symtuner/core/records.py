"""Plain, frozen records passed between the parts of symtuner.

They hold data only; storage turns them into rows and back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from symtuner.core.architecture import Architecture
from symtuner.core.errors import ConfigError
from symtuner.core.space import SearchSpace

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
    """Per-epoch training and validation loss and accuracy of one training.

    ``metrics`` holds every other series the training logged (``val_auc``,
    ``mae``, ...), by its Keras log name, each as long as ``loss``.
    """

    loss: tuple[float, ...]
    accuracy: tuple[float, ...]
    val_loss: tuple[float, ...]
    val_accuracy: tuple[float, ...]
    metrics: dict[str, tuple[float, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key in CURVE_KEYS:
            object.__setattr__(self, key, tuple(_as_float(v) for v in getattr(self, key)))
        if not isinstance(self.metrics, dict):
            raise ConfigError(f"a curve's other metrics must be a mapping of series, got {self.metrics!r:.80}")
        object.__setattr__(self, "metrics", {str(k): tuple(_as_float(v) for v in values)
                                             for k, values in self.metrics.items() if k not in CURVE_KEYS})
        lengths = {key: len(getattr(self, key)) for key in CURVE_KEYS}
        present = {length for key, length in lengths.items() if key == "loss" or length}
        if len(present) != 1:
            raise ConfigError(f"learning-curve series have different lengths: {lengths}")
        bad = {key: len(values) for key, values in self.metrics.items() if len(values) != self.n_epochs}
        if bad:
            raise ConfigError(f"learning-curve metric series {bad} are not {self.n_epochs} epochs long")

    def series(self, name: str) -> tuple[float, ...]:
        """The series logged as ``name`` (``val_accuracy``, ``val_auc``, ...); empty when not logged."""
        if name in CURVE_KEYS:
            return tuple(getattr(self, name))
        return self.metrics.get(name, ())

    def epoch(self, index: int) -> dict[str, float]:
        """Every series' value at epoch ``index`` (0-based), as Keras logs them; absent series left out."""
        out = {key: getattr(self, key)[index] for key in CURVE_KEYS if getattr(self, key)}
        return out | {key: values[index] for key, values in self.metrics.items()}

    @classmethod
    def from_epochs(cls, epochs: list[dict[str, Any]]) -> LearningCurve:
        """From one logs dict per epoch (missing values are NaN; a series absent in every epoch is empty)."""
        names = list(dict.fromkeys(key for logs in epochs for key in logs))
        series = {key: tuple(logs.get(key) for logs in epochs) for key in names}
        base: dict[str, tuple[Any, ...]] = {}
        for key in CURVE_KEYS:
            values = series.pop(key, ())
            base[key] = values if any(v is not None for v in values) else ()
        if not base["loss"]:
            base["loss"] = tuple(math.nan for _ in epochs)
        return cls(**base, metrics={k: tuple(_as_float(v) for v in values) for k, values in series.items()})

    @property
    def n_epochs(self) -> int:
        return len(self.loss)

    @classmethod
    def from_history(cls, history: dict[str, Any]) -> LearningCurve:
        """From a Keras ``History.history`` dict with canonical keys (``acc`` aliases accepted).

        Only ``loss`` is required; a missing accuracy or validation series is
        an empty one (see ``symtuner.integrations.histories.normalise_series`` for other
        Keras metric names and percent accuracies).
        """
        if not isinstance(history, dict):
            raise ConfigError(f"a history must be a JSON object of series, got {type(history).__name__}")
        aliases = {"accuracy": ("accuracy", "acc"), "val_accuracy": ("val_accuracy", "val_acc"),
                   "loss": ("loss",), "val_loss": ("val_loss",)}
        series: dict[str, list[Any]] = {}
        for key, names in aliases.items():
            found = next((history[n] for n in names if n in history), None)
            if found is None:
                if key == "loss":
                    raise ConfigError(f"history lacks the series 'loss' (has {sorted(history)})")
                found = []
            if not isinstance(found, list):
                raise ConfigError(f"history series {key!r} must be a list, got {found!r}")
            for epoch, value in enumerate(found, start=1):
                if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                    raise ConfigError(f"history series {key!r} holds {value!r} at epoch {epoch}; "
                                      f"expected numbers")
            series[key] = found
        return cls(tuple(series["loss"]), tuple(series["accuracy"]), tuple(series["val_loss"]),
                   tuple(series["val_accuracy"]))

    def truncated(self, epochs: int) -> LearningCurve:
        """The curve of the first ``epochs`` epochs (what was known at the end of that epoch)."""
        if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= self.n_epochs:
            raise ConfigError(f"epochs must be an integer in 1..{self.n_epochs}, got {epochs!r}")
        return LearningCurve(self.loss[:epochs], self.accuracy[:epochs], self.val_loss[:epochs],
                             self.val_accuracy[:epochs], metrics={key: values[:epochs] for key, values in self.metrics.items()})

    def to_dict(self) -> dict[str, list[float | None]]:
        """JSON-safe form, the other metrics next to the four series: NaN and infinities become ``None``."""
        series = {key: getattr(self, key) for key in CURVE_KEYS} | self.metrics
        return {key: [v if math.isfinite(v) else None for v in values] for key, values in series.items()}


@dataclass(frozen=True)
class ChosenAction:
    """A tuning action picked for a problem, with the rule's probability."""

    name: str
    problem: str
    probability: float


@dataclass(frozen=True)
class Reason:
    """Why a problem holds: the rules' reason term and its formatted text."""

    term: str
    text: str


@dataclass(frozen=True)
class Diagnosis:
    """What the symbolic component concluded about one trial, and why.

    ``problems`` lists every problem the curves show (symptoms and causes);
    ``causes`` maps a symptom to the diagnosed problem that explains it;
    ``deferred`` maps a problem set aside to the contradictory one acted on
    first; ``reasons`` gives, per problem, the reasons the rules derived;
    ``notes`` are remarks such as "too short to judge".
    """

    facts: dict[str, float]
    problems: tuple[str, ...]
    actions: tuple[ChosenAction, ...]
    explanation: str
    skipped: tuple[str, ...] = ()
    causes: dict[str, str] = field(default_factory=dict)
    deferred: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, tuple[Reason, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "problems": list(self.problems),
            "causes": dict(self.causes),
            "deferred": dict(self.deferred),
            "actions": [{"name": a.name, "problem": a.problem, "probability": a.probability}
                        for a in self.actions],
            "reasons": {problem: [{"term": r.term, "text": r.text} for r in reasons]
                        for problem, reasons in self.reasons.items()},
            "notes": list(self.notes),
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
            causes=dict(data.get("causes", {})),
            deferred=dict(data.get("deferred", {})),
            reasons={problem: tuple(Reason(str(r["term"]), str(r["text"])) for r in reasons)
                     for problem, reasons in data.get("reasons", {}).items()},
            notes=tuple(data.get("notes", [])),
        )


class TrialState(str, Enum):
    """The states a trial goes through (their values are what the store holds)."""

    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    INTERRUPTED = "interrupted"

    def __str__(self) -> str:
        return self.value

    @property
    def is_finished(self) -> bool:
        """Complete or failed: the trial counts towards the study's target (an interrupted one reruns)."""
        return self in (TrialState.COMPLETE, TrialState.FAILED)


@dataclass(frozen=True)
class Trial:
    """One training of one network with one set of hyper-parameters."""

    number: int
    state: TrialState
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

    def __post_init__(self) -> None:
        if not isinstance(self.state, TrialState):
            try:
                object.__setattr__(self, "state", TrialState(self.state))
            except ValueError:
                raise ConfigError(f"unknown trial state {self.state!r}; one of "
                                  f"{[s.value for s in TrialState]}") from None

    @property
    def is_complete(self) -> bool:
        return self.state == TrialState.COMPLETE

    @property
    def is_finished(self) -> bool:
        """Complete or failed (see :attr:`TrialState.is_finished`): it counts towards the study's target,
        unless it only keeps the number of a trial whose row a repair could not read (:attr:`lost`)."""
        return self.state.is_finished and not self.lost

    @property
    def lost(self) -> bool:
        """Whether this row only keeps the number of a trial whose row ``doctor --repair`` could not read."""
        return bool(self.extra.get("lost"))

    # What the loop records of a trial beside its scores (stored in ``extra``), typed.
    @property
    def retry_of(self) -> int | None:
        """The trial this one reruns (an interrupted one), or None for a first run."""
        value = self.extra.get("retry_of")
        return None if value is None else int(value)

    @property
    def seed(self) -> int | None:
        """The seed the trial trained with."""
        value = self.extra.get("seed")
        return None if value is None else int(value)

    @property
    def epochs_run(self) -> int:
        """Epochs the trial trained (0 before it finished)."""
        return int(self.extra.get("epochs_run") or 0)

    @property
    def stopped(self) -> str:
        """Why the trial was stopped early ("" when it ran all its epochs)."""
        return str(self.extra.get("stopped") or "")

    @property
    def infeasible(self) -> bool:
        """Whether the trial's network is over a hard limit of the study (:mod:`symtuner.core.costs`)."""
        return bool(self.extra.get("infeasible"))


@dataclass(frozen=True)
class TuningVersion:
    """One version of the search space and architecture."""

    version: int
    space: SearchSpace
    architecture: Architecture
    after_trial: int | None
    reason: str
    created_at: float


@dataclass(frozen=True)
class ActionRecord:
    """A tuning action chosen after a trial, applied or not."""

    trial: int
    name: str
    problem: str
    probability: float
    applied: bool
    detail: str


@dataclass(frozen=True)
class Verdict:
    """What the trials after a change said about it: ``kept``, ``reverted``, ``undecided``, ``withdrawn``
    or ``ignored`` (see :mod:`symtuner.tuning.hypotheses`).

    ``version`` is the version the change created; a revert restores
    ``restored_version`` in the new version ``restored_by``.
    """

    version: int
    verdict: str
    after_trial: int
    reason: str
    restored_version: int | None
    restored_by: int | None


@dataclass(frozen=True)
class Event:
    time: float
    trial: int | None
    kind: str
    message: str
