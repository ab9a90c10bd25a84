"""The suite's outputs: one row per entry (space) in ``suite.md``, ``suite.csv`` and ``suite.json``.

Per entry: the mean test accuracy of each strategy's selected model (the
trial with the best validation accuracy), and symtuner minus each other
strategy, seed by seed: the mean difference in percentage points, the seeds
on which symtuner was better, worse or tied, and the two-sided Wilcoxon
signed-rank p of those differences (:mod:`symtuner.app.compare.paired`). The
last row pools every entry's seeds: each (entry, seed) pair is one paired
difference.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from symtuner.app.compare.paired import PairedDifference, paired_differences
from symtuner.app.compare.report import PAIRED_REFERENCE, SIMULATED_NOTE, _finite
from symtuner.app.compare.results import RunResult, mean_of, std_of
from symtuner.app.compare.suite import Suite

#: What the suite table compares: the test accuracy of each run's selected model.
METRIC = "test_accuracy"
#: The name of the row that pools all entries.
ALL_ROW = "all entries"
#: Columns of suite.csv, one row per entry (or the pooled row) and strategy.
CSV_COLUMNS = ("entry", "dataset", "space", "simulated", "trials", "epochs", "strategy", "runs",
               "mean_test_accuracy", "std_test_accuracy", "mean_trials", "mean_epochs", "difference_points",
               "better", "worse", "tied", "p_value")


@dataclass(frozen=True)
class SuiteRow:
    """One entry of the suite (or all entries pooled): each strategy's runs and the paired differences."""

    entry: str
    dataset: str
    space: str
    trials: int | None
    epochs: int | None
    strategies: tuple[str, ...]
    runs: tuple[RunResult, ...]
    pairs: tuple[PairedDifference, ...]

    def values(self, strategy: str, key: str = METRIC) -> list[float]:
        """The runs' values of ``key`` (one per seed; per entry and seed in the pooled row)."""
        return [v for v in (run.metrics(None)[key] for run in self.runs if run.strategy == strategy)
                if v is not None]

    def mean(self, strategy: str, key: str = METRIC) -> float | None:
        return mean_of(self.values(strategy, key))

    @property
    def pooled(self) -> bool:
        return self.entry == ALL_ROW

    @property
    def samples(self) -> int:
        """Seeds of the entry (pairs of entry and seed in the pooled row) with a run of any strategy."""
        return len({self.label(run) for run in self.runs})

    def label(self, run: RunResult) -> str:
        """``seed3`` in an entry's row; ``low-lr/seed3`` in the pooled row (the run's entry directory)."""
        return f"{run.study_dir.parent.parent.name}/seed{run.seed}" if self.pooled else f"seed{run.seed}"

    def pair(self, other: str) -> PairedDifference | None:
        return next((p for p in self.pairs if p.other == other), None)

    def to_dict(self) -> dict[str, Any]:
        return {"entry": self.entry, "dataset": self.dataset, "space": self.space, "trials": self.trials,
                "epochs": self.epochs,
                "strategies": {s: {"runs": sum(r.strategy == s for r in self.runs),
                                   "mean_test_accuracy": self.mean(s), "std_test_accuracy": std_of(self.values(s)),
                                   "test_accuracy": {self.label(r): r.metrics(None)[METRIC] for r in self.runs
                                                     if r.strategy == s},
                                   "mean_trials": self.mean(s, "trials"), "mean_epochs": self.mean(s, "epochs")}
                               for s in self.strategies},
                "paired": [pair.to_dict() | {"mean_points": _points(pair.mean)} for pair in self.pairs]}


def _points(value: float | None) -> float | None:
    return None if value is None else 100.0 * value


def suite_rows(suite: Suite) -> list[SuiteRow]:
    """One row per entry in suite order, then the pooled row (when there are at least two entries)."""
    strategies = suite.spec.strategies
    rows = []
    for entry, comparison in suite.results:
        rows.append(SuiteRow(entry.name, entry.dataset, entry.space.name, comparison.spec.trials,
                             comparison.spec.epochs, strategies, comparison.runs,
                             tuple(_pairs(comparison.runs, strategies))))
    if len(rows) > 1:  # every (entry, seed) pair is one paired difference
        pooled = []
        for other in strategies:
            mine = [pair for row in rows for pair in row.pairs if pair.other == other]
            if mine:
                pooled.append(PairedDifference(PAIRED_REFERENCE, other, METRIC,
                                               tuple(seed for pair in mine for seed in pair.seeds),
                                               tuple(d for pair in mine for d in pair.differences)))
        rows.append(SuiteRow(ALL_ROW, "", "", None, None, strategies,
                             tuple(run for row in rows for run in row.runs), tuple(pooled)))
    return rows


def _pairs(runs: tuple[RunResult, ...] | list[RunResult], strategies: tuple[str, ...]) -> list[PairedDifference]:
    if PAIRED_REFERENCE not in strategies:
        return []
    return paired_differences(runs, PAIRED_REFERENCE, strategies, METRIC)


def _num(value: float | None, digits: int, sign: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def suite_table(suite: Suite) -> str:
    """The suite table (markdown): per entry, each strategy's mean test accuracy and the paired differences."""
    strategies = suite.spec.strategies
    others = [s for s in strategies if s != PAIRED_REFERENCE] if PAIRED_REFERENCE in strategies else []
    head = ["space", "data set", "trials x epochs", "seeds", *(f"{s} test acc" for s in strategies)]
    for other in others:
        head += [f"{PAIRED_REFERENCE} - {other} (points)", "better / worse / tied", "Wilcoxon p"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in suite_rows(suite):
        seeds = row.samples
        budget = f"{row.trials} x {row.epochs}" if row.trials is not None else "-"
        cells = [f"**{row.entry}**" if row.pooled else row.entry, row.dataset or "-", budget,
                 str(seeds), *(_num(row.mean(s), 4) for s in strategies)]
        for other in others:
            pair = row.pair(other)
            if pair is None:
                cells += ["-", "-", "-"]
            else:
                cells += [_num(_points(pair.mean), 1, sign=True), f"{pair.wins} / {pair.losses} / {pair.ties}",
                          _num(pair.p_value, 3)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def budget_table(suite: Suite) -> str:
    """Mean trials and epochs each strategy's runs used, per entry (markdown)."""
    strategies = suite.spec.strategies
    head = ["space", *(f"{s} trials / epochs" for s in strategies)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in suite_rows(suite):
        if row.pooled:
            continue
        lines.append("| " + " | ".join([row.entry, *(f"{_num(row.mean(s, 'trials'), 1)} / "
                                                      f"{_num(row.mean(s, 'epochs'), 1)}" for s in strategies)])
                     + " |")
    return "\n".join(lines)


def markdown(suite: Suite) -> str:
    """The whole suite.md."""
    spec = suite.spec
    matched = sorted({s for _, c in suite.results for s in c.spec.epoch_matched}, key=spec.strategies.index)
    parts = [f"# Suite {spec.path.name}" + (" (SIMULATED)" if spec.simulate else ""), ""]
    if spec.simulate:
        parts += [f"**{SIMULATED_NOTE}**", ""]
    parts += [
        f"- suite file: {spec.path}; strategies: {', '.join(spec.strategies)}; seeds: "
        f"{', '.join(map(str, spec.seeds))}",
        "- each cell: the test accuracy of each run's selected model (its trial with the best validation "
        "accuracy), mean over seeds",
        *([f"- {', '.join(matched)}: an equal epoch budget of trials x epochs per run instead of a trial count "
           "(the most a run at equal trials can use; its pruned trials buy more trials)"] if matched else []),
        f"- {PAIRED_REFERENCE} - other: the mean of the per-seed differences in percentage points; better / worse / "
        "tied: seeds on which symtuner's was higher / lower / equal; Wilcoxon p: two-sided signed-rank test "
        "of the per-seed differences (with n seeds no p falls below 2 / 2^n)",
        *([f"- {ALL_ROW}: every (entry, seed) pair of every entry as one paired difference"]
          if len(suite.results) > 1 else []),
        "",
        "## Test accuracy of the selected model", "", suite_table(suite), "",
        "## Trials and epochs used (mean over seeds)", "", budget_table(suite), "",
        "## Entries", "",
    ]
    for entry, _ in suite.results:
        what = f": {entry.description}" if entry.description else ""
        parts.append(f"- `{entry.name}`{what} ({entry.dataset}, space {entry.space.name}; "
                     f"[results]({entry.name}/results.md))")
    parts.append("")
    return "\n".join(parts)


def csv_rows(suite: Suite) -> list[dict[str, Any]]:
    """The rows of suite.csv: one per entry (and the pooled row) and strategy."""
    out = []
    for row in suite_rows(suite):
        for strategy in row.strategies:
            pair = row.pair(strategy)
            values: dict[str, Any] = {
                "entry": row.entry, "dataset": row.dataset, "space": row.space, "simulated": suite.spec.simulate,
                "trials": row.trials, "epochs": row.epochs, "strategy": strategy,
                "runs": sum(r.strategy == strategy for r in row.runs),
                "mean_test_accuracy": row.mean(strategy), "std_test_accuracy": std_of(row.values(strategy)),
                "mean_trials": row.mean(strategy, "trials"), "mean_epochs": row.mean(strategy, "epochs"),
                "difference_points": _points(pair.mean) if pair else None,
                "better": pair.wins if pair else None, "worse": pair.losses if pair else None,
                "tied": pair.ties if pair else None, "p_value": pair.p_value if pair else None}
            out.append({key: ("" if values[key] is None else values[key]) for key in CSV_COLUMNS})
    return out


def as_json(suite: Suite) -> dict[str, Any]:
    spec = suite.spec
    return {"suite": {**spec.manifest(), "out": str(spec.out), "metric": METRIC, "reference": PAIRED_REFERENCE,
                      "note": SIMULATED_NOTE if spec.simulate else None},
            "rows": [row.to_dict() for row in suite_rows(suite)]}


def write_suite_outputs(suite: Suite) -> dict[str, Path]:
    """Write suite.md, suite.csv and suite.json into the suite's output directory."""
    out = Path(suite.spec.out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": out / "suite.md", "csv": out / "suite.csv", "json": out / "suite.json"}
    paths["markdown"].write_text(markdown(suite), encoding="utf-8")
    with paths["csv"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(csv_rows(suite))
    paths["json"].write_text(json.dumps(_finite(as_json(suite)), indent=1, allow_nan=False, default=str) + "\n",
                             encoding="utf-8")
    return paths


__all__ = ["ALL_ROW", "CSV_COLUMNS", "METRIC", "SuiteRow", "as_json", "budget_table", "csv_rows", "markdown",
           "suite_rows", "suite_table", "write_suite_outputs"]
