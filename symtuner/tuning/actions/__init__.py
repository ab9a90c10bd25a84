"""Tuning actions (paper Table 2): pure functions that change the search space and/or the architecture.

Each action takes ``(space, architecture, context)`` and returns a new
``(space, architecture)``, or raises :class:`NotApplicable` saying why it
cannot change anything (already on, at a cap, at the edge of a range).
"""

from symtuner.tuning.actions.base import ActionContext, ActionFn, ActionSettings, NotApplicable
from symtuner.tuning.actions.describe import describe_change
from symtuner.tuning.actions.registry import (
    ACTIONS,
    OPPOSITES,
    apply_action,
    get_action,
    is_applicable,
    require_known,
    why_not,
)

__all__ = [
    "require_known",
    "ACTIONS",
    "OPPOSITES",
    "ActionContext",
    "ActionFn",
    "ActionSettings",
    "NotApplicable",
    "apply_action",
    "describe_change",
    "get_action",
    "is_applicable",
    "why_not",
]
