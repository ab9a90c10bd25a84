"""How much a study's objective moves for reasons other than a change: the noise a verdict must clear.

A verdict (:mod:`symtuner.tuning.hypotheses`) compares the trials run under a
change with the trials from before it. Two trials differ for many reasons
besides the change (other hyper-parameters, the seed, which validation
samples happen to be right), so a difference counts only when it is larger
than what those reasons alone produce. Two measures of it, per trial:

- **Binomial standard error** (an accuracy objective, when the number ``n``
  of validation samples is known: ``TaskFacts.n_val``). An accuracy ``p``
  measured on ``n`` samples is a proportion; its standard error is
  ``sqrt(p (1 - p) / n)``. With Agresti and Caffo's adjustment (one success
  and one failure added) it is ``sqrt(q (1 - q) / (n + 2))``,
  ``q = (p n + 1) / (n + 2)``, so that an accuracy of 0 or 1 does not claim
  to be exact. 0.70 on 30 samples: q = 0.6875, s.e. 0.082.
- **Epoch-to-epoch spread** (any objective: a loss, an AUC, a regression
  error). Over the last :data:`SPREAD_EPOCHS` epochs ``x_1..x_m`` (``m >= 3``
  finite values) of the objective's series in the trial's curve,
  ``sqrt(sum (x_{i+1} - x_i)^2 / (2 (m - 1)))``, von Neumann's mean square
  successive difference: the standard deviation of the epoch-to-epoch
  wobble, which a steady trend barely inflates. The loop records it with
  each trial (``extra["objective_spread"]``), so that it is known without
  the curves. The *study's* spread is the median of the spreads of the
  trials compared (those before the change and those of its window), so
  that one erratic trial does not set it.

A trial's noise is ``sigma = max(binomial s.e., study spread)`` (whichever
is known). Two trials differ *clearly* when their difference exceeds
``Z x sqrt(sigma_a^2 + sigma_b^2)``, :data:`Z` (1) standard errors of a
difference of two independent measures. When neither measure is known (no
validation count, no curve of three epochs) the noise is 0 and any margin
counts, as it did before noise was measured; the verdict says so.

**Chance level** (a classification whose number of classes is known): the
accuracy ``c`` of a guess that knows nothing, the majority class's share of
the data when it is known (``TaskFacts.majority``), else ``1 / n_classes``.
A trial sits *at chance* when its validation accuracy is at most
``c + Z x sigma_c``, ``sigma_c = max(sqrt(c (1 - c) / n), study spread of an
accuracy objective)`` (the s.e. of an accuracy whose true value is ``c``),
or when its training diverged (a non-finite loss). A trial at chance is no
result to beat: anything beats it.

Pure functions of trials and task facts: the same store gives the same noise.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from symtuner.core.records import CURVE_KEYS, LearningCurve, Trial
from symtuner.symbolic.facts import MAX_LOSS
from symtuner.tuning.view import TaskFacts

#: A difference counts when larger than this many standard errors of a difference.
Z = 1.0

#: The epoch-to-epoch spread is read over at most this many last epochs.
SPREAD_EPOCHS = 5

#: Fewest finite epochs a spread is measured on (two successive differences).
MIN_SPREAD_EPOCHS = 3

#: Where the loop records a trial's spread (its ``extra``).
SPREAD_KEY = "objective_spread"


def is_accuracy(objective: str | None) -> bool:
    """Whether ``objective`` is a share of validation samples (``val_accuracy``, ``val_binary_accuracy``,
    ``val_top5_accuracy``, ``val_acc``): a proportion, whose binomial standard error is known."""
    if not objective:
        return False
    words = set(objective.lower().split("_"))
    return bool(words & {"accuracy", "acc"})


def epoch_spread(curve: LearningCurve | None, objective: str | None) -> float | None:
    """The epoch-to-epoch spread of ``objective``'s series over the curve's last :data:`SPREAD_EPOCHS`
    epochs (module docstring); None without a curve, the series, or :data:`MIN_SPREAD_EPOCHS` finite values."""
    if curve is None or not objective:
        return None
    values = [v for v in curve.series(objective)[-SPREAD_EPOCHS:] if math.isfinite(v)]
    if len(values) < MIN_SPREAD_EPOCHS:
        return None
    squares = sum((b - a) ** 2 for a, b in zip(values, values[1:]))
    return math.sqrt(squares / (2 * (len(values) - 1)))


def trial_spread(trial: Trial, objective: str | None) -> float | None:
    """A trial's spread: the one the loop recorded, else measured on its curve (None: unknown)."""
    recorded = trial.extra.get(SPREAD_KEY)
    if isinstance(recorded, (int, float)) and not isinstance(recorded, bool) and math.isfinite(recorded):
        return float(recorded)
    return epoch_spread(trial.curve, objective)


def binomial_se(p: float, n: int) -> float:
    """The standard error of an accuracy ``p`` measured on ``n`` samples, Agresti-Caffo adjusted."""
    p = min(max(p, 0.0), 1.0)
    q = (p * n + 1.0) / (n + 2.0)
    return math.sqrt(q * (1.0 - q) / (n + 2.0))


def diverged(trial: Trial) -> bool:
    """Whether a trial's training diverged, as its diagnosis's ``diverged`` fact says (a non-finite value
    or a loss beyond ``MAX_LOSS`` in its curve; read from the curve when it is at hand)."""
    curve = trial.curve
    if curve is not None:
        return any(not math.isfinite(v) or (key.endswith("loss") and abs(v) > MAX_LOSS)
                   for key in CURVE_KEYS for v in getattr(curve, key))
    return bool(trial.diagnosis is not None and trial.diagnosis.facts.get("diverged"))


@dataclass(frozen=True)
class Noise:
    """The noise a difference must clear: its value and how it was measured."""

    value: float
    source: str

    def __str__(self) -> str:
        return f"noise {self.value:.4f} ({self.source})"


@dataclass(frozen=True)
class NoiseModel:
    """A study's noise, as the trials of one comparison measure it (see the module docstring)."""

    objective: str | None
    n_val: int | None
    #: the chance-level accuracy (None: a regression, or the number of classes is unknown)
    chance: float | None
    #: how the chance level was found ("10 classes", "the majority class's share")
    chance_basis: str
    #: the median epoch-to-epoch spread of the trials compared (None: none measured)
    spread: float | None
    spread_trials: int

    @classmethod
    def of(cls, task: TaskFacts | None, trials: Sequence[Trial]) -> NoiseModel:
        """The noise of a comparison among ``trials`` (the trials before a change and its window)."""
        objective = task.objective if task is not None else None
        n_val = task.n_val if task is not None and task.n_val and task.n_val > 0 else None
        spreads = [s for t in trials if t.is_complete and not diverged(t)
                   and (s := trial_spread(t, objective)) is not None]
        chance, basis = None, ""
        if task is not None and task.n_classes:
            chance, basis = 1.0 / task.n_classes, f"{task.n_classes} classes"
            if task.majority is not None and task.majority > chance + 1e-9:
                chance, basis = float(task.majority), "the majority class's share"
        return cls(objective, n_val, chance, basis, statistics.median(spreads) if spreads else None, len(spreads))

    # -- one trial -------------------------------------------------------------------------------------
    def _binomial(self, trial: Trial) -> float | None:
        if self.n_val is None or not is_accuracy(self.objective) or trial.objective is None:
            return None
        p = float(trial.extra.get("raw_objective", trial.objective))
        return binomial_se(p, self.n_val) if math.isfinite(p) else None

    def sigma(self, trial: Trial) -> tuple[float | None, str]:
        """A trial's noise and which measure set it (``binomial`` or ``spread``; None: unknown)."""
        binomial = self._binomial(trial)
        if binomial is None and self.spread is None:
            return None, ""
        if self.spread is None or (binomial is not None and binomial >= self.spread):
            return binomial, "binomial"
        return self.spread, "spread"

    def between(self, a: Trial, b: Trial) -> Noise:
        """The noise of the difference between two trials' objectives: sqrt(sigma_a^2 + sigma_b^2)."""
        (sa, ka), (sb, kb) = self.sigma(a), self.sigma(b)
        if sa is None or sb is None:
            return Noise(0.0, self._unknown())
        kinds = {ka, kb}
        parts = []
        if "binomial" in kinds:
            parts.append(f"binomial s.e. of a difference on {self.n_val} validation samples")
        if "spread" in kinds:
            parts.append(self._spread_text())
        return Noise(Z * math.sqrt(sa * sa + sb * sb), "; ".join(parts))

    def _spread_text(self) -> str:
        trials = "1 trial" if self.spread_trials == 1 else f"the median of {self.spread_trials} trials"
        return f"epoch-to-epoch spread of {self.objective} over the last {SPREAD_EPOCHS} epochs, {trials}"

    def _unknown(self) -> str:
        missing = []
        if is_accuracy(self.objective) and self.n_val is None:
            missing.append("the number of validation samples is unknown")
        if self.spread is None:
            missing.append("no curve of 3 epochs measured its spread")
        return "unknown: " + ("; ".join(missing) if missing else "nothing measured it") + "; any margin counts"

    # -- chance level ----------------------------------------------------------------------------------
    def accuracy(self, trial: Trial) -> float | None:
        """The trial's validation accuracy (its objective when that is one), None when not measured."""
        if trial.val_accuracy is not None and math.isfinite(trial.val_accuracy):
            return float(trial.val_accuracy)
        if is_accuracy(self.objective) and trial.objective is not None:
            value = float(trial.extra.get("raw_objective", trial.objective))
            return value if math.isfinite(value) else None
        return None

    def chance_noise(self) -> Noise:
        """How far above the chance level an accuracy must be to be clearly above it."""
        if self.chance is None:
            return Noise(0.0, "no chance level")
        binomial = None if self.n_val is None else math.sqrt(self.chance * (1 - self.chance) / self.n_val)
        spread = self.spread if is_accuracy(self.objective) else None
        if binomial is None and spread is None:
            return Noise(0.0, self._unknown())
        if spread is None or (binomial is not None and binomial >= spread):
            return Noise(Z * float(binomial), f"binomial s.e. at chance on {self.n_val} validation samples")  # type: ignore[arg-type]
        return Noise(Z * spread, self._spread_text())

    def at_chance(self, trial: Trial) -> bool:
        """Whether a trial sits at chance level (within noise of it, or below) or diverged."""
        if diverged(trial):
            return True
        if self.chance is None:
            return False
        accuracy = self.accuracy(trial)
        # 1e-6: accuracies are stored as float32 (0.1 reads 0.10000000149), and a zero noise must not hide that
        return accuracy is not None and accuracy <= self.chance + self.chance_noise().value + 1e-6

    def above_chance(self, trial: Trial) -> bool:
        """Whether a trial rose clearly above chance level (its accuracy is measured and not at chance)."""
        return self.chance is not None and self.accuracy(trial) is not None and not self.at_chance(trial)

    def chance_text(self) -> str:
        """``0.10 on 10 classes`` / ``0.50, the majority class's share``."""
        if self.chance is None:
            return "no chance level"
        joiner = " on " if self.chance_basis.endswith("classes") else ", "
        return f"{self.chance:.2f}{joiner}{self.chance_basis}"
