"""Score the diagnosis against labelled learning curves: precision, recall and F1 per problem.

A labelled case is a Keras history with ``expected`` problems (an engineer
reading the plot is sure of them: each must be found) and ``acceptable``
ones (defensible readings that may also be found). Per problem: a true
positive is an expected problem found, a false negative one missed, a false
positive one found that is neither expected nor acceptable; an acceptable
problem found, or not, counts for nothing. "Healthy" cases expect no problem;
they count as clean only when nothing at all is found.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from symtuner.core.errors import ConfigError
from symtuner.core.records import PROBLEMS
from symtuner.symbolic.engine import SymbolicEngine, diagnose_history


@dataclass(frozen=True)
class Case:
    """One labelled history."""

    name: str
    history: dict[str, Any]
    n_classes: int | None
    expected: frozenset[str]
    acceptable: frozenset[str]


@dataclass
class Score:
    """Counts and misses of one scoring run."""

    tp: dict[str, int] = field(default_factory=lambda: {p: 0 for p in PROBLEMS})
    fp: dict[str, int] = field(default_factory=lambda: {p: 0 for p in PROBLEMS})
    fn: dict[str, int] = field(default_factory=lambda: {p: 0 for p in PROBLEMS})
    healthy: int = 0
    healthy_clean: int = 0
    cases: int = 0
    misses: list[str] = field(default_factory=list)

    def precision(self, problem: str) -> float:
        found = self.tp[problem] + self.fp[problem]
        return self.tp[problem] / found if found else 1.0

    def recall(self, problem: str) -> float:
        real = self.tp[problem] + self.fn[problem]
        return self.tp[problem] / real if real else 1.0

    def f1(self, problem: str) -> float:
        p, r = self.precision(problem), self.recall(problem)
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def macro_f1(self) -> float:
        return sum(self.f1(p) for p in PROBLEMS) / len(PROBLEMS)

    @property
    def healthy_share(self) -> float:
        return self.healthy_clean / self.healthy if self.healthy else 1.0

    def table(self) -> str:
        """A Markdown table of the scores."""
        lines = ["| problem | expected | TP | FP | FN | precision | recall | F1 |",
                 "|---|---|---|---|---|---|---|---|"]
        for p in PROBLEMS:
            lines.append(f"| {p} | {self.tp[p] + self.fn[p]} | {self.tp[p]} | {self.fp[p]} | {self.fn[p]} | "
                         f"{self.precision(p):.2f} | {self.recall(p):.2f} | {self.f1(p):.2f} |")
        lines.append(f"\nmacro-F1 {self.macro_f1:.3f}; healthy runs with no problem "
                     f"{self.healthy_clean}/{self.healthy} ({self.healthy_share:.0%}); {self.cases} cases")
        return "\n".join(lines)


def _case(name: str, data: dict[str, Any], labels: dict[str, Any]) -> Case:
    for key in ("expected", "acceptable"):
        unknown = set(labels.get(key, [])) - set(PROBLEMS)
        if unknown:
            raise ConfigError(f"case {name}: unknown problems in {key}: {sorted(unknown)}")
    return Case(name, data, data.get("n_classes"), frozenset(labels.get("expected", [])),
                frozenset(labels.get("acceptable", [])))


def load_golden(directory: Path) -> list[Case]:
    """Cases whose labels live in the history files themselves (``tests/data/curves``)."""
    cases = []
    for path in sorted(Path(directory).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        cases.append(_case(path.stem, data, data))
    return cases


def load_corpus(directory: Path) -> list[Case]:
    """Cases of a corpus: ``runs/*.json`` histories and their hand labels in ``labels.json``."""
    directory = Path(directory)
    labels = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
    cases = []
    for path in sorted((directory / "runs").glob("*.json")):
        if path.stem not in labels:
            raise ConfigError(f"corpus run {path.stem} has no label in {directory / 'labels.json'}")
        cases.append(_case(path.stem, json.loads(path.read_text(encoding="utf-8")), labels[path.stem]))
    return cases


def without_class_count(cases: Iterable[Case]) -> list[Case]:
    """The cases as a log that does not say how many classes there are (a TensorBoard log, a CSV) reads:
    losses are then measured against the curve's first epoch."""
    return [replace(case, history={k: v for k, v in case.history.items() if k != "n_classes"}, n_classes=None)
            for case in cases]


def score(cases: Iterable[Case], engine: SymbolicEngine) -> Score:
    """Diagnose every case with ``engine`` and count."""
    result = Score()
    for case in cases:
        found = set(diagnose_history(case.history, case.n_classes, engine).problems) & set(PROBLEMS)
        result.cases += 1
        for p in PROBLEMS:
            if p in case.expected:
                if p in found:
                    result.tp[p] += 1
                else:
                    result.fn[p] += 1
            elif p in found and p not in case.acceptable:
                result.fp[p] += 1
        if not case.expected:
            result.healthy += 1
            result.healthy_clean += not found
        missed = case.expected - found
        extra = found - case.expected - case.acceptable
        if missed or extra:
            result.misses.append(f"{case.name}: missed {sorted(missed)}, false {sorted(extra)}")
    return result
