"""Tuning actions (paper Table 2): pure functions that change the search space and/or the architecture.

Each action takes ``(space, architecture, context)`` and returns a new
``(space, architecture)``, or raises :class:`NotApplicable` saying why it
cannot change anything (already on, at a cap, at the edge of a range).
:func:`register_action` adds one of one's own with the ProbLog rule that chooses it.
"""

from symtuner.tuning.actions.base import ActionContext, ActionFn, ActionSettings, NotApplicable
from symtuner.tuning.actions.describe import describe_change
from symtuner.tuning.actions.registry import (
    ACTIONS,
    ACTIONS_REGISTRY,
    BUILTIN_ACTIONS,
    OPPOSITES,
    actions_restored,
    apply_action,
    get_action,
    is_applicable,
    register_action,
    require_known,
    unregister_action,
    why_not,
)

__all__ = [
    "require_known",
    "ACTIONS",
    "ACTIONS_REGISTRY",
    "BUILTIN_ACTIONS",
    "OPPOSITES",
    "actions_restored",
    "register_action",
    "unregister_action",
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
