"""Evaluate a parsed rule base on one trial's facts with ProbLog.

The rule clauses are prepared once; each evaluation adds the facts, the
thresholds and the action rules (with the current weights) as terms built
from numbers, never as program text, and queries ``problem/1`` and
``action/2``. Knowledge compilation uses SDD where pysdd is installed.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from symtuner.errors import ConfigError, RulesError
from symtuner.symbolic._problog import (
    Clause,
    Constant,
    DefaultEngine,
    ProbLogError,
    PrologString,
    SimpleProgram,
    Term,
    Var,
    evaluatable,
)

#: Directive every generated program starts with: an undefined predicate fails.
HEADER = ":- unknown(fail).\n"


@dataclass(frozen=True)
class ActionRule:
    """One ``P::action(Action, Problem) :- Body`` rule of the tuning program."""

    action: str
    problem: str
    probability: float
    body: Any
    where: str


@dataclass(frozen=True)
class SourceMap:
    """Maps positions in the combined rules text (files joined by newlines) to ``file:line``."""

    starts: tuple[int, ...]
    names: tuple[str, ...]
    line_info: tuple[int, ...]

    @classmethod
    def build(cls, texts: Sequence[str], names: Sequence[str]) -> SourceMap:
        starts, offset = [], 0
        for text in texts:
            starts.append(offset)
            offset += len(text) + 1
        combined = "\n".join(texts)
        newlines = [i for i, ch in enumerate(combined) if ch == "\n"]
        # ProbLog's own format: -1, every newline offset, then the text's length.
        return cls(tuple(starts), tuple(names), (-1, *newlines, len(combined)))

    def where(self, offset: int) -> str:
        """``file:line`` of a character offset."""
        index = max(bisect.bisect_right(self.starts, offset) - 1, 0)
        newlines = self.line_info[1:-1]
        line = bisect.bisect_left(newlines, offset) - bisect.bisect_left(newlines, self.starts[index]) + 1
        return f"{self.names[index]}:{line}"

    def where_line(self, line: int, column: int) -> str | None:
        """``file:line`` of a (line, column) pair of the combined text, as ProbLog reports them."""
        if not 1 <= line < len(self.line_info):
            return None
        return self.where(self.line_info[line - 1] + max(column, 1))


def error_location(exc: ProbLogError, source_map: SourceMap) -> str | None:
    """``file:line`` of a ProbLog error, where it carries a position."""
    location = getattr(exc, "location", None)
    if not isinstance(location, tuple):
        return None
    if len(location) == 2 and isinstance(location[1], int):
        return source_map.where(location[1])
    if len(location) == 3 and isinstance(location[1], int) and isinstance(location[2], int):
        return source_map.where_line(location[1], location[2])
    return None


def _number_term(value: float) -> Any:
    return Constant(float(value))


class RuleProgram:
    """The rule clauses, prepared once, evaluated per trial."""

    def __init__(self, clauses: Sequence[Any], action_rules: Sequence[ActionRule],
                 source_map: SourceMap) -> None:
        self._action_rules = tuple(action_rules)
        self._source_map = source_map
        program = SimpleProgram()
        program.line_info = [list(source_map.line_info)]
        for directive in PrologString(HEADER):
            program.add_statement(directive)
        for clause in clauses:
            program.add_statement(clause)
        self._engine = DefaultEngine()
        self._db = self._engine.prepare(program)
        self._knowledge = evaluatable()

    def evaluate(self, facts: Mapping[str, float], thresholds: Mapping[str, float],
                 weights: Mapping[tuple[str, str], float]) -> dict[Any, float]:
        """Probabilities of every ``problem(P)`` and ``action(A, P)`` that can hold."""
        db = self._db.extend()
        for name, value in facts.items():
            db.add_fact(Term("fact", Term(name), _number_term(_finite(value, f"fact {name}"))))
        for name, value in thresholds.items():
            db.add_fact(Term("threshold", Term(name), _number_term(_finite(value, f"threshold {name}"))))
        for rule in self._action_rules:
            weight = weights.get((rule.action, rule.problem), rule.probability)
            weight = _finite(weight, f"weight of {rule.action} for {rule.problem}")
            if not 0.0 <= weight <= 1.0:
                raise ConfigError(f"the weight of {rule.action} for {rule.problem} must lie in [0, 1], "
                                  f"got {weight!r}")
            head = Term("action", Term(rule.action), Term(rule.problem), p=_number_term(weight))
            db.add_clause(Clause(head, rule.body))
        db.add_fact(Term("query", Term("problem", Var("P"))))
        db.add_fact(Term("query", Term("action", Var("A"), Var("P"))))
        try:
            result = self._knowledge.create_from(db, engine=self._engine).evaluate()
        except ProbLogError as exc:
            where = error_location(exc, self._source_map)
            message = getattr(exc, "base_message", str(exc))
            raise RulesError(f"{where}: {message}" if where else f"rules failed: {message}") from None
        return {key: float(value) for key, value in result.items()}


def _finite(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def split_results(result: Mapping[Any, float]) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
    """ProbLog's answer as ``{problem: p}`` and ``{(action, problem): p}``."""
    problems: dict[str, float] = {}
    actions: dict[tuple[str, str], float] = {}
    for term, probability in result.items():
        if term.functor == "problem" and term.arity == 1:
            problems[str(term.args[0])] = probability
        elif term.functor == "action" and term.arity == 2:
            actions[(str(term.args[0]), str(term.args[1]))] = probability
    return problems, actions

