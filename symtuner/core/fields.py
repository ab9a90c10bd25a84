"""Building frozen settings dataclasses from plain mappings (config tables, stored JSON)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from symtuner.core.errors import ConfigError


def check_known_keys(cls: type, data: Mapping[str, Any], what: str) -> None:
    """Raise ConfigError naming every key of ``data`` that ``cls`` has no field for."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown {what} {unknown} (known: {sorted(known)})")


def positive_int(value: Any, name: str) -> int:
    """``value`` if it is an integer of at least 1 (a bool is not); a ConfigError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return value


def non_negative_int(value: Any, name: str) -> int:
    """``value`` if it is an integer of at least 0 (a bool is not); a ConfigError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{name} must be a non-negative integer, got {value!r}")
    return value
