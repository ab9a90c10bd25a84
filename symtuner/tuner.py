"""``symtuner.Tuner``: the study facade of :mod:`symtuner.study.tuner`, showing progress by default
(bars in a terminal or notebook, plain lines elsewhere)."""

from __future__ import annotations

from typing import Any

from symtuner.app.display import auto_progress
from symtuner.study import tuner as _study


class Tuner(_study.Tuner):
    __doc__ = _study.Tuner.__doc__

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("progress_factory", auto_progress)
        super().__init__(*args, **kwargs)


__all__ = ["Tuner"]
