"""symtuner's diagnosis on any Keras training: the callback, and `symtuner diagnose` on the three
files a plain model.fit writes (History JSON, CSVLogger, TensorBoard logs)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from symtuner.app.cli import main

pytestmark = pytest.mark.keras


def _digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.data / 16.0).astype("float32"), digits.target


def _model(keras, lr: float, activation: str = "relu", optimizer: str = "sgd"):
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation=activation),
                              keras.layers.Dense(10, activation="softmax")])
    opt = keras.optimizers.SGD(lr) if optimizer == "sgd" else keras.optimizers.Adam(lr)
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def slow_run(tmp_path_factory):
    """A too-small SGD step on digits, with every logger attached: underfitting caused by low_lr."""
    import keras

    from symtuner.integrations.keras import DiagnosisCallback

    out = tmp_path_factory.mktemp("slow")
    keras.utils.set_random_seed(0)
    x, y = _digits()
    printed: list[str] = []
    callback = DiagnosisCallback(print_fn=printed.append)
    history = _model(keras, 1e-3).fit(
        x[:600], y[:600], validation_data=(x[1400:], y[1400:]), epochs=6, batch_size=32, verbose=0,
        callbacks=[callback, keras.callbacks.CSVLogger(str(out / "log.csv")),
                   keras.callbacks.TensorBoard(log_dir=str(out / "tb"))])
    (out / "history.json").write_text(json.dumps(history.history))
    return {"dir": out, "callback": callback, "printed": printed}


def test_the_callback_diagnoses_a_plain_fit(slow_run):
    diagnosis = slow_run["callback"].diagnosis
    assert diagnosis is not None
    assert set(diagnosis.problems) == {"underfitting", "low_lr"}, diagnosis.explanation
    assert diagnosis.causes == {"underfitting": "low_lr"}
    assert [a.name for a in diagnosis.actions] == ["inc_lr"]
    assert diagnosis.facts["n_classes"] == 10.0  # read from the model's softmax output
    (text,) = slow_run["printed"]
    assert text.startswith("symtuner diagnosis: underfitting, low_lr")
    assert "causes: underfitting <- low_lr" in text and "suggested: inc_lr" in text


@pytest.mark.parametrize("name", ["history.json", "log.csv", "tb"])
def test_diagnose_json_reads_each_file_keras_writes(slow_run, name, capsys):
    assert main(["diagnose", str(slow_run["dir"] / name), "--n-classes", "10", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"problems", "causes", "actions", "facts", "explanation"} <= set(data)
    assert data["problems"] == list(slow_run["callback"].diagnosis.problems)
    assert data["causes"] == {"underfitting": "low_lr"}
    assert [a["name"] for a in data["actions"]] == ["inc_lr"]
    assert data["facts"]["n_epochs"] == 6
    assert data["source"] == {"history.json": "json", "log.csv": "csv", "tb": "tensorboard"}[name]


def test_diagnose_during_training_sees_a_partial_curve(slow_run, capsys):
    assert main(["diagnose", str(slow_run["dir"] / "log.csv"), "--n-classes", "10", "--epochs", "2",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["problems"] == [] and data["facts"]["n_epochs"] == 2
    assert "too short to judge: 2 epochs < 3" in data["explanation"]


def test_the_callback_can_stop_a_diverged_training():
    import keras

    from symtuner.integrations.keras import DiagnosisCallback

    keras.utils.set_random_seed(0)
    x, y = _digits()
    printed: list[str] = []
    callback = DiagnosisCallback(stop_on_divergence=True, print_fn=printed.append)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(256, activation="linear"),
                              keras.layers.Dense(256, activation="linear"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(5.0), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x[:600], y[:600], validation_data=(x[1400:], y[1400:]), epochs=20, batch_size=32,
                        verbose=0, callbacks=[callback])
    assert len(history.history["loss"]) < 20
    assert callback.stopped is not None and "high_lr" in callback.stopped.problems
    assert printed[0].startswith("symtuner: stopping at epoch")
    assert "high_lr" in callback.diagnosis.problems


def test_the_callback_stops_a_training_that_blew_up_and_then_sat_at_chance():
    """Adam at 3: a first epoch of hundreds, then the loss comes down to chance level and stays."""
    import keras

    from symtuner.integrations.keras import DiagnosisCallback

    keras.utils.set_random_seed(0)
    x, y = _digits()
    printed: list[str] = []
    callback = DiagnosisCallback(stop_on_divergence=True, print_fn=printed.append)
    history = _model(keras, 3.0, optimizer="adam").fit(x[:600], y[:600], validation_data=(x[1400:], y[1400:]),
                                                       epochs=12, batch_size=32, verbose=0, callbacks=[callback])
    assert len(history.history["loss"]) < 12
    assert callback.stopped is not None and "high_lr" in callback.stopped.problems
    assert "blow-up" in printed[0]
    assert [a.name for a in callback.diagnosis.actions] == ["decr_lr"]  # not underfitting -> inc_neurons


def test_a_regression_model_has_no_class_count():
    import keras

    from symtuner.integrations.keras import classes_of

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    assert classes_of(model) is None
    binary = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    binary.compile(optimizer="adam", loss="binary_crossentropy")
    assert classes_of(binary) == 2


def test_the_callback_measures_a_regression_against_its_loss_scale():
    import keras

    from symtuner.core.errors import ConfigError
    from symtuner.data import load_dataset
    from symtuner.integrations.keras import DiagnosisCallback

    data = load_dataset("diabetes")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(1e-4), loss="mse")  # a rate far too small: low_lr
    callback = DiagnosisCallback(loss_scale=data.loss_baseline, verbose=False)
    model.fit(data.x_train, data.y_train, validation_split=0.2, epochs=8, batch_size=16, verbose=0,
              callbacks=[callback])
    assert callback.diagnosis.facts["loss_scale"] == pytest.approx(data.loss_baseline)
    assert "low_lr" in callback.diagnosis.problems and "class count unknown" not in callback.diagnosis.explanation
    with pytest.raises(ConfigError, match="loss_scale must be a positive number, got -1"):
        DiagnosisCallback(loss_scale=-1)


SCRIPT = """
import sys
import numpy as np
import keras
from symtuner.integrations.keras import DiagnosisCallback
keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.random((256, 8)).astype("float32")
y = (x[:, 0] > 0.5).astype("int32")
model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                          keras.layers.Dense(2, activation="softmax")])
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
callback = DiagnosisCallback(verbose=False)
model.fit(x, y, validation_split=0.25, epochs=4, verbose=0, callbacks=[callback])
print(keras.backend.backend(), callback.diagnosis.facts["n_epochs"], callback.diagnosis.facts["n_classes"])
"""


@pytest.mark.parametrize("backend, module", [("tensorflow", "tensorflow"), ("jax", "jax"), ("torch", "torch")])
def test_the_callback_under_each_installed_backend(backend, module):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"the {backend} backend is not installed")
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-3:] == [backend, "4.0", "2.0"]
