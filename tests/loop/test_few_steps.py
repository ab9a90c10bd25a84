"""In a study: a nearly straight fall of the loss over epochs of a few optimizer steps each is read as
a training short of steps (smaller batches), not as a learning rate too low (the rate is left alone)."""

from __future__ import annotations

import math

import numpy as np

from symtuner.core.contract import TrainResult
from symtuner.core.records import LearningCurve
from symtuner.core.settings import StudySettings
from symtuner.core.space import default_space
from symtuner.data import validate_dataset
from symtuner.storage import StudyStore
from symtuner.tuner import Tuner

N_TRAIN = 250
#: Trials whose epochs take at least this many optimizer steps learn; the others fall in a straight line.
ENOUGH_STEPS = 8


def straight(n_epochs: int = 5) -> LearningCurve:
    """A slow, straight fall from chance level (ln 3), as any rate's first few steps give."""
    loss = tuple(1.10 - 0.04 * e for e in range(n_epochs))
    acc = tuple(0.36 + 0.01 * e for e in range(n_epochs))
    return LearningCurve(loss, acc, loss, acc)


def learned(val: float) -> LearningCurve:
    return LearningCurve((1.0, 0.6, 0.4, 0.3, 0.25), (0.6, 0.8, 0.88, 0.9, 0.92),
                         (0.9, 0.6, 0.45, 0.4, 0.38), (val - 0.1, val - 0.05, val, val, val))


class StepsBound:
    """Every rate trains; a trial learns only when its epochs take ENOUGH_STEPS optimizer steps or more."""

    def __init__(self, dataset, network_fn, config) -> None:
        pass

    def run(self, spec, on_epoch=None):
        steps = math.ceil(N_TRAIN / spec.params["batch_size"])
        if steps >= ENOUGH_STEPS:
            val = 0.9 - 0.001 * (spec.number % 5)
            curve, loss = learned(val), 0.38
        else:
            curve = straight()
            val, loss = curve.val_accuracy[-1], curve.val_loss[-1]
        return TrainResult(curve=curve, val_loss=loss, val_accuracy=val, test_loss=loss, test_accuracy=val,
                           train_seconds=0.01, epochs_run=len(curve.loss), model_path=spec.model_path,
                           log_dir=spec.log_dir, params_count=0)


def test_a_straight_fall_over_few_steps_gets_smaller_batches_not_a_higher_rate(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((N_TRAIN + 30, 28, 28, 1), dtype=np.float32)
    y = np.arange(N_TRAIN + 30) % 3
    data = validate_dataset(x[:N_TRAIN], x[N_TRAIN:], y[:N_TRAIN], y[N_TRAIN:], 3, name="three")
    space = default_space().with_bounds("batch_size", 64, 256)  # every first trial takes at most 4 steps an epoch
    Tuner(tmp_path / "s", dataset=data, space=space, settings=StudySettings(epochs=5, n_initial=3, seed=0),
          executor_factory=StepsBound, quiet=True).run(8)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        trials, versions, actions = store.trials(), store.tuning_versions(), store.actions()
    applied = [(a.trial, a.name) for a in actions if a.applied]
    few = [t for t in trials if math.ceil(N_TRAIN / t.params["batch_size"]) < ENOUGH_STEPS]
    assert few and all(t.diagnosis is not None and "low_lr" not in t.diagnosis.problems for t in few)
    assert all("each epoch took" in t.diagnosis.explanation for t in few if t.diagnosis is not None)
    assert any(name == "decr_batch_size" for _, name in applied), applied
    assert not any(name in ("inc_lr", "decr_lr") for _, name in applied), applied
    final = max(versions, key=lambda v: v.version).space
    assert final["learning_rate"] == space["learning_rate"]
    assert final["batch_size"].low < 64  # past the first range
    assert any(math.ceil(N_TRAIN / t.params["batch_size"]) >= ENOUGH_STEPS for t in trials)  # and it paid off
