"""Seed-by-seed differences between one strategy and each of the others.

Runs with the same seed share the data split, the validation split, the
network initialisation and the first proposal, so the fair comparison of two
strategies is per seed: the difference of their results on each seed, how
many seeds each won, and a Wilcoxon signed-rank test of those differences.
With a handful of seeds the test is weak (with 3 seeds no two-sided p-value
can fall below 0.25); it is reported so that nobody has to guess.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from symtuner.app.compare.results import RunResult, mean_of, std_of

#: Differences smaller than this count as ties.
TIE = 1e-9

#: Metrics where the smaller value is the better one (a "win" is a negative difference).
LOWER_IS_BETTER = frozenset({"chance_share", "infeasible_share"})


@dataclass(frozen=True)
class PairedDifference:
    """``reference`` minus ``other`` on ``metric``, over the seeds both have."""

    reference: str
    other: str
    metric: str
    seeds: tuple[int, ...]
    differences: tuple[float, ...]

    @property
    def mean(self) -> float | None:
        return mean_of(self.differences)

    @property
    def std(self) -> float | None:
        return std_of(self.differences)

    @property
    def wins(self) -> int:
        """Seeds on which ``reference`` did better (higher, or lower for LOWER_IS_BETTER metrics)."""
        sign = -1.0 if self.metric in LOWER_IS_BETTER else 1.0
        return sum(sign * d > TIE for d in self.differences)

    @property
    def losses(self) -> int:
        sign = -1.0 if self.metric in LOWER_IS_BETTER else 1.0
        return sum(sign * d < -TIE for d in self.differences)

    @property
    def ties(self) -> int:
        return len(self.differences) - self.wins - self.losses

    @property
    def p_value(self) -> float | None:
        """Two-sided Wilcoxon signed-rank p-value (ties dropped); None with fewer than two seeds or
        without a non-zero difference (one seed cannot test anything)."""
        nonzero = [d for d in self.differences if abs(d) > TIE]
        if not nonzero or len(self.differences) < 2:
            return None
        from scipy.stats import wilcoxon

        p = float(wilcoxon(nonzero, alternative="two-sided").pvalue)
        return p if math.isfinite(p) else None

    def to_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "other": self.other, "metric": self.metric,
                "seeds": list(self.seeds), "differences": list(self.differences), "mean": self.mean,
                "std": self.std, "wins": self.wins, "ties": self.ties, "losses": self.losses,
                "p_value": self.p_value}


def paired_differences(runs: Sequence[RunResult], reference: str, others: Sequence[str],
                       metric: str) -> list[PairedDifference]:
    """``reference`` minus each of ``others`` on ``metric`` (a key of ``RunResult.metrics``), seed by seed."""
    def values(strategy: str) -> dict[int, float]:
        out = {}
        for run in runs:
            if run.strategy == strategy:
                value = run.metrics(None)[metric]
                if value is not None:
                    out[run.seed] = value
        return out

    mine = values(reference)
    pairs = []
    for other in others:
        if other == reference:
            continue
        theirs = values(other)
        seeds = tuple(sorted(set(mine) & set(theirs)))
        if seeds:
            pairs.append(PairedDifference(reference, other, metric, seeds,
                                          tuple(mine[s] - theirs[s] for s in seeds)))
    return pairs
