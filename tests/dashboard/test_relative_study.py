"""A study opened through a relative directory (what ``make run`` and most users pass): every reader
finds its files, each path joined to the study directory exactly once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dashboard_study_factory import make_study

from symtuner.app.cli import main
from symtuner.app.dashboard.components import architecture_components
from symtuner.app.dashboard.data import load_snapshot, trial_model_file
from symtuner.app.dashboard.report import write_report

RELATIVE = Path("studies") / "default"


@pytest.fixture
def relative_study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    study = make_study(RELATIVE, running=False)
    shutil.copy(study / "models" / "trial_0001.keras", study / "models" / "trial_0002.keras")  # the best
    return study


def test_the_dashboard_finds_the_model_of_a_relative_study(relative_study: Path) -> None:
    snap = load_snapshot(relative_study)
    expected = (relative_study / "models" / "trial_0001.keras").resolve()
    assert snap.model_file(snap.trial(1)) == expected
    assert trial_model_file(relative_study, 1) == expected
    _, view, layers = architecture_components(snap, 1, netron=True)
    assert "model-missing" not in str(view) and "netron-frame" in str(view)
    assert "model-layers" in str(layers)


def test_the_report_of_a_relative_study_has_the_layer_table(relative_study: Path, tmp_path: Path) -> None:
    text = write_report(relative_study, tmp_path / "report.html").read_text()
    assert 'id="model-layers"' in text and "Conv2D" in text
    assert "No model file" not in text


def test_status_and_export_of_a_relative_study(relative_study: Path, tmp_path: Path, capsys) -> None:
    assert main(["status", str(relative_study), "--explain"]) == 0
    printed = [line.split("model: ", 1)[1] for line in capsys.readouterr().out.splitlines() if "model: " in line]
    assert printed and all(Path(path).is_file() for path in printed)  # usable as printed, from here
    assert main(["export", str(relative_study), "--trial", "1", "--output", "copy.keras"]) == 0
    assert (tmp_path / "copy.keras").read_bytes() == (relative_study / "models" / "trial_0001.keras").read_bytes()
