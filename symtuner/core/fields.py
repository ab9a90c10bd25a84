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
