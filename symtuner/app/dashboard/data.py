"""What the dashboard and the report show, read from the study store.

A :class:`StudySnapshot` is one read-only look at a study; everything drawn
is computed from it by pure functions, so the live app and the offline
report show the same things.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from symtuner.core.errors import StudyError
from symtuner.core.records import Trial, TrialState
from symtuner.storage import DB_NAME, ActionRecord, StudyStore, TuningVersion, Verdict

#: Dropdown value meaning "the running trial, or else the best one (else the newest)".
LATEST = "latest"
#: Dropdown value meaning "the best complete trial".
BEST = "best"


@dataclass(frozen=True)
class StudySnapshot:
    """Everything the dashboard shows, read at one moment."""

    directory: Path
    settings: dict[str, Any]
    versions: tuple[TuningVersion, ...]
    trials: tuple[Trial, ...]
    actions: tuple[ActionRecord, ...]
    weights: dict[int, dict[tuple[str, str], float]]
    verdicts: dict[int, Verdict] = field(default_factory=dict)
    #: what the study knows of its data (``n_classes``, ``task``, ...)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def objective(self) -> str:
        """Name of the metric the study optimises."""
        return str(self.settings.get("objective", "val_accuracy"))

    @property
    def maximize(self) -> bool:
        """Whether the objective is maximised, as the study's settings say (True when they cannot tell)."""
        from symtuner.core.errors import ConfigError
        from symtuner.core.metrics import objective_direction

        try:
            return objective_direction(self.objective, str(self.settings.get("direction", "auto")))
        except ConfigError:
            return True

    @property
    def planned_epochs(self) -> int | None:
        """Epochs each trial is set to train for (early stopping may end one sooner)."""
        epochs = self.settings.get("epochs")
        return epochs if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs > 0 else None

    def running(self) -> tuple[Trial, ...]:
        """The trials training now (several when the study runs trials in parallel)."""
        return tuple(t for t in self.trials if t.state == TrialState.RUNNING)

    def trial(self, number: int) -> Trial | None:
        return next((t for t in self.trials if t.number == number), None)

    def best(self) -> Trial | None:
        """The complete trial with the best objective (never one over a hard limit), or ``None``."""
        scored = [t for t in self.trials if t.is_complete and is_number(t.objective) and not t.infeasible]
        if not scored:
            return None
        key = (lambda t: t.objective) if self.maximize else (lambda t: -t.objective)  # type: ignore[operator]
        return max(scored, key=key)

    def selected(self, choice: int | str | None) -> Trial | None:
        """The trial a selector value names: a number, :data:`BEST`, or :data:`LATEST` (or ``None``), which
        is the running trial while one runs and the best one once none does (a finished study opens on
        its best trial); the newest when there is no best."""
        if choice == BEST and self.best() is not None:
            return self.best()
        if choice not in (None, LATEST, BEST):
            try:
                found = self.trial(int(choice))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                found = None
            if found is not None:
                return found
        running = [t for t in self.trials if t.state == TrialState.RUNNING]
        if running:
            return running[-1]
        return self.best() or (self.trials[-1] if self.trials else None)

    def chance_levels(self) -> tuple[float, float] | None:
        """(accuracy, loss) of a uniform guess for a classifier whose class count is known: 1/k and ln(k)
        (the cross-entropy symtuner trains with); None for a regression or an unknown count."""
        classes = self.data.get("n_classes")
        if isinstance(classes, bool) or not isinstance(classes, int) or classes < 2:
            return None
        return 1.0 / classes, math.log(classes)

    def version(self, number: int) -> TuningVersion | None:
        return next((v for v in self.versions if v.version == number), None)

    def model_file(self, trial: Trial) -> Path | None:
        """The trial's model file as an absolute path.

        The store is not trusted: a path that leads outside the study
        directory, once links are resolved, gives None, so nothing else on
        the machine can be served.
        """
        if not trial.model_path:
            return None
        return inside_study(self.directory, Path(trial.model_path))


def inside_study(study_dir: Path, path: Path) -> Path | None:
    """``path``, resolved, if it leads to a file inside ``study_dir``.

    ``path`` is a path as a :class:`Trial` read from the store holds it: the
    store has already joined the stored (study-relative) path to the study
    directory it was opened with, so it is used as it is, never joined again
    (a relative study directory joined twice names ``studies/x/studies/x/...``).
    """
    root = Path(study_dir).resolve()
    full = Path(path).resolve()
    if full == root or root not in full.parents:
        return None
    return full


def trial_model_file(study_dir: Path, number: int) -> Path | None:
    """Trial ``number``'s model file if the study has that trial and the file exists inside the study.

    It reads one trial, so serving a model file does not read the whole study.
    """
    try:
        with StudyStore.open(Path(study_dir), readonly=True, live=True) as store:
            trial = store.trial(number)
    except StudyError:
        return None
    if not trial.model_path:
        return None
    path = inside_study(Path(study_dir), Path(trial.model_path))
    return path if path is not None and path.is_file() else None


def load_snapshot(study_dir: Path, live: bool = False) -> StudySnapshot:
    """Read a study without changing it (the store is opened read-only).

    ``live`` is for readers that poll a study a run may be writing (the
    dashboard): they always read through SQLite's WAL.
    """
    from symtuner.app.liveness import settle_dead_runs

    study_dir = Path(study_dir)
    with StudyStore.open(study_dir, readonly=True, live=live) as store:
        return StudySnapshot(
            directory=study_dir,
            settings=store.settings(),
            versions=tuple(store.tuning_versions()),
            trials=tuple(settle_dead_runs(study_dir, store.trials())[0]),
            actions=tuple(store.actions()),
            weights=store.weights_history(),
            verdicts=store.verdicts(),
            data=dict(store.data_info()),
        )


def study_stamp(study_dir: Path) -> str:
    """A cheap token that changes whenever the study database is written.

    It stats the database and its write-ahead log instead of opening them,
    so polling it every few seconds costs nothing.
    """
    parts = []
    for name in (DB_NAME, DB_NAME + "-wal"):
        try:
            stat = os.stat(Path(study_dir) / name)
        except OSError:
            parts.append("-")
            continue
        parts.append(f"{stat.st_mtime_ns}:{stat.st_size}")
    return "|".join(parts)


def is_number(value: Any) -> bool:
    """True for a finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def fmt(value: Any, digits: int = 4) -> str:
    """A short text form of a value for tables: numbers rounded, ``None``/NaN as ``-``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.{digits - 1}e}"
        return f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return str(value)


def trial_label(trial: Trial) -> str:
    """How a trial is named in selectors and legends."""
    score = f" · {fmt(trial.objective)}" if is_number(trial.objective) else ""
    return f"Trial {trial.number} · {trial.state}{score}"


__all__ = ["LATEST", "BEST", "StudySnapshot", "inside_study", "trial_model_file", "load_snapshot", "study_stamp", "is_number",
           "fmt", "trial_label"]
