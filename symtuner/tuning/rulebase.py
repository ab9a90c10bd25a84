"""The one way a study, ``symtuner diagnose`` and the Keras callback get their rules engine."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from symtuner.symbolic.engine import SymbolicEngine
from symtuner.symbolic.rules import load_rules
from symtuner.tuning.actions import require_known


def rules_engine(rules_dir: str | Path | None = None, mode: str = "extend",
                 thresholds: Mapping[str, float] | None = None) -> SymbolicEngine:
    """The shipped rules (with ``rules_dir``'s files added or, with ``mode="replace"``, instead), every
    action they choose a known one (registered actions included), ready to diagnose."""
    rules = load_rules(None if rules_dir is None else Path(rules_dir), mode=mode, thresholds=thresholds)
    require_known(rules.actions)
    return SymbolicEngine(rules)
