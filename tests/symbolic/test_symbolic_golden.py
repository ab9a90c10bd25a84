"""Golden learning curves (tests/data/curves/*.json) against the shipped rules.

Each file is a Keras history plus ``n_classes``, the problems an engineer
reads off the plot (``expected``, all must be found) and the ones they would
also accept (``acceptable``); nothing else may be diagnosed. Files named
``digits_*`` were recorded from real Keras runs (make_curves.py), files named
``diabetes_*`` from real regressions (make_regression_curves.py; they carry
``loss_scale``, the MSE of predicting the mean, instead of ``n_classes``).
A case the rules are known to misread says why in ``known_miss``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from symtuner.core.records import PROBLEMS
from symtuner.symbolic.engine import SymbolicEngine, diagnose_history
from symtuner.symbolic.rules import load_rules

CURVES = Path(__file__).resolve().parents[1] / "data" / "curves"
CASES = sorted(CURVES.glob("*.json"))


@pytest.fixture(scope="module")
def engine() -> SymbolicEngine:
    return SymbolicEngine(load_rules())


def test_the_case_set_covers_every_problem_and_healthy_runs():
    cases = [json.loads(path.read_text()) for path in CASES]
    expected = {p for case in cases for p in case["expected"]}
    assert expected == set(PROBLEMS)
    assert sum(1 for case in cases if not case["expected"]) >= 4
    assert sum(1 for path in CASES if path.name.startswith("digits_")) >= 10


def _marks(path: Path) -> list:
    """A case the shipped rules are known to misread carries ``known_miss``: why (a strict xfail, so
    that a fix shows)."""
    miss = json.loads(path.read_text()).get("known_miss")
    return [pytest.mark.xfail(reason=miss, strict=True)] if miss else []


@pytest.mark.parametrize("path", [pytest.param(p, marks=_marks(p), id=p.stem) for p in CASES])
def test_golden_curve(path: Path, engine: SymbolicEngine):
    case = json.loads(path.read_text())
    diagnosis = diagnose_history(case, case.get("n_classes"), engine)  # regressions: none, a loss_scale
    found = set(diagnosis.problems)
    expected, acceptable = set(case["expected"]), set(case["acceptable"])
    assert expected <= found, f"missed {sorted(expected - found)}: {diagnosis.explanation}"
    assert found <= expected | acceptable, f"also found {sorted(found - expected - acceptable)}: " \
                                           f"{diagnosis.explanation}"
    # the explanation gives a reason for every problem the shipped rules found
    assert "by a user rule" not in diagnosis.explanation
    if not found:  # a curve too short to judge is not said to be healthy
        judged = diagnosis.facts["n_epochs"] >= engine.rules.thresholds["min_epochs"]
        assert diagnosis.explanation.startswith("no problem found" if judged else "not judged: too short")
        assert not diagnosis.actions
    else:  # an action, or why the rules wait
        assert diagnosis.actions or "-> no action yet: " in diagnosis.explanation, diagnosis.explanation


@pytest.mark.parametrize("name", ["digits_healthy_adam", "digits_healthy_dropout", "digits_healthy_binary"])
def test_healthy_real_curves_raise_no_alarm_at_any_epoch(name: str, engine: SymbolicEngine):
    from symtuner.core.records import LearningCurve
    from symtuner.symbolic.engine import diagnose_epochs

    case = json.loads((CURVES / f"{name}.json").read_text())
    curve = LearningCurve.from_history({k: case[k] for k in ("loss", "accuracy", "val_loss", "val_accuracy")})
    for epoch, diagnosis in enumerate(diagnose_epochs(curve, case["n_classes"], engine), start=1):
        if epoch < 3:
            assert diagnosis.notes == (f"too short to judge: {epoch} epochs < 3",)
        assert diagnosis.problems == () or set(diagnosis.problems) <= {"underfitting"} and epoch <= 4, \
            (epoch, diagnosis.explanation)


def test_problems_appear_as_the_real_curve_shows_them(engine: SymbolicEngine):
    from symtuner.core.records import LearningCurve
    from symtuner.symbolic.engine import diagnose_epochs

    case = json.loads((CURVES / "digits_diverged_sgd.json").read_text())
    curve = LearningCurve.from_history({k: case[k] for k in ("loss", "accuracy", "val_loss", "val_accuracy")})
    seen = [d.problems for d in diagnose_epochs(curve, case["n_classes"], engine)]
    nan_epoch = next(i for i, v in enumerate(curve.loss) if v != v) + 1
    assert all("high_lr" not in p for p in seen[:nan_epoch - 1])
    assert all("high_lr" in p for p in seen[nan_epoch - 1:])
    case = json.loads((CURVES / "digits_overfitting_small_data.json").read_text())
    curve = LearningCurve.from_history({k: case[k] for k in ("loss", "accuracy", "val_loss", "val_accuracy")})
    seen = [d.problems for d in diagnose_epochs(curve, case["n_classes"], engine)]
    first = next(i for i, p in enumerate(seen) if "overfitting" in p)
    assert 3 <= first + 1 < curve.n_epochs and all("overfitting" in p for p in seen[first + 5:])
