"""The symbolic component's front door: diagnose a curve, rank and choose actions.

``SymbolicEngine`` evaluates a ``RuleBase`` with ProbLog; ``analyse`` runs the
whole step for one trial (facts, diagnosis, choice, explanation) and
``diagnose_history`` does the same for a bare Keras ``History.history``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from symtuner.core.errors import ConfigError, RulesError
from symtuner.core.records import Diagnosis, LearningCurve, Reason
from symtuner.symbolic.choice import choose_actions
from symtuner.symbolic.explain import explain, format_reason, term_text
from symtuner.symbolic.facts import STUDY_FACT_NAMES, curve_facts
from symtuner.symbolic.program import LOST_QUERIES, STOP_QUERIES, split_results
from symtuner.symbolic.rules import RuleBase

__all__ = ["Findings", "SymbolicEngine", "analyse", "choose_actions", "diagnose_epochs", "diagnose_history",
           "diagnose_partial", "explain", "history_classes", "stop_reasons"]

#: A problem whose rules give it at least this probability is diagnosed.
DIAGNOSED = 0.5


@dataclass(frozen=True)
class Findings:
    """What the rules found on one set of facts, before any action is chosen."""

    problems: list[str]
    ranked: dict[str, list[tuple[str, float]]]
    reasons: dict[str, list[Any]]
    causes: dict[str, str]
    deferred: dict[str, str]
    notes: list[tuple[str, Any]]
    stops: list[Any]
    #: action -> the diagnosed problem that blocks it (``blocks/2``)
    blocked: dict[str, str] = field(default_factory=dict)
    #: the notes (by name) that withhold the verdict (``withholds/1``)
    withheld: list[str] = field(default_factory=list)
    #: problem -> why the tuning rules do not act on it yet (``waits/2`` terms)
    waits: dict[str, list[Any]] = field(default_factory=dict)


class SymbolicEngine:
    """Evaluates one rule base; the ProbLog program is prepared once."""

    def __init__(self, rules: RuleBase) -> None:
        if not isinstance(rules, RuleBase):
            raise RulesError(f"SymbolicEngine needs a RuleBase from load_rules(), got {type(rules).__name__}")
        self.rules = rules
        self._program = rules.program()
        self._rule_order = {(r.action, r.problem): i for i, r in enumerate(rules.action_rules)}

    def stops(self, facts: Mapping[str, float]) -> list[Any]:
        """The rules' reasons to stop a running trial (``stop/1``) on these facts."""
        result = self._program.evaluate(facts, self.rules.thresholds, self.rules.initial_weights, STOP_QUERIES)
        return split_results(result).stops

    def lost(self, facts: Mapping[str, float]) -> list[Any]:
        """The rules' reasons to call the training lost (``lost/1``: a step so large nothing is left to wait for)."""
        result = self._program.evaluate(facts, self.rules.thresholds, self.rules.initial_weights, LOST_QUERIES)
        return split_results(result).lost

    def findings(self, facts: Mapping[str, float], weights: Mapping[tuple[str, str], float]) -> Findings:
        """The problems the rules find (Table 1's order, then the user's), their
        reasons, causes and conflicts, and per problem its candidate actions
        ranked by probability (highest first).

        ``weights`` replaces the rules' probabilities per (action, problem);
        pairs it lacks keep the probability written in the rules.
        """
        result = split_results(self._program.evaluate(facts, self.rules.thresholds, weights))
        known = [p for p in self.rules.problems if result.problems.get(p, 0.0) >= DIAGNOSED]
        extra = sorted(p for p, prob in result.problems.items()
                       if prob >= DIAGNOSED and p not in self.rules.problems)
        problems = known + extra
        ranked: dict[str, list[tuple[str, float]]] = {}
        for problem in problems:
            candidates = [(action, prob) for (action, of), prob in result.actions.items()
                          if of == problem and prob > 0.0]
            candidates.sort(key=lambda c: (-c[1], self._rule_order.get((c[0], problem), len(self._rule_order)),
                                           c[0]))
            ranked[problem] = candidates
        diagnosed = set(problems)
        return Findings(
            problems=problems, ranked=ranked,
            reasons={p: r for p, r in result.reasons.items() if p in diagnosed},
            causes={s: c for s, c in result.causes.items() if s in diagnosed and c in diagnosed},
            deferred={p: q for p, q in result.deferred.items() if p in diagnosed and q in diagnosed},
            notes=result.notes, stops=result.stops,
            blocked={a: p for a, p in result.blocks.items() if p in diagnosed},
            withheld=[name for name, _ in result.notes if name in result.withholds],
            waits={p: w for p, w in result.waits.items() if p in diagnosed})

    def diagnose(self, facts: Mapping[str, float], weights: Mapping[tuple[str, str], float]
                 ) -> tuple[list[str], dict[str, list[tuple[str, float]]]]:
        """The problems found and, per problem, its ranked candidate actions."""
        found = self.findings(facts, weights)
        return found.problems, found.ranked


def analyse(curve: LearningCurve, n_classes: int | None, weights: Mapping[tuple[str, str], float],
            engine: SymbolicEngine, is_applicable: Callable[[str, str], bool], rng: random.Random,
            opposites: Mapping[str, str | tuple[str, ...]] | None = None, loss_scale: float | None = None,
            reason_of: Callable[[str, str], str] | None = None,
            blocked: Mapping[tuple[str, str], str] | None = None,
            extra_facts: Mapping[str, float] | None = None) -> Diagnosis:
    """Facts, diagnosis, chosen actions and explanation of one trial's curve.

    ``opposites`` names actions that undo each other (see :func:`choose_actions`);
    ``loss_scale`` overrides the scale of the losses (see ``curve_facts``);
    ``reason_of`` says why an action is not applicable and ``blocked`` names
    pairs not to choose (see :func:`choose_actions`), to which the actions the
    rules block (``blocks/2``) are added. ``extra_facts`` are facts beside the
    curve's (what the network costs: :func:`symtuner.symbolic.resources.cost_facts`).
    """
    facts = curve_facts(curve, n_classes, loss_scale) | dict(extra_facts or {})
    found = engine.findings(facts, weights)
    ruled_out = {(name, problem): f"blocked by {found.blocked[name]}" for problem, candidates in found.ranked.items()
                 for name, _ in candidates if name in found.blocked}
    actions, skipped = choose_actions(found.ranked, is_applicable, rng, opposites=opposites, reason_of=reason_of,
                                      blocked={**ruled_out, **(blocked or {})})
    reasons = {p: tuple(Reason(term_text(t), format_reason(t)) for t in terms)
               for p, terms in found.reasons.items()}
    notes = tuple(format_reason(term) for _, term in found.notes)
    waits = {p: [format_reason(t) for t in terms] for p, terms in found.waits.items()}
    text = explain(facts, found.problems, actions, {p: [r.text for r in rs] for p, rs in reasons.items()},
                   found.causes, found.deferred, notes, engine.rules.thresholds, engine.rules.problem_inputs,
                   withheld=bool(found.withheld), waits=waits)
    notes += tuple(f"{p}: {why}" for p, whys in waits.items() for why in whys)
    return Diagnosis(facts=facts, problems=tuple(found.problems), actions=tuple(actions), explanation=text,
                     skipped=tuple(skipped), causes=found.causes, deferred=found.deferred, reasons=reasons,
                     notes=notes)


def stop_reasons(curve: LearningCurve, n_classes: int | None, engine: SymbolicEngine,
                 study_facts: Mapping[str, float], loss_scale: float | None = None) -> list[str]:
    """Why the rules would stop a training whose curve so far is ``curve`` (empty: go on).

    ``study_facts`` holds the facts of ``STUDY_FACT_NAMES`` (the best trial so
    far and this one's projection); missing ones are 0.
    """
    facts = curve_facts(curve, n_classes, loss_scale)
    facts |= {name: float(study_facts.get(name, 0.0)) for name in STUDY_FACT_NAMES}
    return [format_reason(term) for term in engine.stops(facts)]


def diagnose_epochs(curve: LearningCurve, n_classes: int | None, engine: SymbolicEngine,
                    loss_scale: float | None = None, first: int = 1) -> list[Diagnosis]:
    """The diagnosis after each epoch from ``first`` on: the problems seen so far.

    Each entry is the diagnosis of the curve truncated at that epoch, with the
    same rules as a finished training (so it is what symbolic early stopping
    sees); curves shorter than the rules' minimum get none but a divergence.
    """
    return [diagnose_partial(curve, epoch, n_classes, engine, loss_scale)
            for epoch in range(max(first, 1), curve.n_epochs + 1)]


def diagnose_partial(curve: LearningCurve, epochs: int, n_classes: int | None, engine: SymbolicEngine,
                     loss_scale: float | None = None,
                     opposites: Mapping[str, str | tuple[str, ...]] | None = None) -> Diagnosis:
    """The diagnosis of the first ``epochs`` epochs of ``curve`` (a training still running); ``opposites``
    as in :func:`choose_actions`."""
    return analyse(curve.truncated(epochs), n_classes, engine.rules.initial_weights, engine,
                   lambda _name, _problem: True, random.Random(0), opposites=opposites, loss_scale=loss_scale)


def history_classes(history: Mapping[str, Any]) -> int | None:
    """The class count a history carries (symtuner's own and the test curves do), else None."""
    given = history.get("n_classes")
    if given is None:
        return None
    if isinstance(given, bool) or not isinstance(given, int) or given < 2:
        raise ConfigError(f"history n_classes must be an integer >= 2, got {given!r}")
    return given


def history_loss_scale(history: Mapping[str, Any]) -> float | None:
    """The loss scale a history carries (``loss_scale``: a regression's baseline MSE), else None."""
    given = history.get("loss_scale")
    if given is None:
        return None
    if isinstance(given, bool) or not isinstance(given, (int, float)) or not math.isfinite(given) or given <= 0:
        raise ConfigError(f"history loss_scale must be a positive number, got {given!r}")
    return float(given)


def diagnose_history(history: Mapping[str, Any], n_classes: int | None, engine: SymbolicEngine,
                     opposites: Mapping[str, str | tuple[str, ...]] | None = None, loss_scale: float | None = None,
                     epochs: int | None = None) -> Diagnosis:
    """Diagnose a Keras ``History.history`` (``None`` values stand for NaN).

    Metric names are normalised first (``binary_accuracy``, ``acc``, percent
    accuracies, loss-only histories: ``symtuner.integrations.histories.normalise_series``).
    Every action counts as applicable and the rules' own probabilities are
    used. Without a class count (argument or the history's ``n_classes``)
    or a loss scale (argument or the history's ``loss_scale``, such as a
    regression's baseline MSE), losses are measured against the curve's
    first-epoch level and the explanation says so. ``epochs`` diagnoses only the first epochs (a
    training still running).
    """
    from symtuner.core.series import normalise_series

    if not isinstance(history, Mapping):
        raise ConfigError(f"a history must be a JSON object of series, got {type(history).__name__}")
    if n_classes is None:
        n_classes = history_classes(history)
    if loss_scale is None:
        loss_scale = history_loss_scale(history)
    series = {key: value for key, value in history.items() if isinstance(value, list)}
    curve = LearningCurve.from_history(normalise_series(series))
    if epochs is not None:
        curve = curve.truncated(epochs)
    diagnosis = analyse(curve, n_classes, engine.rules.initial_weights, engine, lambda _name, _problem: True,
                        random.Random(0), opposites=opposites, loss_scale=loss_scale)
    if n_classes is not None or loss_scale is not None:
        return diagnosis
    note = " (class count unknown: losses measured against the first-epoch level; pass it to be exact)"
    return replace(diagnosis, explanation=diagnosis.explanation + note)
