"""Re-learn the tuning rules' probabilities from what earlier actions achieved.

Evidence: (action, problem, improved) triples, one per time a rule was
chosen and its outcome decided; the tuning layer judges them against the
study's noise (:mod:`symtuner.tuning.evidence`).

Learning: one interpretation per piece of evidence, observing
``action(Action, Problem)`` true (improved) or false, for a program holding
one learnable fact ``t(w0)::action(Action, Problem)`` per pair with evidence,
started from the initial weight w0. ProbLog's LFI (EM, identical
interpretations compiled once and counted) yields the maximum-likelihood
estimate k/n of each pair. That estimate alone would lock an action out after
a single failure (weight 0, never chosen again), so it is combined with a
Beta prior centred on the initial weight and worth ``PRIOR_STRENGTH``
interpretations, the posterior mean (k + s*w0) / (n + s), and finally kept
within [floor, ceiling] (widened to take in the written weight); a pair
without evidence keeps its written weight. The same evidence always gives the same weights, so
a resumed study re-learns exactly the weights it had.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from symtuner.core.errors import ConfigError
from symtuner.symbolic._problog import Constant, LFIProblem, SimpleProgram, Term, evaluatable

#: How many interpretations the initial weight counts for.
PRIOR_STRENGTH = 2.0

#: EM iterations cap (fully observed evidence converges in two).
MAX_ITERATIONS = 50

Evidence = tuple[str, str, bool]


def _check_bounds(floor: float, ceiling: float) -> None:
    for name, value in (("floor", floor), ("ceiling", ceiling)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
            raise ConfigError(f"the weight {name} must be a number in [0, 1], got {value!r}")
    if floor >= ceiling:
        raise ConfigError(f"the weight floor {floor!r} must be below the ceiling {ceiling!r}")


def _count(evidence: Sequence[Evidence], known: Mapping[tuple[str, str], float]
           ) -> dict[tuple[str, str], tuple[int, int]]:
    """(improved, total) per known pair; evidence on pairs the rules lack is ignored."""
    counts: dict[tuple[str, str], list[int]] = {}
    for item in evidence:
        if not isinstance(item, tuple) or len(item) != 3 or not isinstance(item[2], bool):
            raise ConfigError(f"evidence must be (action, problem, improved) tuples, got {item!r}")
        key = (item[0], item[1])
        if key in known:
            entry = counts.setdefault(key, [0, 0])
            entry[0] += item[2]
            entry[1] += 1
    return {key: (good, total) for key, (good, total) in sorted(counts.items())}


def _lfi(start: Mapping[tuple[str, str], float], counts: Mapping[tuple[str, str], tuple[int, int]]
         ) -> dict[tuple[str, str], float]:
    """Maximum-likelihood weights by ProbLog's LFI, one interpretation per evidence."""
    program = SimpleProgram()
    atoms = {}
    for action, problem in counts:
        atoms[(action, problem)] = Term("action", Term(action), Term(problem))
        program.add_fact(Term("action", Term(action), Term(problem),
                              p=Term("t", Constant(start[(action, problem)]))))
    examples = []
    for key, (good, total) in counts.items():
        examples.extend([[(atoms[key], True)]] * good)
        examples.extend([[(atoms[key], False)]] * (total - good))
    learner = LFIProblem(program, examples, knowledge=evaluatable(), max_iter=MAX_ITERATIONS)
    logger = logging.getLogger("problog_lfi")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        learner.run()
    finally:
        logger.setLevel(level)
    learned: dict[tuple[str, str], float] = {}
    for index, name in enumerate(learner.names):
        key = (str(name.args[0]), str(name.args[1]))
        (_, value), = learner.get_weights(index)
        learned[key] = float(value)
    return learned


def learn_weights(initial: Mapping[tuple[str, str], float], evidence: Sequence[Evidence],
                  floor: float = 0.05, ceiling: float = 0.95) -> dict[tuple[str, str], float]:
    """Weights re-learned from all evidence.

    Pairs without evidence keep the weight their rule was written with: no
    evidence, no change. A learned weight stays within [floor, ceiling],
    widened to take in the written weight (a rule written at 0.99 stays at
    0.99 while every trial after it improves, and one written at 0.02 can
    stay there), so no action is locked out for good by its failures.
    """
    _check_bounds(floor, ceiling)
    for key, value in initial.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
            raise ConfigError(f"initial weight of {key} must lie in [0, 1], got {value!r}")
    prior = {key: float(value) for key, value in initial.items()}
    counts = _count(evidence, prior)
    weights = dict(prior)
    if not counts:
        return weights
    # EM cannot move a weight off exactly 0 or 1 (that evidence would be "impossible").
    start = {key: min(max(value, 1e-3), 1.0 - 1e-3) for key, value in prior.items()}
    estimates = _lfi(start, counts)
    for key, (_, total) in counts.items():
        low, high = min(floor, prior[key]), max(ceiling, prior[key])
        learned = (total * estimates[key] + PRIOR_STRENGTH * prior[key]) / (total + PRIOR_STRENGTH)
        weights[key] = float(min(max(learned, low), high))
    return weights
