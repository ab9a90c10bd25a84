"""The public import path of :class:`Tuner` (the study loop lives in :mod:`symtuner.study`)."""

from symtuner.study.runner import Tuner

__all__ = ["Tuner"]
