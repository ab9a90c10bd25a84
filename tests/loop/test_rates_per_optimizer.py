"""In a study: a learning-rate failure of one optimizer moves that optimizer's rates, never the rates
at which another optimizer trained well (Keras's Adadelta trains at rates where Adam diverges)."""

from __future__ import annotations

import math

import numpy as np

from symtuner.core.contract import TrainResult
from symtuner.core.records import LearningCurve
from symtuner.core.settings import StudySettings
from symtuner.core.space import Real, default_space
from symtuner.data import validate_dataset
from symtuner.storage import StudyStore
from symtuner.tuner import Tuner

#: Adam blows up above this rate; Adadelta trains at every rate of the study's range.
ADAM_LIMIT = 3e-3


def learned(val: float) -> LearningCurve:
    return LearningCurve((1.0, 0.6, 0.4, 0.3, 0.25), (0.6, 0.8, 0.88, 0.9, 0.92),
                         (0.9, 0.6, 0.45, 0.4, 0.38), (val - 0.1, val - 0.05, val, val, val))


class RatesPerOptimizer:
    """Adam diverges (a NaN loss from the second epoch) above ADAM_LIMIT; otherwise every trial learns."""

    def __init__(self, dataset, network_fn, config) -> None:
        pass

    def run(self, spec, on_epoch=None):
        params = spec.params
        if params["optimizer"] == "Adam" and params["learning_rate"] > ADAM_LIMIT:
            nan = math.nan
            curve = LearningCurve((1.2, nan), (0.34, 0.33), (1.1, nan), (0.34, 0.33))
            val, loss = 0.33, nan
        else:
            val = 0.9 if params["optimizer"] == "Adam" else 0.8
            val -= 0.001 * (spec.number % 5)  # no ties
            curve, loss = learned(val), 0.38
        return TrainResult(curve=curve, val_loss=loss, val_accuracy=val, test_loss=loss, test_accuracy=val,
                           train_seconds=0.01, epochs_run=len(curve.loss), model_path=spec.model_path,
                           log_dir=spec.log_dir, params_count=0)


def test_adams_failures_never_take_away_the_rates_adadelta_trained_at(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((280, 28, 28, 1), dtype=np.float32)
    y = np.arange(280) % 3
    data = validate_dataset(x[:250], x[250:], y[:250], y[250:], 3, name="three")
    space = default_space().with_bounds("learning_rate", 1e-3, 1e-1).with_categories("optimizer", ("Adam", "Adadelta"))
    Tuner(tmp_path / "s", dataset=data, space=space, settings=StudySettings(epochs=5, n_initial=3, seed=1),
          executor_factory=RatesPerOptimizer, quiet=True).run(12)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        trials, versions, actions = store.trials(), store.tuning_versions(), store.actions()
    lowered = [a for a in actions if a.applied and a.name == "decr_lr"]
    assert lowered, [(a.trial, a.name, a.applied, a.detail) for a in actions]
    for version in versions:
        lr = version.space["learning_rate"]
        assert isinstance(lr, Real)
        made_after = version.after_trial or 0
        for trial in trials:
            if trial.number <= made_after and trial.params["optimizer"] == "Adadelta":
                low, high = lr.bounds("Adadelta")
                assert low <= trial.params["learning_rate"] <= high, (version.version, trial.number, lr)
    final = max(versions, key=lambda v: v.version).space["learning_rate"]
    assert final.bounds("Adam")[1] < final.bounds("Adadelta")[1]  # the two optimizers' rates parted
    adam_after = [t for t in trials if t.params["optimizer"] == "Adam" and t.number > lowered[-1].trial]
    assert adam_after and all(t.objective > 0.5 for t in adam_after)  # Adam trains once its rates came down
