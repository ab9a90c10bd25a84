"""Evaluate a parsed rule base on one trial's facts with ProbLog.

The rule clauses are prepared once; each evaluation adds the facts, the
thresholds and the action rules (with the current weights) as terms built
from numbers, never as program text, and queries ``problem/1``,
``action/2``, ``reason/2`` (why each problem holds, as a term with the
numbers compared), ``cause/2`` (which diagnosed problem explains which),
``deferred/2`` (contradictory problems set aside), ``note/2`` (remarks
such as a curve too short to judge), ``withholds/1`` (the notes that
withhold the verdict), ``waits/2`` (why the tuning rules do not act on a
problem yet) and ``blocks/2`` (actions a problem rules out). Knowledge compilation uses SDD where
pysdd is installed.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from symtuner.core.errors import ConfigError, RulesError
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

#: The predicates a diagnosis queries (functor, arity).
QUERIES = (("problem", 1), ("action", 2), ("reason", 2), ("cause", 2), ("deferred", 2), ("note", 2),
           ("withholds", 1), ("waits", 2), ("blocks", 2))

#: What symbolic early stopping queries after each epoch.
STOP_QUERIES = (("stop", 1),)
#: What a callback watching any training queries after each epoch (is the network lost?).
LOST_QUERIES = (("lost", 1),)

#: A ground term as plain data: a number, an atom's name, or (functor, args).
TermData = Any


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
                 weights: Mapping[tuple[str, str], float],
                 queries: Sequence[tuple[str, int]] = QUERIES) -> dict[Any, float]:
        """Probabilities of every ground answer to ``queries`` (by default the diagnosis's)."""
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
        for functor, arity in queries:
            db.add_fact(Term("query", Term(functor, *(Var(f"V{i}") for i in range(arity)))))
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


@dataclass(frozen=True)
class Evaluation:
    """What one evaluation derived, as plain data.

    ``problems`` and ``actions`` map to probabilities; ``reasons`` maps each
    problem to its reason terms (``term_data`` form), in the order found;
    ``causes`` maps a symptom to the problem explaining it; ``deferred`` maps
    a problem set aside to the contradictory one acted on first; ``notes``
    lists (name, term) remarks; ``stops`` the reasons to stop a running
    trial (``stop/1``); ``blocks`` maps an action that must not be chosen
    to the problem that blocks it (``blocks(Problem, Action)``, such as a
    network over its size limit blocking the actions that grow it); ``withholds``
    names the notes that withhold the verdict (a curve too short to judge is
    not healthy, it is not judged); ``waits`` maps a problem to the reasons
    the tuning rules do not act on it yet (terms).
    """

    problems: dict[str, float]
    actions: dict[tuple[str, str], float]
    reasons: dict[str, list[TermData]]
    causes: dict[str, str]
    deferred: dict[str, str]
    notes: list[tuple[str, TermData]]
    stops: list[TermData] = field(default_factory=list)
    blocks: dict[str, str] = field(default_factory=dict)
    withholds: list[str] = field(default_factory=list)
    waits: dict[str, list[TermData]] = field(default_factory=dict)
    lost: list[TermData] = field(default_factory=list)


def term_data(term: Any) -> TermData:
    """A ground ProbLog term as plain data: numbers, atom names, (functor, (args...))."""
    if isinstance(term, (int, float)) and not isinstance(term, bool):
        return term
    if isinstance(term, Constant) or not isinstance(term, Term):
        value = getattr(term, "value", term)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value) if isinstance(value, float) else int(value)
        return str(value).strip("'\"")
    if not term.args:
        return str(term.functor).strip("'")
    return (str(term.functor), tuple(term_data(arg) for arg in term.args))


def _atom_name(term: Any) -> str:
    return str(term_data(term))


def split_results(result: Mapping[Any, float]) -> Evaluation:
    """ProbLog's answer as plain data (terms with probability 0 are dropped)."""
    out = Evaluation({}, {}, {}, {}, {}, [])
    for term, probability in sorted(result.items(), key=lambda item: str(item[0])):
        functor, arity = term.functor, term.arity
        if functor == "problem" and arity == 1:
            out.problems[_atom_name(term.args[0])] = probability
        elif functor == "action" and arity == 2:
            out.actions[(_atom_name(term.args[0]), _atom_name(term.args[1]))] = probability
        elif probability <= 0.0:
            continue
        elif functor == "reason" and arity == 2:
            out.reasons.setdefault(_atom_name(term.args[0]), []).append(term_data(term.args[1]))
        elif functor == "cause" and arity == 2:
            out.causes[_atom_name(term.args[0])] = _atom_name(term.args[1])
        elif functor == "deferred" and arity == 2:
            out.deferred[_atom_name(term.args[0])] = _atom_name(term.args[1])
        elif functor == "note" and arity == 2:
            out.notes.append((_atom_name(term.args[0]), term_data(term.args[1])))
        elif functor == "stop" and arity == 1:
            out.stops.append(term_data(term.args[0]))
        elif functor == "lost" and arity == 1:
            out.lost.append(term_data(term.args[0]))
        elif functor == "withholds" and arity == 1:
            out.withholds.append(_atom_name(term.args[0]))
        elif functor == "waits" and arity == 2:
            out.waits.setdefault(_atom_name(term.args[0]), []).append(term_data(term.args[1]))
        elif functor == "blocks" and arity == 2:
            out.blocks.setdefault(_atom_name(term.args[1]), _atom_name(term.args[0]))
    return out
