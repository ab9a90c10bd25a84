"""Explanations that say what the curve shows: no reading that its own curve contradicts, a short
training told why the rules did not act, and a stop named as the diagnosis names it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from symtuner.core.records import LearningCurve
from symtuner.symbolic.engine import SymbolicEngine, diagnose_history, stop_reasons
from symtuner.symbolic.rules import load_rules

CURVES = Path(__file__).resolve().parents[1] / "data" / "curves"


@pytest.fixture(scope="module")
def engine() -> SymbolicEngine:
    return SymbolicEngine(load_rules())


def _golden(name: str) -> dict:
    return json.loads((CURVES / f"{name}.json").read_text())


def test_a_loss_frozen_after_one_jump_is_not_an_increasing_loss(engine):
    frozen = [2.31, 2.3949] + [2.394909] * 10
    history = {"loss": frozen, "accuracy": [0.1] + [0.09] * 11, "val_loss": [2.32] + [2.395] * 11,
               "val_accuracy": [0.1] * 12}
    diagnosis = diagnose_history(history, 10, engine)
    assert "increasing_loss" not in diagnosis.problems, diagnosis.explanation  # "rose on 9 of 11 steps" before
    assert "high_lr" in diagnosis.problems and "then froze" in diagnosis.explanation


def test_a_slow_fall_is_not_also_said_not_to_move(engine):
    falling = [2.303 - 0.002 * i for i in range(7)]
    history = {"loss": falling, "accuracy": [0.10, 0.11, 0.11, 0.12, 0.12, 0.13, 0.13],
               "val_loss": [v - 0.001 for v in falling], "val_accuracy": [0.10, 0.11, 0.11, 0.12, 0.12, 0.13, 0.13]}
    diagnosis = diagnose_history(history, 10, engine)
    assert "low_lr" in diagnosis.problems
    assert "fell at every epoch" in diagnosis.explanation
    assert "did not move" not in diagnosis.explanation and "stayed within" not in diagnosis.explanation


def test_a_stuck_run_is_stopped_as_stuck_the_word_its_diagnosis_uses(engine):
    case = _golden("digits_adadelta_stuck")
    curve = LearningCurve.from_history(case)
    stops = stop_reasons(curve.truncated(3), case["n_classes"], engine, {})
    diagnosis = diagnose_history({k: v[:3] for k, v in case.items() if isinstance(v, list)}, case["n_classes"],
                                 engine)
    assert stops and stops[0].startswith("stuck: after the first epoch")
    assert stops[0] in diagnosis.explanation and "low_lr" in diagnosis.problems
    assert not any("died" in text for text in stops)


def test_a_blown_up_run_read_without_its_class_count_is_a_learning_rate_problem(engine):
    """A TensorBoard log carries no class count: the scale is then the first epoch's level, which the
    blow-up inflated."""
    case = {k: v for k, v in _golden("digits_high_lr_adam").items() if k != "n_classes"}
    diagnosis = diagnose_history(case, None, engine)
    assert "high_lr" in diagnosis.problems, diagnosis.explanation
    names = [a.name for a in diagnosis.actions]
    assert "decr_lr" in names and "inc_neurons" not in names  # not underfitting -> inc_neurons
    assert "blow-up" in diagnosis.explanation


HEALTHY_START = {"loss": [2.2882, 2.2097, 2.0962], "accuracy": [0.1417, 0.35, 0.3667],
                 "val_loss": [2.2489, 2.1652, 1.9958], "val_accuracy": [0.3667, 0.5, 0.7]}


def test_a_training_too_short_to_judge_is_not_called_healthy(engine):
    diagnosis = diagnose_history({k: v[:2] for k, v in HEALTHY_START.items()}, 10, engine)
    assert diagnosis.explanation.startswith("not judged: too short to judge: 2 epochs < 3")
    assert "no problem found" not in diagnosis.explanation


def test_an_underfit_network_still_learning_is_told_why_nothing_changes(engine):
    diagnosis = diagnose_history(HEALTHY_START, 10, engine)
    assert diagnosis.problems == ("underfitting",) and not diagnosis.actions
    assert "-> underfitting -> no action yet: still learning: its train loss fell in the last epoch" \
        in diagnosis.explanation
    assert "no applicable action" not in diagnosis.explanation
    assert any(note.startswith("underfitting: still learning") for note in diagnosis.notes)


def test_why_the_rules_wait_comes_from_the_rules(tmp_path: Path):
    """A user's waits/2 clause is shown as its term: the explanation holds no copy of the condition."""
    (tmp_path / "wait.pl").write_text("waits(underfitting, my_reason(7)) :- acted_on(underfitting).\n")
    engine = SymbolicEngine(load_rules(tmp_path))
    diagnosis = diagnose_history(HEALTHY_START, 10, engine)
    assert "no action yet: my_reason(7) and still learning" in diagnosis.explanation
