"""Fixtures of the dashboard tests: small studies written straight through the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_study_factory import make_empty_study, make_study


@pytest.fixture
def study(tmp_path: Path) -> Path:
    return make_study(tmp_path / "study")


@pytest.fixture
def empty_study(tmp_path: Path) -> Path:
    return make_empty_study(tmp_path / "empty")
