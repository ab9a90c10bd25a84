"""Load and validate the rule base: shipped rules, user extensions or replacements.

The shipped ``rules/diagnosis.pl``, ``rules/tuning.pl`` and
``rules/resources.pl`` (the limits on what a network costs) are package data
and are only read, never rewritten. A user directory of ``.pl`` files either
extends them (mode ``extend``: its files, in name order, are appended) or
replaces them (mode ``replace``: it must hold its own ``diagnosis.pl`` and
``tuning.pl``, and may hold its own ``resources.pl``; none of the shipped
rules is read then, so a study's limits get rules only from a copy of the
shipped ``resources.pl``). In both modes:

- a ``threshold(Name, Number)`` fact in a later file replaces an earlier one;
- a ``P::action(Action, Problem)`` rule in a later file replaces the rule for
  the same pair in an earlier file (two rules for one pair in one file are
  an error), so a user file can re-weight or re-condition a shipped rule.

Code may add rules too: :func:`register_rules` (used by
``symtuner.tuning.actions.register_action`` for the rule choosing a new
action) adds a named ProbLog text to every rule base loaded afterwards. The
registered texts come right after the base files (the shipped ones, or a
replacement ``diagnosis.pl``, ``tuning.pl`` and ``resources.pl``) and before a user
directory's other files, in registration order, so a user file can still
re-weight a registered rule; each is checked like a file and named
``<registered NAME>`` in messages.

Every problem is reported with the file and line at fault.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from symtuner.core.errors import ConfigError, RulesError
from symtuner.core.records import PROBLEMS, LearningCurve
from symtuner.core.registry import Registry
from symtuner.core.textfile import read_text
from symtuner.symbolic._problog import AnnotatedDisjunction, Clause, ProbLogError, PrologString, Term
from symtuner.symbolic.facts import FACT_NAMES, STUDY_FACT_NAMES, TRIAL_FACT_NAMES, curve_facts
from symtuner.symbolic.program import ActionRule, RuleProgram, SourceMap
from symtuner.symbolic.resources import COST_FACT_NAMES, cost_facts

SHIPPED_DIR = Path(__file__).resolve().parent / "rules"
RULE_FILES = ("diagnosis.pl", "tuning.pl", "resources.pl")
#: The base files a directory of rules in mode ``replace`` must hold (``resources.pl`` is optional).
REQUIRED_FILES = RULE_FILES[:2]
MODES = ("extend", "replace")

#: ProbLog rule texts every rule base loads, by the name they were registered under (see
#: :func:`register_rules`); names are ProbLog atoms, as an action's name is.
RULE_EXTENSIONS: Registry[str] = Registry("registered rules", pattern=r"[a-z][A-Za-z0-9_]*")


def registered_source(name: str) -> str:
    """How messages name the registered rules ``name`` (as a file's path names a file)."""
    return f"<registered {name}>"


def register_rules(name: str, text: str, *, replace: bool = False, chooses: str | None = None) -> str:
    """Add the ProbLog ``text`` to every rule base :func:`load_rules` reads from now on.

    ``text`` holds ordinary rules, e.g. ``"0.7::action(my_action, overfitting) :-
    acted_on(overfitting)."``; a ``P::action(...)`` rule's weight is learned like a
    shipped one's. The text is parsed and its fact names checked now: a rule that does
    not parse raises ``RulesError`` naming ``<registered NAME>`` and the line; the
    rest (unknown thresholds, rules that fail to run) is checked by ``load_rules``. A
    bad or taken name (unless ``replace``) raises ``ConfigError``. With ``chooses``, the
    text must hold a ``P::action(chooses, Problem)`` rule (else ``RulesError``).
    """
    if not isinstance(text, str) or not text.strip():
        raise RulesError(f"{registered_source(name)}: the rules must be non-empty ProbLog text, got {text!r:.80}")
    if name in RULE_EXTENSIONS and not replace:
        raise ConfigError(f"registered rules {name!r} are already registered (pass replace=True to replace them)")
    where = registered_source(name) if isinstance(name, str) else repr(name)
    statements = _parse_alone(Path(where), text)
    source_map = SourceMap.build((text,), (where,))
    chosen = []
    for statement in statements:
        _check_body(_body(statement), _where(statement, source_map))
        head = _head(statement)
        if isinstance(head, Term) and (head.functor, head.arity) == ("action", 2):
            chosen.append(_action_rule(statement, _where(statement, source_map)).action)
    if chooses is not None and chooses not in chosen:
        raise RulesError(f"{where}: no rule chooses action {chooses}; write one such as "
                         f"'0.5::action({chooses}, overfitting) :- acted_on(overfitting).'")
    return RULE_EXTENSIONS.register(name, text, replace=replace)


def unregister_rules(name: str) -> str:
    """Remove the rules registered as ``name`` (an unknown name raises ``ConfigError``) and return their text."""
    return RULE_EXTENSIONS.unregister(name)


@dataclass(frozen=True)
class RuleBase:
    """The rules one study uses: texts, where they came from, and what they define.

    ``initial_weights`` maps (action, problem) to the probability written in the
    rules; ``thresholds`` holds the effective threshold values (overrides applied);
    ``problems`` lists every problem the rules can diagnose, Table 1's first;
    ``problem_inputs`` maps each problem to the fact and threshold names its
    ``problem/1`` rules read directly (used to explain user rules).
    """

    texts: tuple[str, ...]
    sources: tuple[Path, ...]
    initial_weights: dict[tuple[str, str], float]
    thresholds: dict[str, float]
    problems: tuple[str, ...] = PROBLEMS
    mode: str = "extend"
    #: the registered rules (name, text) this base holds besides its files (see :func:`register_rules`)
    registered: tuple[tuple[str, str], ...] = ()
    clauses: tuple[Any, ...] = field(default=(), repr=False, compare=False)
    action_rules: tuple[ActionRule, ...] = field(default=(), repr=False, compare=False)
    source_map: SourceMap | None = field(default=None, repr=False, compare=False)
    problem_inputs: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(
        default_factory=dict, repr=False, compare=False)

    @property
    def actions(self) -> tuple[str, ...]:
        """Every action some rule can choose, in rule order."""
        return tuple(dict.fromkeys(action for action, _ in self.initial_weights))

    def program(self) -> RuleProgram:
        """The rules prepared for evaluation."""
        if self.source_map is None:
            raise RulesError("this rule base was not made by load_rules()")
        return RuleProgram(self.clauses, self.action_rules, self.source_map)


def load_rules(rules_dir: Path | None = None, mode: str = "extend",
               thresholds: Mapping[str, float] | None = None) -> RuleBase:
    """Read, parse and check the rules; apply threshold overrides.

    Raises ``RulesError`` naming the file and line of a rule that does not
    parse or is malformed, the file lacking a required predicate, or the
    unknown names among ``thresholds``.
    """
    if mode not in MODES:
        raise RulesError(f"rules mode {mode!r} is not one of {list(MODES)}")
    paths = _rule_files(None if rules_dir is None else Path(rules_dir), mode)
    texts = tuple(_read(path) for path in paths)
    for path, text in zip(paths, texts):
        _parse_alone(path, text)
    registered = tuple((name, text) for name, text in RULE_EXTENSIONS.as_mapping().items())
    for name, text in registered:
        _parse_alone(Path(registered_source(name)), text)
    # the base files, then the registered rules, then a user directory's other files
    first = sum(path.name in RULE_FILES for path in paths[:len(RULE_FILES)])
    all_texts = texts[:first] + tuple(text for _, text in registered) + texts[first:]
    names = (tuple(str(path) for path in paths[:first]) + tuple(registered_source(name) for name, _ in registered)
             + tuple(str(path) for path in paths[first:]))
    source_map = SourceMap.build(all_texts, names)
    combined = list(_parse_alone(Path(" + ".join(names)), "\n".join(all_texts)))

    collected = _collect(combined, source_map, names)
    effective = _apply_overrides(collected.thresholds, thresholds)
    base = RuleBase(
        texts=texts,
        sources=paths,
        initial_weights={(r.action, r.problem): r.probability for r in collected.action_rules},
        thresholds=effective,
        problems=collected.problems,
        mode=mode,
        registered=registered,
        clauses=tuple(collected.clauses),
        action_rules=tuple(collected.action_rules),
        source_map=source_map,
        problem_inputs=_problem_inputs(collected.clauses),
    )
    _check_threshold_uses(base, source_map)
    _dry_run(base)
    return base


# -- files -------------------------------------------------------------------
def _rule_files(rules_dir: Path | None, mode: str) -> tuple[Path, ...]:
    shipped = tuple(SHIPPED_DIR / name for name in RULE_FILES)
    if rules_dir is None:
        return shipped
    if not rules_dir.is_dir():
        raise RulesError(f"rules directory {rules_dir} does not exist or is not a directory")
    found = sorted(rules_dir.glob("*.pl"))
    not_files = [p.name for p in found if not p.is_file()]
    if not_files:
        raise RulesError(f"rules directory {rules_dir}: {', '.join(not_files)} is not a file")
    user = [p for p in found if p.is_file()]
    if mode == "extend":
        if not user:
            raise RulesError(f"rules directory {rules_dir} holds no .pl files")
        return shipped + tuple(user)
    missing = [str(rules_dir / name) for name in REQUIRED_FILES if not (rules_dir / name).is_file()]
    if missing:
        raise RulesError(f"rules mode 'replace' needs {' and '.join(missing)}")
    first = [rules_dir / name for name in RULE_FILES if (rules_dir / name).is_file()]
    return tuple(first + [p for p in user if p.name not in RULE_FILES])


def _read(path: Path) -> str:
    return read_text(path, "rules file", RulesError)


def _parse_alone(path: Path, text: str) -> list[Any]:
    """Parse one text; a syntax error names the file and line."""
    try:
        return list(PrologString(text))
    except ProbLogError as exc:
        location = getattr(exc, "location", None)
        line = location[1] if isinstance(location, tuple) and len(location) == 3 else None
        where = f"{path}:{line}" if line is not None else str(path)
        raise RulesError(f"{where}: {getattr(exc, 'base_message', exc)}") from None


# -- clauses -----------------------------------------------------------------
@dataclass
class _Collected:
    clauses: list[Any]
    action_rules: list[ActionRule]
    thresholds: dict[str, float]
    problems: tuple[str, ...]
    #: where each threshold was last defined (file:line)
    threshold_where: dict[str, str] = field(default_factory=dict)


def _head(statement: Any) -> Any:
    return statement.head if isinstance(statement, Clause) else statement


def _body(statement: Any) -> Any:
    return statement.body if isinstance(statement, Clause) else Term("true")


def _atom(term: Any) -> str | None:
    """The name of an atom (a constant symbol), else None."""
    if isinstance(term, Term) and not term.args and type(term) is Term and term.functor[:1].isalpha():
        return str(term.functor)
    return None


def _number(term: Any) -> float | None:
    value = getattr(term, "value", None) if term is not None and term.is_constant() else None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        return None
    return float(value)


def _collect(statements: list[Any], source_map: SourceMap, paths: tuple[Path | str, ...]) -> _Collected:
    clauses: list[Any] = []
    rules: dict[tuple[str, str], ActionRule] = {}
    thresholds: dict[str, float] = {}
    threshold_where: dict[str, str] = {}
    problems: list[str] = []
    rule_files: dict[tuple[str, str], str] = {}
    has_problem_rule = False

    def where(statement: Any) -> str:
        return _where(statement, source_map)

    for statement in statements:
        if isinstance(statement, AnnotatedDisjunction):
            if any(h.functor in ("action", "threshold", "problem") for h in statement.heads):
                raise RulesError(f"{where(statement)}: annotated disjunctions are not supported for "
                                 "action/2, threshold/2 or problem/1: write one rule per head")
            clauses.append(statement)
            continue
        head = _head(statement)
        signature = (head.functor, head.arity) if isinstance(head, Term) else (None, 0)
        if signature in ((":", 2), ("':'", 2)):
            raise RulesError(f"{where(statement)}: unexpected '{head}': write 'P::action(...)' with two colons")
        _check_body(_body(statement), where(statement))
        if signature == ("threshold", 2):
            threshold_name, value = _threshold(statement, where(statement))
            thresholds[threshold_name] = value
            threshold_where[threshold_name] = where(statement)
        elif signature == ("action", 2):
            rule = _action_rule(statement, where(statement))
            key = (rule.action, rule.problem)
            file_of = rule.where.rsplit(":", 1)[0]
            if key in rules and rule_files[key] == file_of:
                raise RulesError(f"{rule.where}: a second rule for action {rule.action} and problem "
                                 f"{rule.problem} (first at {rules[key].where}); give each pair one rule")
            rules.pop(key, None)
            rules[key] = rule
            rule_files[key] = file_of
            problems.append(rule.problem)
        else:
            if signature in (("problem", 1), ("reason", 2)):
                has_problem_rule = True
                problem_name = _atom(head.args[0])
                if problem_name is not None:
                    problems.append(problem_name)
            clauses.append(statement)

    names = ", ".join(str(p) for p in paths)
    if not has_problem_rule:
        raise RulesError(f"no problem/1 rule (the diagnosis) in {names}")
    if not rules:
        raise RulesError(f"no P::action(Action, Problem) rule (the tuning) in {names}")
    if not thresholds:
        raise RulesError(f"no threshold(Name, Value) fact in {names}")
    ordered = [p for p in PROBLEMS if p in problems] + [p for p in dict.fromkeys(problems) if p not in PROBLEMS]
    _check_thresholds_read(thresholds, threshold_where, [_body(c) for c in clauses] + [r.body for r in rules.values()])
    return _Collected(clauses, list(rules.values()), thresholds, tuple(ordered), threshold_where)


def _check_thresholds_read(thresholds: Mapping[str, float], where: Mapping[str, str], bodies: list[Any]) -> None:
    """A threshold no rule reads is a misspelt name (``threshold(acc_gpa, 0.1).`` meant to change
    ``acc_gap``): its value would be silently ignored, as a misspelt override in a config is not."""
    read = {name for body in bodies for term in _subterms(body) for arg in term.args
            if (name := _atom(arg)) is not None}
    for name in thresholds:
        if name not in read:
            known = ", ".join(sorted(n for n in thresholds if n in read))
            raise RulesError(f"{where[name]}: threshold {name!r} is read by no rule (a misspelt name?); "
                             f"the rules read {known}")


def _threshold(statement: Any, where: str) -> tuple[str, float]:
    if isinstance(statement, Clause) and str(statement.body) != "true":
        raise RulesError(f"{where}: threshold/2 must be a fact such as threshold(acc_gap, 0.2), "
                         f"not a rule")
    head = _head(statement)
    if head.probability is not None:
        raise RulesError(f"{where}: threshold/2 facts take no probability")
    name, value = _atom(head.args[0]), _number(head.args[1])
    if name is None or value is None:
        raise RulesError(f"{where}: threshold/2 needs a name and a finite number, "
                         f"got threshold({head.args[0]}, {head.args[1]})")
    return name, value


def _action_rule(statement: Any, where: str) -> ActionRule:
    head = _head(statement)
    probability = _number(head.probability) if head.probability is not None else None
    if probability is None or not 0.0 <= probability <= 1.0:
        raise RulesError(f"{where}: an action/2 rule needs a probability in [0, 1], "
                         f"as in 0.5::action(inc_lr, low_lr) :- problem(low_lr); got {statement}")
    action, problem = _atom(head.args[0]), _atom(head.args[1])
    if action is None or problem is None:
        raise RulesError(f"{where}: action/2 needs an action name and a problem name, got {head}")
    return ActionRule(action, problem, probability, _body(statement), where)


def _subterms(term: Any) -> Iterator[Any]:
    """Every sub-term, in source order (pre-order, left to right)."""
    stack = [term]
    while stack:
        current = stack.pop()
        if isinstance(current, Term):
            yield current
            stack.extend(reversed(current.args))


def _check_body(body: Any, where: str) -> None:
    """Catch misspelt fact names early: an unknown one would just never hold."""
    for term in _subterms(body):
        if term.functor == "fact" and term.arity == 2:
            name = _atom(term.args[0])
            if name is not None and name not in FACT_NAMES + STUDY_FACT_NAMES + COST_FACT_NAMES + TRIAL_FACT_NAMES:
                raise RulesError(f"{where}: unknown fact {name!r}; the facts are "
                                 f"{', '.join(FACT_NAMES + STUDY_FACT_NAMES + COST_FACT_NAMES + TRIAL_FACT_NAMES)}")


def _problem_inputs(clauses: list[Any]) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Per problem, the fact and threshold names read in the bodies of its problem/1 and reason/2 rules."""
    facts: dict[str, dict[str, None]] = {}
    thresholds: dict[str, dict[str, None]] = {}
    for clause in clauses:
        head = _head(clause)
        if not (isinstance(head, Term) and (head.functor, head.arity) in (("problem", 1), ("reason", 2))):
            continue
        problem = _atom(head.args[0])
        if problem is None:
            continue
        for term in _subterms(_body(clause)):
            if term.functor in ("fact", "threshold") and term.arity == 2:
                name = _atom(term.args[0])
                if name is not None:
                    target = facts if term.functor == "fact" else thresholds
                    target.setdefault(problem, {})[name] = None
    return {problem: (tuple(facts.get(problem, {})), tuple(thresholds.get(problem, {})))
            for problem in dict.fromkeys([*facts, *thresholds])}


def _check_threshold_uses(base: RuleBase, source_map: SourceMap) -> None:
    """A misspelt threshold name would make its rule silently never fire."""
    bodies = [(_where(c, source_map), _body(c)) for c in base.clauses]
    bodies += [(r.where, r.body) for r in base.action_rules]
    for where, body in bodies:
        for term in _subterms(body):
            if term.functor == "threshold" and term.arity == 2:
                name = _atom(term.args[0])
                if name is not None and name not in base.thresholds:
                    raise RulesError(f"{where}: unknown threshold {name!r}; the thresholds are "
                                     f"{', '.join(base.thresholds)}")


def _where(statement: Any, source_map: SourceMap) -> str:
    """``file:line`` of a parsed statement of the combined rules text."""
    location = getattr(statement, "location", None)
    if isinstance(location, tuple) and len(location) == 2 and isinstance(location[1], int):
        return source_map.where(location[1])
    return "rules"


def _apply_overrides(defaults: dict[str, float], overrides: Mapping[str, Any] | None) -> dict[str, float]:
    effective = dict(defaults)
    if not overrides:
        return effective
    if not isinstance(overrides, Mapping):
        raise RulesError(f"threshold overrides must be a table of name = number, got {overrides!r}")
    unknown = sorted(str(name) for name in overrides if name not in defaults)
    if unknown:
        raise RulesError(f"unknown threshold{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                         f"the rules define {', '.join(defaults)}")
    for name, value in overrides.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise RulesError(f"threshold {name} must be a finite number, got {value!r}")
        effective[name] = float(value)
    return effective


def _dry_run(base: RuleBase) -> None:
    """Evaluate the rules once on a healthy and on a diverged curve, so errors surface at load."""
    program = base.program()
    samples = (
        LearningCurve((2.0, 1.0, 0.6), (0.5, 0.8, 0.9), (1.8, 1.1, 0.8), (0.5, 0.7, 0.8)),
        LearningCurve((2.0, math.nan, math.nan), (0.5, 0.1, 0.1), (1.8, math.inf, math.nan), (0.5, 0.1, 0.1)),
    )
    costs = cost_facts({"params": 3e6, "flops": 2e8, "model_mb": 12.0, "latency_ms": 4.0},
                       {"params": 2.5e6, "flops": 1.5e8, "model_mb": 10.0, "latency_ms": 5.0}, {"latency_ms": 3.5})
    for curve in samples:
        program.evaluate(curve_facts(curve, 10), base.thresholds, base.initial_weights)
        program.evaluate(curve_facts(curve, 10) | costs, base.thresholds, base.initial_weights)
