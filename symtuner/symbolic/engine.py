"""The symbolic component's front door: diagnose a curve, rank and choose actions.

``SymbolicEngine`` evaluates a ``RuleBase`` with ProbLog; ``analyse`` runs the
whole step for one trial (facts, diagnosis, choice, explanation) and
``diagnose_history`` does the same for a bare Keras ``History.history``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from typing import Any

from symtuner.errors import ConfigError, RulesError
from symtuner.records import Diagnosis, LearningCurve
from symtuner.symbolic.choice import choose_actions
from symtuner.symbolic.explain import explain
from symtuner.symbolic.facts import curve_facts
from symtuner.symbolic.program import split_results
from symtuner.symbolic.rules import RuleBase

__all__ = ["SymbolicEngine", "analyse", "choose_actions", "diagnose_history", "explain", "infer_n_classes"]

#: A problem whose rules give it at least this probability is diagnosed.
DIAGNOSED = 0.5

#: Bounds of the class count inferred from a history's losses.
MAX_INFERRED_CLASSES = 1000


class SymbolicEngine:
    """Evaluates one rule base; the ProbLog program is prepared once."""

    def __init__(self, rules: RuleBase) -> None:
        if not isinstance(rules, RuleBase):
            raise RulesError(f"SymbolicEngine needs a RuleBase from load_rules(), got {type(rules).__name__}")
        self.rules = rules
        self._program = rules.program()
        self._rule_order = {(r.action, r.problem): i for i, r in enumerate(rules.action_rules)}

    def diagnose(self, facts: Mapping[str, float], weights: Mapping[tuple[str, str], float]
                 ) -> tuple[list[str], dict[str, list[tuple[str, float]]]]:
        """The problems the rules find (Table 1's order, then the user's) and,
        per problem, its candidate actions ranked by probability (highest first).

        ``weights`` replaces the rules' probabilities per (action, problem);
        pairs it lacks keep the probability written in the rules.
        """
        result = self._program.evaluate(facts, self.rules.thresholds, weights)
        problem_p, action_p = split_results(result)
        known = [p for p in self.rules.problems if problem_p.get(p, 0.0) >= DIAGNOSED]
        extra = sorted(p for p, prob in problem_p.items() if prob >= DIAGNOSED and p not in self.rules.problems)
        problems = known + extra
        ranked: dict[str, list[tuple[str, float]]] = {}
        for problem in problems:
            candidates = [(action, prob) for (action, of), prob in action_p.items() if of == problem and prob > 0.0]
            candidates.sort(key=lambda c: (-c[1], self._rule_order.get((c[0], problem), len(self._rule_order)),
                                           c[0]))
            ranked[problem] = candidates
        return problems, ranked


def analyse(curve: LearningCurve, n_classes: int, weights: Mapping[tuple[str, str], float],
            engine: SymbolicEngine, is_applicable: Callable[[str], bool], rng: random.Random,
            opposites: Mapping[str, str] | None = None) -> Diagnosis:
    """Facts, diagnosis, chosen actions and explanation of one trial's curve.

    ``opposites`` names actions that undo each other (see :func:`choose_actions`).
    """
    facts = curve_facts(curve, n_classes)
    problems, ranked = engine.diagnose(facts, weights)
    actions, skipped = choose_actions(ranked, is_applicable, rng, opposites=opposites)
    text = explain(facts, problems, actions, engine.rules.thresholds, engine.rules.problem_inputs)
    return Diagnosis(facts=facts, problems=tuple(problems), actions=tuple(actions), explanation=text,
                     skipped=tuple(skipped))


def infer_n_classes(history: Mapping[str, Any]) -> tuple[int, str]:
    """The class count of a history without one, and how it was found.

    A history written by symtuner (and the test curves) carries ``n_classes``.
    Otherwise it is estimated from the first epoch's losses: a classifier
    starts at ln(n_classes), the loss of a uniform guess, and training only
    lowers it, so ceil(exp(largest first-epoch loss)) is a lower bound (kept
    within 2..1000). With no finite first-epoch loss, 10 is assumed.
    """
    given = history.get("n_classes")
    if given is not None:
        if isinstance(given, bool) or not isinstance(given, int) or given < 2:
            raise ConfigError(f"history n_classes must be an integer >= 2, got {given!r}")
        return given, "given"
    firsts = []
    for key in ("loss", "val_loss"):
        series = history.get(key)
        if isinstance(series, list) and series and isinstance(series[0], (int, float)) \
                and not isinstance(series[0], bool) and math.isfinite(series[0]):
            firsts.append(float(series[0]))
    if not firsts:
        return 10, "assumed 10: no finite first-epoch loss"
    estimate = math.ceil(math.exp(min(max(firsts), math.log(MAX_INFERRED_CLASSES))) - 1e-9)
    return max(2, min(estimate, MAX_INFERRED_CLASSES)), "inferred from the first-epoch loss"


def diagnose_history(history: dict[str, Any], n_classes: int | None, engine: SymbolicEngine,
                     opposites: Mapping[str, str] | None = None) -> Diagnosis:
    """Diagnose a Keras ``History.history`` dict (``None`` values stand for NaN).

    Every action counts as applicable and the rules' own probabilities are
    used. Without ``n_classes`` the count comes from ``infer_n_classes`` and
    the explanation says so.
    """
    if not isinstance(history, dict):
        raise ConfigError(f"a history must be a JSON object of series, got {type(history).__name__}")
    note = ""
    if n_classes is None:
        n_classes, how = infer_n_classes(history)
        if how != "given":
            note = f" (n_classes {n_classes}, {how}; pass the class count to be exact)"
    curve = LearningCurve.from_history(history)
    diagnosis = analyse(curve, n_classes, engine.rules.initial_weights, engine, lambda _name: True,
                        random.Random(0), opposites=opposites)
    if not note:
        return diagnosis
    return Diagnosis(facts=diagnosis.facts, problems=diagnosis.problems, actions=diagnosis.actions,
                     explanation=diagnosis.explanation + note, skipped=diagnosis.skipped)
