"""What the after-trial step reads of a study: one read-only view, built by the loop from the store."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from symtuner.core.records import ActionRecord, Trial, TuningVersion, Verdict


@dataclass(frozen=True)
class TaskFacts:
    """What the actions and the diagnosis must know of the task and its training.

    ``n_classes`` is None for a regression; ``n_train`` is the number of
    samples an epoch trains on; ``loss_scale`` is the unit of the loss
    thresholds (see :func:`symtuner.symbolic.facts.curve_facts`). The
    verdicts on changes read the noise of the objective from the last three
    (:mod:`symtuner.tuning.noise`); each is None when unknown.
    """

    n_classes: int | None
    image_input: bool
    n_train: int | None
    epochs: int
    loss_scale: float | None = None
    #: cost name -> the study's limit on it (``symtuner.core.costs``; empty: no limit)
    limits: Mapping[str, float] = field(default_factory=dict)
    #: the study's objective (``val_accuracy``, ``val_loss``, ...)
    objective: str | None = None
    #: the number of validation samples a trial's objective is measured on
    n_val: int | None = None
    #: the share of the most frequent class in the training data (a classification's chance level)
    majority: float | None = None


@dataclass(frozen=True)
class StudyView:
    """A study as the step after one of its trials sees it: every trial (the one just finished among
    them, complete and with its curve), every tuning version, the verdicts so far and the action records."""

    trials: tuple[Trial, ...]
    versions: tuple[TuningVersion, ...]
    verdicts: Mapping[int, Verdict]
    actions: tuple[ActionRecord, ...]
    task: TaskFacts

    @property
    def latest(self) -> TuningVersion:
        """The tuning version in force (the newest)."""
        return max(self.versions, key=lambda v: v.version)


def best_trial(trials: Sequence[Trial], maximize: bool) -> Trial | None:
    """The complete trial with the best finite objective (earliest on ties).

    A diverged trial (a NaN or infinite ``val_loss``) is never the best, whatever the direction, nor is
    one over a hard limit of the study (:mod:`symtuner.core.costs`).
    """
    done = [t for t in trials if t.is_complete and t.objective is not None and math.isfinite(t.objective)
            and not t.infeasible]
    if not done:
        return None
    sign = 1.0 if maximize else -1.0
    return max(done, key=lambda t: (sign * float(t.objective), -t.number))  # type: ignore[arg-type]
