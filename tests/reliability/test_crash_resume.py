"""A small run of benchmarks/crash_fuzz.py: studies killed with SIGKILL resume with nothing lost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "crash_fuzz.py"


def test_killed_studies_resume_exactly(tmp_path):
    out = tmp_path / "crash.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--runs", "4", "--trials", "4", "--seed", "3",
                           "--out", str(out)], capture_output=True, text=True, timeout=600)
    summary = json.loads(out.read_text())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert summary["runs"] == 4
    assert summary["survived"] == 4
    assert summary["completed_trials_lost"] == 0
    assert summary["integrity_failures"] == 0
    assert summary["differs_from_uninterrupted"] == 0
    assert all(not r["problems"] for r in summary["results"])


def test_killed_parallel_studies_resume_exactly(tmp_path):
    """Kills of the driver or of a pool worker (2 workers): reruns keep their seeds and params, and each
    resumed study equals the uninterrupted one (reproducible = true)."""
    out = tmp_path / "crash.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--workers", "2", "--runs", "3", "--trials", "4",
                           "--seed", "5", "--out", str(out)], capture_output=True, text=True, timeout=900)
    summary = json.loads(out.read_text())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert summary["reproducible"] and summary["reference_reproducible"]
    assert summary["survived"] == 3 and summary["completed_trials_lost"] == 0
    assert summary["differs_from_uninterrupted"] == 0 and summary["rerun_seed_or_params_changed"] == 0
