"""The public study facades: ``symtuner.Tuner`` (a Keras study of a data set) and ``create_study`` /
``load_study`` (define-by-run studies around your own training code), showing progress by default (bars
in a terminal or notebook, plain lines elsewhere; ``quiet=True`` shows nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from symtuner.app.display import auto_progress
from symtuner.study import define as _define
from symtuner.study import tuner as _study


class Tuner(_study.Tuner):
    __doc__ = _study.Tuner.__doc__

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("progress_factory", auto_progress)
        super().__init__(*args, **kwargs)


def create_study(study_dir: str | Path, *, quiet: bool = False, **options: Any) -> _define.Study:
    return _define.create_study(study_dir, progress_factory=None if quiet else auto_progress, **options)


def load_study(study_dir: str | Path, *, quiet: bool = False) -> _define.Study:
    return _define.load_study(study_dir, progress_factory=None if quiet else auto_progress)


create_study.__doc__ = _define.create_study.__doc__
load_study.__doc__ = _define.load_study.__doc__

__all__ = ["Tuner", "create_study", "load_study"]
