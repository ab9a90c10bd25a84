"""Optuna's MedianPruner behind symtuner's per-epoch stopper interface (optional dependency).

The baseline "TPE + MedianPruner" of the comparison: after every epoch the
running trial's objective so far is compared, at the same epoch, with the
median of the finished trials (Optuna's rule: pruned when worse than that
median, after ``n_startup_trials`` finished trials and ``n_warmup_steps``
epochs). Each call replays the study's finished trials into a fresh in-memory
Optuna study, like the TPE optimizer, so a resumed study prunes as an
uninterrupted one would.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from symtuner.core.errors import ConfigError
from symtuner.core.records import LearningCurve


class MedianPruningStopper:
    """Stops the running trial when Optuna's MedianPruner says so ("" to go on).

    ``history`` holds each finished trial's per-epoch objective values (the
    validation accuracy or loss after each epoch).
    """

    def __init__(self, history: Sequence[Sequence[float]], objective: str, maximize: bool,
                 n_startup_trials: int = 5, n_warmup_steps: int = 0) -> None:
        try:
            import optuna  # noqa: F401
        except ImportError:
            raise ConfigError("pruner 'median' needs optuna: pip install 'symbolic-dnn-tuner[compare]'") from None
        self.history = [list(values) for values in history]
        self.objective = objective
        self.maximize = maximize
        self.n_startup_trials = n_startup_trials
        self.n_warmup_steps = n_warmup_steps

    def __call__(self, curve: LearningCurve) -> str:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        values = curve.val_accuracy if self.objective == "val_accuracy" else curve.val_loss
        pruner = optuna.pruners.MedianPruner(n_startup_trials=self.n_startup_trials,
                                             n_warmup_steps=self.n_warmup_steps)
        study = optuna.create_study(direction="maximize" if self.maximize else "minimize", pruner=pruner)
        distribution: dict[str, optuna.distributions.BaseDistribution] = {
            "x": optuna.distributions.FloatDistribution(0.0, 1.0)}
        for series in self.history:
            steps = _steps(series)
            if steps:
                study.add_trial(optuna.trial.create_trial(
                    params={"x": 0.5}, distributions=distribution,
                    value=max(steps.values()) if self.maximize else min(steps.values()),
                    intermediate_values=steps))
        trial = study.ask()
        for step, value in _steps(values).items():
            trial.report(value, step)
        if trial.should_prune():
            return (f"Optuna's MedianPruner: {self.objective} {values[-1]:.4f} after epoch {len(values)} is "
                    f"worse than the median of the finished trials at that epoch")
        return ""


def _steps(values: Sequence[float]) -> dict[int, float]:
    return {step: float(v) for step, v in enumerate(values) if v is not None and math.isfinite(v)}
