"""``symtuner diagnose`` reads each accuracy series in its own unit: a validation series in percent next to
a training series in [0, 1] is no underfitting, and a stray value above 1 is named, not taken as percent."""

from __future__ import annotations

import json

from symtuner.app.cli import main

HEALTHY = {"loss": [1.0, 0.6, 0.4, 0.3, 0.25], "accuracy": [0.6, 0.75, 0.85, 0.9, 0.92],
           "val_loss": [1.0, 0.65, 0.45, 0.37, 0.33], "val_accuracy": [58.0, 73.0, 83.0, 87.0, 89.0]}


def test_mixed_units_are_read_series_by_series(tmp_path, capsys):
    path = tmp_path / "h.json"
    path.write_text(json.dumps(HEALTHY))
    assert main(["diagnose", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "underfitting" not in data["problems"], data["explanation"]
    assert data["problems"] == [], data["explanation"]
