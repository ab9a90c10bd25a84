"""Fixtures of the dashboard tests: small studies written straight through the store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_study_factory import make_empty_study, make_study

from symtuner.storage.lock import study_lock


@pytest.fixture
def study(tmp_path: Path) -> Iterator[Path]:
    """A study being run: its lock is held (by this test), so its trial 4 is running."""
    directory = make_study(tmp_path / "study")
    with study_lock(directory):
        yield directory


@pytest.fixture
def empty_study(tmp_path: Path) -> Path:
    return make_empty_study(tmp_path / "empty")
