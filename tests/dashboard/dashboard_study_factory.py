"""Small studies written straight through StudyStore, for the dashboard tests and screenshots."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from symtuner.core.architecture import Architecture
from symtuner.core.records import ChosenAction, Diagnosis, LearningCurve
from symtuner.core.space import Real, default_space
from symtuner.storage import INITIAL_WEIGHTS_TRIAL, ActionRecord, StudyStore

SETTINGS = {"dataset": "digits", "epochs": 3, "objective": "val_accuracy", "seed": 0, "optimizer": "gp"}

PARAMS_1 = {"unit_c1": 32, "dr1_2": 0.1, "unit_c2": 96, "unit_d": 300, "dr_f": 0.2, "learning_rate": 5e-4,
            "batch_size": 64, "optimizer": "Adam", "activation": "relu"}
PARAMS_2 = {**PARAMS_1, "unit_c1": 48, "learning_rate": 2e-4, "optimizer": "Adamax", "l2": 1e-4}
PARAMS_3 = {**PARAMS_2, "unit_d": 500, "batch_size": 200, "activation": "elu"}
PARAMS_4 = {**PARAMS_2, "unit_c1": 20, "activation": "selu"}

CURVE_1 = LearningCurve((1.9, 1.2, 0.7), (0.45, 0.70, 0.93), (2.0, 1.6, 1.5), (0.40, 0.58, 0.66))
CURVE_2 = LearningCurve((1.7, 1.0, 0.8), (0.50, 0.72, 0.80), (1.6, 1.1, 0.9), (0.52, 0.70, 0.78))

WEIGHTS_0 = {("reg_l2", "overfitting"): 0.99, ("inc_dropout", "overfitting"): 0.4,
             ("inc_neurons", "underfitting"): 0.5, ("decr_lr", "underfitting"): 0.3}
WEIGHTS_1 = {**WEIGHTS_0, ("inc_dropout", "overfitting"): 0.35}
WEIGHTS_2 = {**WEIGHTS_1, ("inc_neurons", "underfitting"): 0.62, ("decr_lr", "underfitting"): 0.21}

DIAGNOSIS_1 = Diagnosis(
    facts={"last_acc": 0.93, "last_val_acc": 0.66, "acc_gap": 0.27, "auc_val_loss": 3.35},
    problems=("overfitting",),
    actions=(ChosenAction("reg_l2", "overfitting", 0.99), ChosenAction("decr_lr", "overfitting", 0.2)),
    explanation="train accuracy 0.93 vs validation 0.66: gap 0.27 > 0.2 -> overfitting",
)
DIAGNOSIS_2 = Diagnosis(
    facts={"last_acc": 0.80, "last_val_acc": 0.78, "acc_gap": 0.02},
    problems=("underfitting",),
    actions=(ChosenAction("inc_neurons", "underfitting", 0.5),),
    explanation="validation accuracy 0.78 leaves 0.22 > 0.15 -> underfitting",
    skipped=("new_conv_layer: at its cap",),
)

#: A Keras-3-like config.json for a model file written without Keras.
FAKE_KERAS_CONFIG = {
    "module": "keras.src.models.functional", "class_name": "Functional",
    "config": {"name": "trial_model", "layers": [
        {"class_name": "InputLayer", "name": "input_layer",
         "config": {"name": "input_layer", "batch_shape": [None, 8, 8, 1]}},
        {"class_name": "Conv2D", "name": "conv",
         "config": {"name": "conv", "filters": 32, "kernel_size": [3, 3], "activation": "relu",
                    "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.0001}}},
         "build_config": {"input_shape": [None, 8, 8, 1]}},
        {"class_name": "Flatten", "name": "flatten", "config": {"name": "flatten"}},
        {"class_name": "Sequential", "name": "head", "config": {"name": "head", "layers": [
            {"class_name": "Dense", "config": {"name": "dense", "units": 10, "activation": "softmax"}}]}},
    ]},
}


def write_fake_keras(path: Path) -> Path:
    """A zip with the config.json a ``.keras`` file has (no weights)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(FAKE_KERAS_CONFIG))
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.0"}))
    return path


def make_study(directory: Path, running: bool = True, settings: dict | None = None) -> Path:
    """A study with two complete trials, a failed one and (if ``running``) a running one.

    Trial 1 (version 1) is diagnosed with overfitting; reg_l2 adds ``l2`` and
    decr_lr lowers the learning-rate bound (version 2). Trial 2 is diagnosed
    with underfitting; inc_neurons raises ``unit_c1`` (version 3). Trial 3
    failed after one epoch, with an error naming a file of the study. Trial 1
    has a model file; trial 2's is missing. Model and log paths are stored
    absolute, as a run stores them.
    """
    space1 = default_space()
    space2 = space1.with_dimension(Real("l2", 1e-5, 1e-2, "log-uniform"), 1e-5) \
        .with_bounds("learning_rate", 1e-4, 6e-4)
    space3 = space2.with_bounds("unit_c1", 24, 64)
    with StudyStore.create(directory, settings or SETTINGS) as store:
        store.add_tuning_version(space1, Architecture(), None, "initial search space")
        store.save_weights(INITIAL_WEIGHTS_TRIAL, WEIGHTS_0)

        one = store.start_trial(PARAMS_1, 1)
        model = write_fake_keras(directory / "models" / "trial_0001.keras")
        store.set_model_files(one, str(model), str(directory / "logs" / "trial_0001"))
        store.complete_trial(one, objective=0.66, val_accuracy=0.66, val_loss=1.5, test_loss=1.55,
                             test_accuracy=0.64, train_seconds=4.2, curve=CURVE_1, epochs_run=3)
        store.set_diagnosis(one, DIAGNOSIS_1)
        store.add_actions(one, [
            ActionRecord(one, "reg_l2", "overfitting", 0.99, True, "added l2 in [1e-05, 0.01]"),
            ActionRecord(one, "decr_lr", "overfitting", 0.2, True, "learning_rate high 0.001 -> 0.0006"),
            ActionRecord(one, "inc_dropout", "overfitting", 0.35, False, "lower priority"),
        ])
        store.save_weights(one, WEIGHTS_1)
        store.add_tuning_version(space2, Architecture(l2=True), one, "after trial 1: reg_l2, decr_lr")

        two = store.start_trial(PARAMS_2, 2)
        store.set_model_files(two, str(directory / "models" / "trial_0002.keras"),
                              str(directory / "logs" / "trial_0002"))
        store.complete_trial(two, objective=0.78, val_accuracy=0.78, val_loss=0.9, test_loss=0.95,
                             test_accuracy=0.76, train_seconds=3.9, curve=CURVE_2, epochs_run=3)
        store.set_diagnosis(two, DIAGNOSIS_2)
        store.add_actions(two, [ActionRecord(two, "inc_neurons", "underfitting", 0.62, True,
                                             "unit_c1 low 16 -> 24")])
        store.save_weights(two, WEIGHTS_2)
        store.add_tuning_version(space3, Architecture(l2=True), two, "after trial 2: inc_neurons")

        three = store.start_trial(PARAMS_3, 3)
        store.record_epoch(three, 0, {"loss": 2.1, "accuracy": 0.3, "val_loss": 2.2, "val_accuracy": 0.28})
        store.fail_trial(three, "ResourceExhaustedError: out of memory while saving "
                                f"{directory / 'models' / 'trial_0003.keras'}")

        if running:
            four = store.start_trial(PARAMS_4, 3)
            store.set_model_files(four, str(directory / "models" / "trial_0004.keras"),
                                  str(directory / "logs" / "trial_0004"))
            for epoch, (loss, acc) in enumerate(((1.8, 0.5), (1.1, 0.71))):
                store.record_epoch(four, epoch, {"loss": loss, "accuracy": acc, "val_loss": loss + 0.1,
                                                 "val_accuracy": acc - 0.05})
    return directory


def make_empty_study(directory: Path) -> Path:
    """A study with its settings only: no search space, no trial."""
    StudyStore.create(directory, SETTINGS).close()
    return directory


def write_keras_model(path: Path, conv: bool = True) -> Path:
    """A real small Keras model saved at ``path`` (imports Keras: slow).

    With ``conv`` it is Conv2D, Flatten, Dense; without, Flatten, Dense,
    Dropout, Dense (no convolution), so two trials can show different graphs.
    """
    import keras

    if conv:
        layers = [keras.layers.Conv2D(4, 3, activation="relu", name="conv_block"), keras.layers.Flatten(),
                  keras.layers.Dense(10, activation="softmax")]
    else:
        layers = [keras.layers.Flatten(), keras.layers.Dense(16, activation="relu", name="hidden_dense"),
                  keras.layers.Dropout(0.2), keras.layers.Dense(10, activation="softmax")]
    model = keras.Sequential([keras.Input((8, 8, 1)), *layers])
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path
