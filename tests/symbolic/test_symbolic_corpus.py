"""The shipped rules on every labelled real curve: the quality bar of benchmarks/diagnosis_quality.py.

Golden curves (tests/data/curves) and the corpus of real Keras runs labelled by eye
(tests/data/corpus, see LABELLING.md there). A rule change that costs quality fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from symtuner.core.records import PROBLEMS
from symtuner.symbolic.engine import SymbolicEngine
from symtuner.symbolic.quality import load_corpus, load_golden, score
from symtuner.symbolic.rules import load_rules

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def result():
    cases = load_golden(DATA / "curves") + load_corpus(DATA / "corpus")
    return score(cases, SymbolicEngine(load_rules()))


def test_the_corpus_is_large_and_covers_every_problem():
    cases = load_corpus(DATA / "corpus")
    assert len(cases) >= 60
    for problem in PROBLEMS:
        assert sum(problem in case.expected for case in cases) >= 8, problem
    assert sum(not case.expected for case in cases) >= 16


def test_macro_f1_and_every_problem(result):
    assert result.macro_f1 >= 0.90, result.table()
    for problem in PROBLEMS:
        assert result.f1(problem) >= 0.80, result.table()


def test_healthy_runs_raise_no_alarm(result):
    assert result.healthy >= 20
    assert result.healthy_share >= 0.95, result.misses
