"""The one place symtuner imports ProbLog.

ProbLog's bundled pyparsing imports the deprecated ``sre_constants`` module;
that warning (and only that one) is silenced here.
"""

from __future__ import annotations

import warnings
from typing import Any

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r".*sre_constants.*", category=DeprecationWarning)
    from problog import get_evaluatable
    from problog.engine import DefaultEngine
    from problog.errors import ProbLogError
    from problog.learning.lfi import LFIProblem
    from problog.logic import AnnotatedDisjunction, Clause, Constant, Term, Var
    from problog.program import PrologString, SimpleProgram

__all__ = [
    "AnnotatedDisjunction",
    "Clause",
    "Constant",
    "DefaultEngine",
    "LFIProblem",
    "ProbLogError",
    "PrologString",
    "SimpleProgram",
    "Term",
    "Var",
    "evaluatable",
]


def evaluatable() -> Any:
    """The knowledge compiler to use: SDD where pysdd is installed, else ProbLog's default."""
    try:
        return get_evaluatable("sdd")
    except Exception:  # pysdd missing or broken: fall back to what ProbLog has
        return get_evaluatable()
