"""Trials that the store holds as running although no process runs the study any more.

A run killed outright (``kill -9``, the machine lost) cannot mark its trials;
they stay ``running`` in the store until the next run marks them interrupted
and runs them again. The readers (``status``, the dashboard, the report)
show them as interrupted as soon as no process holds the study's lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from symtuner.core.records import Trial, TrialState
from symtuner.storage.lock import writer_running


def settle_dead_runs(study_dir: Path, trials: Sequence[Trial]) -> tuple[list[Trial], list[int]]:
    """``trials`` with the running ones shown as interrupted when no process runs the study, and
    the numbers of those trials (none while a run holds the study)."""
    running = [t.number for t in trials if t.state == TrialState.RUNNING]
    if not running or writer_running(study_dir):
        return list(trials), []
    return [replace(t, state=TrialState.INTERRUPTED) if t.state == TrialState.RUNNING else t
            for t in trials], running


__all__ = ["settle_dead_runs"]
