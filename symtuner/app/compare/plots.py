"""Convergence plots: best validation accuracy so far against trials and against wall time.

One line per strategy (the mean over seeds) with a band from the worst to
the best seed. matplotlib runs on its Agg backend: no display needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from symtuner.app.compare.results import RunResult

#: Points on the time axis of the wall-time plot.
TIME_POINTS = 300


def by_trial(runs: Sequence[RunResult], length: int) -> np.ndarray:
    """Best-so-far per run (rows) and trial (columns); NaN where a run has no value yet."""
    out = np.full((len(runs), length), np.nan)
    for row, run in enumerate(runs):
        for trial in run.trials[:length]:
            if trial.best_so_far is not None:
                out[row, trial.index - 1] = trial.best_so_far
    return out


def by_time(runs: Sequence[RunResult], grid: np.ndarray) -> np.ndarray:
    """Best-so-far per run at each time of ``grid`` (seconds since the run's study was created).

    NaN before a run's first finished trial and after its last one.
    """
    out = np.full((len(runs), len(grid)), np.nan)
    for row, run in enumerate(runs):
        times = np.array([t.elapsed for t in run.trials if t.best_so_far is not None])
        values = np.array([t.best_so_far for t in run.trials if t.best_so_far is not None], dtype=float)
        if len(times) == 0:
            continue
        positions = np.searchsorted(times, grid, side="right") - 1
        known = (positions >= 0) & (grid <= times[-1])  # nothing before the first or after the last trial
        out[row, known] = values[positions[known]]
    return out


def _band(ax: object, x: np.ndarray, values: np.ndarray, label: str, colour: str) -> None:
    complete = ~np.isnan(values).any(axis=0)
    any_value = ~np.isnan(values).all(axis=0)
    low = np.where(any_value, np.nanmin(np.where(np.isnan(values), np.inf, values), axis=0), np.nan)
    high = np.where(any_value, np.nanmax(np.where(np.isnan(values), -np.inf, values), axis=0), np.nan)
    mean = np.where(complete, np.nanmean(np.where(np.isnan(values), 0, values), axis=0), np.nan)
    ax.plot(x, mean, label=f"{label} (n={values.shape[0]})", color=colour, linewidth=2)  # type: ignore[attr-defined]
    ax.fill_between(x, low, high, where=any_value, color=colour, alpha=0.18, linewidth=0)  # type: ignore[attr-defined]


def plot_convergence(runs: Sequence[RunResult], strategies: Sequence[str], trials: int, out_dir: Path,
                     title: str) -> list[Path]:
    """Write ``convergence-trials.png`` and ``convergence-time.png`` into ``out_dir``; return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    out_dir = Path(out_dir)
    paths = []
    longest = max((t.elapsed for run in runs for t in run.trials), default=1.0)
    grid = np.linspace(0.0, max(longest, 1e-3), TIME_POINTS)
    for kind in ("trials", "time"):
        fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
        for i, strategy in enumerate(strategies):
            mine = [r for r in runs if r.strategy == strategy]
            if not mine:
                continue
            x: np.ndarray
            if kind == "trials":
                x = np.arange(1, trials + 1, dtype=float)
                values = by_trial(mine, trials)
            else:
                x = grid
                values = by_time(mine, grid)
            _band(ax, x, values, strategy, colours[i % len(colours)])
        ax.set_xlabel("trial" if kind == "trials" else "wall time since the run started (s)")
        ax.set_ylabel("best validation accuracy so far")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
        if kind == "trials":
            ax.set_xticks(range(1, trials + 1, max(1, trials // 15)))
        fig.tight_layout()
        path = out_dir / f"convergence-{kind}.png"
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths
