"""The comparison's outputs: a markdown table, a CSV of the runs, a JSON of everything, the plots."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from symtuner.app.compare.paired import PairedDifference, paired_differences
from symtuner.app.compare.results import METRICS, StrategySummary, summarise
from symtuner.app.compare.runner import Comparison, limits_text

SIMULATED_NOTE = ("SIMULATED training: the learning curves come from symtuner's synthetic trainer "
                  "(symtuner.execution.simulate), not from real networks; these numbers show how the tuners "
                  "behave, not what accuracy a real network reaches.")

#: Columns of results.csv, one row per run.
CSV_COLUMNS = ("dataset", "strategy", "seed", "simulated", "epochs", "trials", "failed", "best_val_accuracy",
               "test_accuracy", "best_trial", "target", "trials_to_target", "seconds_to_target",
               "wall_seconds", "wall_per_trial", "train_seconds", "overhead_seconds", "overhead_per_trial",
               "tuner_seconds", "applied_actions", "study_dir", "infeasible_share", "best_params")


def _num(value: float | None, digits: int) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.{digits}f}"


def _digits(key: str) -> int:
    if key.endswith("accuracy"):
        return 4
    if key == "best_params":
        return 0
    if key == "epochs":
        return 0
    return 1 if key.endswith("seconds") else 2


def _cell(summary: StrategySummary, key: str) -> str:
    mean, std = summary.mean(key), summary.std(key)
    if mean is None:
        return "-"
    text = _num(mean, _digits(key))
    if summary.count(key) > 1:  # one seed has no spread to show
        text += f" ± {_num(std, _digits(key))}"
    if key == "trials_to_target":
        text += f" ({summary.count(key)}/{len(summary.seeds)})"
    return text


def summary_table(comparison: Comparison) -> str:
    """Mean ± std over seeds, one row per strategy (markdown)."""
    summaries = summarise(comparison.runs, comparison.spec.strategies, comparison.target)
    keys: tuple[str, ...] = ("best_val_accuracy", "test_accuracy", "later_val_accuracy", "chance_share", "epochs",
                             "trials_to_target", "seconds_to_target", "wall_seconds", "wall_per_trial",
                             "overhead_per_trial")
    headings = dict((k, h + (f" ({u})" if u else "")) for k, h, u in METRICS)
    headings["trials_to_target"] = "trials to target (runs that reached it)"
    if comparison.spec.limits:  # the best is the best within the limits
        keys = keys[:2] + ("feasible_found", "infeasible_share", "best_params") + keys[2:]
        headings |= {"best_val_accuracy": "best feasible val acc", "test_accuracy": "test acc of best feasible"}
    lines = ["| strategy | seeds | " + " | ".join(headings[k] for k in keys) + " |",
             "|---|---|" + "---|" * len(keys)]
    for summary in summaries:
        lines.append(f"| {summary.strategy} | {len(summary.seeds)} | "
                     + " | ".join(_cell(summary, k) for k in keys) + " |")
    return "\n".join(lines)


def runs_table(comparison: Comparison) -> str:
    """One row per run: the raw per-seed numbers (markdown)."""
    limited = bool(comparison.spec.limits)
    extra = " share over the limits | parameters of best |" if limited else ""
    lines = ["| strategy | seed | best val acc | test acc of best | best at trial |" + extra + " trials to target | "
             "wall (s) | fit (s) | overhead (s) | tuner (s) | actions applied |",
             "|---|---|---|---|---|---|---|---|---|---|---|" + ("---|---|" if limited else "")]
    for run in _ordered(comparison):
        m = run.metrics(comparison.target)
        actions = ", ".join(f"{name} x{count}" for name, count in sorted(run.applied_actions().items()))
        reached = _num(m["trials_to_target"], 0) if m["trials_to_target"] is not None else \
            f"not in {len(run.trials)}"
        costs = f" {_num(m['infeasible_share'], 2)} | {_num(m['best_params'], 0)} |" if limited else ""
        lines.append(f"| {run.strategy} | {run.seed} | {_num(m['best_val_accuracy'], 4)} | "
                     f"{_num(m['test_accuracy'], 4)} | {_num(m['best_trial'], 0)} |{costs} {reached} | "
                     f"{_num(m['wall_seconds'], 1)} | {_num(m['train_seconds'], 1)} | "
                     f"{_num(m['overhead_seconds'], 1)} | {_num(m['tuner_seconds'], 1)} | {actions or '-'} |")
    return "\n".join(lines)


#: The strategy the paired table compares with every other one, and on what.
PAIRED_REFERENCE = "symtuner"
PAIRED_METRICS = ("best_val_accuracy", "test_accuracy", "later_val_accuracy", "chance_share")


def paired(comparison: Comparison) -> list[PairedDifference]:
    """symtuner minus each other strategy, seed by seed (empty without symtuner)."""
    strategies = comparison.spec.strategies
    if PAIRED_REFERENCE not in strategies:
        return []
    metrics = PAIRED_METRICS + (("infeasible_share",) if comparison.spec.limits else ())
    return [pair for metric in metrics
            for pair in paired_differences(comparison.runs, PAIRED_REFERENCE, strategies, metric)]


def paired_table(comparison: Comparison) -> str:
    """The seed-by-seed differences as a markdown table ("" when there is nothing to pair)."""
    pairs = paired(comparison)
    if not pairs:
        return ""
    headings = dict((k, h) for k, h, _ in METRICS)
    lines = ["| metric | symtuner minus | seeds | mean difference ± std | symtuner better / tie / worse "
             "| Wilcoxon p (two-sided) |", "|---|---|---|---|---|---|"]
    for pair in pairs:
        lines.append(f"| {headings.get(pair.metric, pair.metric)} | {pair.other} | {len(pair.seeds)} | "
                     f"{_num(pair.mean, 4)}{f' ± {_num(pair.std, 4)}' if len(pair.seeds) > 1 else ''} | "
                     f"{pair.wins} / {pair.ties} / {pair.losses} | "
                     f"{_num(pair.p_value, 3)} |")
    return "\n".join(lines)


def actions_table(comparison: Comparison) -> str:
    """Which actions the symbolic runs applied, for which problem, and how often (markdown; '' if none)."""
    counts: dict[tuple[str, str], list[int]] = {}
    for run in comparison.runs:
        for action in run.actions:
            entry = counts.setdefault((action["name"], action["problem"]), [0, 0])
            entry[0 if action["applied"] else 1] += 1
    if not counts:
        return ""
    lines = ["| action | for problem | applied | chosen but not applicable |", "|---|---|---|---|"]
    for (name, problem), (applied, skipped) in sorted(counts.items(), key=lambda kv: (-kv[1][0], kv[0])):
        lines.append(f"| {name} | {problem} | {applied} | {skipped} |")
    return "\n".join(lines)


def markdown(comparison: Comparison) -> str:
    """The whole results.md."""
    spec = comparison.spec
    machine = comparison.machine
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items() if v)
    target = _num(comparison.target, 4)
    parts = [f"# Comparison on {spec.dataset}" + (" (SIMULATED)" if spec.simulate else ""), ""]
    if spec.simulate:
        parts += [f"**{SIMULATED_NOTE}**", ""]
    parts += [
        f"- strategies: {', '.join(spec.strategies)}; seeds: {', '.join(map(str, spec.seeds))}; "
        f"{spec.trials} trials per run, {spec.epochs} epoch(s) per trial",
        *([f"- {', '.join(spec.epoch_matched)}: an equal epoch budget instead of a trial count, "
           f"{spec.trials} x {spec.epochs} = {(spec.trials or 0) * spec.epochs} epochs per run (pruned trials "
           "buy more trials)"] if spec.epoch_matched else []),
        f"- target validation accuracy: {target} ({comparison.target_source})",
        *([f"- {limits_text(spec.limits)}: a trial over them is infeasible (never a run's best; the GP is told "
           "it is bad, TPE gets it as a constraint, symtuner's rules shrink the network); the best is the best "
           "feasible trial"] if spec.limits else []),
        f"- machine: {machine['cpus']} CPU(s), {machine['platform']}, Python {machine['python']}; {versions}",
        "- overhead = wall time - training time (model.fit); tuner = wall time - the executor's time "
        "(build, fit, evaluate, save), i.e. proposing, diagnosing, rule learning and storing",
        "",
        "## Mean ± standard deviation over seeds", "", summary_table(comparison), "",
        "## Per run", "", runs_table(comparison), "",
    ]
    pairs = paired_table(comparison)
    if pairs:
        parts += ["## Paired by seed", "",
                  "Runs with the same seed share the data split, the initialisation and the first proposal; "
                  "each row is symtuner's result minus the other strategy's, seed by seed. With few seeds the "
                  "test is weak: with n seeds no two-sided p-value falls below 2 / 2^n.", "",
                  pairs, ""]
    actions = actions_table(comparison)
    if actions:
        parts += ["## Symbolic actions", "", actions, ""]
    parts += ["## Plots", "", "![best so far vs trial](convergence-trials.png)", "",
              "![best so far vs wall time](convergence-time.png)", ""]
    return "\n".join(parts)


def csv_rows(comparison: Comparison) -> list[dict[str, Any]]:
    """The rows of results.csv."""
    rows = []
    for run in _ordered(comparison):
        m = run.metrics(comparison.target)
        row: dict[str, Any] = {"dataset": comparison.spec.dataset, "strategy": run.strategy, "seed": run.seed,
                               "simulated": comparison.spec.simulate, "epochs": comparison.spec.epochs,
                               "trials": int(m["trials"] or 0), "failed": int(m["failed"] or 0),
                               "target": comparison.target,
                               "applied_actions": ";".join(f"{k}:{v}" for k, v in
                                                           sorted(run.applied_actions().items())),
                               "study_dir": str(run.study_dir)}
        for key in CSV_COLUMNS:
            if key not in row:
                value = m[key]
                row[key] = int(value) if key in ("best_trial", "trials_to_target") and value is not None else value
        rows.append({key: ("" if row[key] is None else row[key]) for key in CSV_COLUMNS})
    return rows


def as_json(comparison: Comparison) -> dict[str, Any]:
    """Everything: settings, target, machine, summaries and every run's trials."""
    spec = comparison.spec
    return {
        "comparison": {**spec.manifest(), "out": str(spec.out), "target": comparison.target,
                       "target_source": comparison.target_source,
                       "note": SIMULATED_NOTE if spec.simulate else None},
        "machine": comparison.machine,
        "summary": [s.to_dict() for s in summarise(comparison.runs, spec.strategies, comparison.target)],
        "paired": [pair.to_dict() for pair in paired(comparison)],
        "runs": [run.to_dict(comparison.target) for run in _ordered(comparison)],
    }


def write_outputs(comparison: Comparison) -> dict[str, Path]:
    """Write results.md, results.csv, results.json and the two plots into the output directory."""
    from symtuner.app.compare.plots import plot_convergence

    out = comparison.spec.out
    out.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": out / "results.md", "csv": out / "results.csv", "json": out / "results.json"}
    paths["markdown"].write_text(markdown(comparison), encoding="utf-8")
    with paths["csv"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(csv_rows(comparison))
    paths["json"].write_text(json.dumps(_finite(as_json(comparison)), indent=1, default=_json_default,
                                        allow_nan=False) + "\n",
                             encoding="utf-8")
    title = f"{comparison.spec.dataset}: {len(comparison.spec.seeds)} seed(s), {comparison.spec.epochs} " \
            f"epoch(s)/trial" + (" - SIMULATED training" if comparison.spec.simulate else "")
    longest = max((len(run.trials) for run in comparison.runs), default=1)
    shown = max(comparison.spec.trials or 0, longest) if comparison.spec.epoch_matched else \
        (comparison.spec.trials or longest)
    trials_png, time_png = plot_convergence(comparison.runs, comparison.spec.strategies, shown, out, title)
    paths["plot_trials"], paths["plot_time"] = trials_png, time_png
    return paths


def _ordered(comparison: Comparison) -> list[Any]:
    order = {name: i for i, name in enumerate(comparison.spec.strategies)}
    return sorted(comparison.runs, key=lambda r: (order.get(r.strategy, len(order)), r.seed))


def _finite(value: Any) -> Any:
    """NaN and infinities become None, so that results.json is strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
