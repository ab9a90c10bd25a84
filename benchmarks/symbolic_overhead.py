"""Time the symbolic step per trial: evidence + LFI + facts + diagnosis + choice.

A study with N stored trials re-learns the rule weights from all evidence
before it diagnoses the newest trial; this measures that whole step for
N = 10, 100 and 300 synthetic trials (every trial diagnosed, 1-2 actions
each, random outcomes) and prints a table.

    .venv/bin/python benchmarks/symbolic_overhead.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time

from symtuner.core.records import ChosenAction, Diagnosis, LearningCurve, Trial, TrialState
from symtuner.symbolic.engine import SymbolicEngine, analyse
from symtuner.symbolic.lfi import evidence_from_trials, learn_weights
from symtuner.symbolic.rules import load_rules

SIZES = (10, 100, 300)


def synthetic_curve(rng: random.Random, epochs: int = 8) -> LearningCurve:
    """A plausible curve with a random rate, noise and train/val gap."""
    rate, gap, noise = rng.uniform(0.1, 0.8), rng.uniform(0.0, 0.6), rng.uniform(0.0, 0.1)
    loss = [2.3 * math.exp(-rate * e) * (1 + rng.uniform(-noise, noise)) for e in range(epochs)]
    val_loss = [v + gap * e / epochs for e, v in enumerate(loss)]
    acc = [min(1.0, 1.0 - v / 2.6) for v in loss]
    val_acc = [max(0.0, a - gap / 2) for a in acc]
    return LearningCurve(tuple(loss), tuple(acc), tuple(val_loss), tuple(val_acc))


def synthetic_trials(n: int, pairs: list[tuple[str, str]], rng: random.Random) -> list[Trial]:
    trials = []
    for number in range(n):
        chosen = rng.sample(pairs, rng.choice((1, 2)))
        diagnosis = Diagnosis(facts={}, problems=tuple(p for _, p in chosen),
                              actions=tuple(ChosenAction(a, p, 0.5) for a, p in chosen), explanation="")
        trials.append(Trial(number=number, state=TrialState.COMPLETE, params={}, tuning_version=0,
                            objective=rng.uniform(0.5, 0.99), curve=synthetic_curve(rng), diagnosis=diagnosis))
    return trials


def time_step(engine: SymbolicEngine, trials: list[Trial], rng: random.Random) -> dict[str, float]:
    """Seconds for each part of one symbolic step after the last trial."""
    t0 = time.perf_counter()
    evidence = evidence_from_trials(trials, maximize=True)
    weights = learn_weights(engine.rules.initial_weights, evidence)
    t1 = time.perf_counter()
    analyse(trials[-1].curve, 10, weights, engine, lambda _name: True, rng)  # type: ignore[arg-type]
    t2 = time.perf_counter()
    return {"lfi": t1 - t0, "diagnosis": t2 - t1, "total": t2 - t0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions per size (median shown)")
    args = parser.parse_args()
    rules = load_rules()
    engine = SymbolicEngine(rules)
    pairs = sorted(rules.initial_weights)
    rng = random.Random(0)
    time_step(engine, synthetic_trials(10, pairs, rng), rng)  # warm-up: imports, first compilation
    print(f"{'trials':>7} {'evidence':>9} {'LFI (s)':>9} {'diagnosis (s)':>14} {'total (s)':>10}")
    for n in SIZES:
        trials = synthetic_trials(n, pairs, rng)
        runs = [time_step(engine, trials, rng) for _ in range(args.repeat)]
        n_evidence = len(evidence_from_trials(trials))
        median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        print(f"{n:>7} {n_evidence:>9} {median['lfi']:>9.3f} {median['diagnosis']:>14.3f} {median['total']:>10.3f}")


if __name__ == "__main__":
    main()
