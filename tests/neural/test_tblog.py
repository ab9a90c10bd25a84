"""TensorBoard logs of trials, read back the way TensorBoard's HParams dashboard reads them.

The dashboard asks its plugin for the experiment (the columns) and then for the groups of runs
(the rows), ticking every discrete value of every column; :func:`dashboard` does the same
through the plugin's own handlers on a multiplexer over the log root.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from symtuner.core.architecture import Architecture
from symtuner.core.errors import ConfigError
from symtuner.integrations.histories import read_history
from symtuner.training.tblog import (
    EpochScalars,
    HParamsRecord,
    hparam_values,
    hparams_callback,
    scalars_callback,
    tensorboard_callbacks,
)

EPOCHS = 2
FIRST = {"learning_rate": np.float64(0.01), "optimizer": "Adam", "batch_size": np.int64(16), "flip": True}
#: the second trial has an HP the first lacks, as after a tuning action that adds one
SECOND = {"learning_rate": 0.003, "optimizer": "Adamax", "batch_size": 24, "flip": False, "l2": 1e-4}
FIRST_ARCH = Architecture().features()
SECOND_ARCH = Architecture(l2=True, extra_dense=1).features()


def dashboard(root: Path) -> tuple[Any, dict[str, Any]]:
    """The experiment and ``{run name: row}`` the HParams dashboard shows for ``root``."""
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.context import RequestContext
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import api_pb2, backend_context, get_experiment, list_session_groups

    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(root))
    multiplexer.Reload()
    context = backend_context.Context(base_plugin.TBContext(
        logdir=str(root), multiplexer=multiplexer,
        data_provider=data_provider.MultiplexerDataProvider(multiplexer, str(root))))
    request = RequestContext()
    experiment = get_experiment.Handler(request, context, "", api_pb2.GetExperimentRequest()).run()
    columns = []
    for info in experiment.hparam_infos:
        column = api_pb2.ColParams(hparam=info.name)
        if info.HasField("domain_discrete"):
            column.filter_discrete.CopyFrom(info.domain_discrete)
        columns.append(column)
    statuses = [api_pb2.STATUS_UNKNOWN, api_pb2.STATUS_SUCCESS, api_pb2.STATUS_FAILURE, api_pb2.STATUS_RUNNING]
    groups = list_session_groups.Handler(request, context, "", api_pb2.ListSessionGroupsRequest(
        col_params=columns, start_index=0, slice_size=100, allowed_statuses=statuses)).run()
    return experiment, {group.sessions[0].name: group for group in groups.session_groups}


def hparams_of(group: Any) -> dict[str, Any]:
    """A row's HP values as Python values."""
    out = {}
    for name, value in group.hparams.items():
        kind = value.WhichOneof("kind")
        out[name] = {"bool_value": value.bool_value, "number_value": value.number_value,
                     "string_value": value.string_value}[kind]
    return out


def metrics_of(group: Any) -> dict[tuple[str, str], tuple[float, int]]:
    """A row's metrics as ``{(group, tag): (value, step)}``."""
    return {(m.name.group, m.name.tag): (m.value, m.training_step) for m in group.metric_values}


def expected_hparams(params: dict[str, Any], features: dict[str, int]) -> dict[str, Any]:
    return {**{k: v.item() if isinstance(v, np.generic) else v for k, v in params.items()}, **features}


def fit(callbacks: list[Any], dataset: Any, learning_rate: float) -> dict[str, list[float]]:
    """Train a tiny softmax classifier for EPOCHS epochs; its history."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(dataset.input_shape), keras.layers.Flatten(),
                              keras.layers.Dense(dataset.n_classes, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(dataset.x_train, dataset.y_train, validation_data=(dataset.x_test, dataset.y_test),
                        epochs=EPOCHS, batch_size=16, verbose=0, callbacks=callbacks)
    return history.history


@pytest.fixture(scope="module")
def study_logs(tmp_path_factory, tiny_dataset):
    """Two trials of a study: the first logged the TensorFlow way, the second the other backends' way.

    The second training also runs Keras's own TensorBoard callback, into a directory outside the
    study's logs, to compare the epoch scalars with.
    """
    tmp = tmp_path_factory.mktemp("tblog")
    root = tmp / "logs"
    first = fit(tensorboard_callbacks(root / "trial_0001", FIRST, FIRST_ARCH, backend="tensorflow"), tiny_dataset,
                0.01)
    reference = tmp / "keras_reference"
    second = fit(tensorboard_callbacks(root / "trial_0002", SECOND, SECOND_ARCH, backend="jax")
                 + [keras.callbacks.TensorBoard(log_dir=str(reference), histogram_freq=0, write_graph=False,
                                                update_freq="epoch", profile_batch=0)], tiny_dataset, 0.003)
    return root, reference, {"trial_0001": first, "trial_0002": second}


@pytest.mark.keras
def test_the_dashboard_lists_every_trial_with_its_hparams(study_logs):
    root, _, _ = study_logs
    experiment, rows = dashboard(root)
    columns = {info.name: info for info in experiment.hparam_infos}
    assert set(columns) == set(FIRST) | set(SECOND) | set(FIRST_ARCH)
    assert "l2" in columns and "arch_l2" in columns  # an HP only the later trial has is a column too
    assert {value.string_value for value in columns["optimizer"].domain_discrete.values} == {"Adam", "Adamax"}
    assert set(rows) == {"trial_0001", "trial_0002"}
    assert hparams_of(rows["trial_0001"]) == expected_hparams(FIRST, FIRST_ARCH)
    assert hparams_of(rows["trial_0002"]) == expected_hparams(SECOND, SECOND_ARCH)
    assert hparams_of(rows["trial_0002"])["arch_extra_dense"] == 1
    assert rows["trial_0002"].name == f"trial_0002 ({root.absolute().as_posix()})"  # the "Trial ID": one per trial


@pytest.mark.keras
def test_each_trial_ends_with_its_last_epochs_metrics(study_logs):
    from tensorboard.plugins.hparams import api_pb2

    root, _, histories = study_logs
    experiment, rows = dashboard(root)
    metric_columns = {(info.name.group, info.name.tag) for info in experiment.metric_infos}
    for name, history in histories.items():
        assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
        metrics = metrics_of(rows[name])
        for metric, values in history.items():
            assert ("", metric) in metric_columns
            assert metrics[("", metric)] == (pytest.approx(values[-1], rel=1e-6), EPOCHS - 1)
        # the epoch scalars of both backends' logs are the dashboard's metrics as well, at their last epoch
        assert metrics[("validation", "epoch_accuracy")][0] == pytest.approx(history["val_accuracy"][-1], rel=1e-6)
        assert rows[name].sessions[0].status == api_pb2.STATUS_SUCCESS


@pytest.mark.keras
def test_scalars_callback_writes_what_keras_tensorboard_writes(study_logs):
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.util import tensor_util

    root, reference, histories = study_logs
    ours, keras_own = read_history(root / "trial_0002"), read_history(reference)
    assert set(ours.series) == set(keras_own.series) == set(histories["trial_0002"]) | {"learning_rate"}
    for name, values in keras_own.series.items():
        assert ours.series[name] == pytest.approx(values, rel=1e-6)
    assert ours.series["learning_rate"] == pytest.approx([0.003] * EPOCHS)
    for side in ("train", "validation"):
        written = []
        for directory in (root / "trial_0002" / side, reference / side):
            accumulator = event_accumulator.EventAccumulator(str(directory))
            accumulator.Reload()
            written.append({tag: [(e.step, tensor_util.make_ndarray(e.tensor_proto).item())
                                  for e in accumulator.Tensors(tag)] for tag in accumulator.Tags()["tensors"]})
        assert set(written[0]) == set(written[1]) and "epoch_loss" in written[0]
        for tag, events in written[1].items():  # same steps (epochs, iterations), same values
            assert [step for step, _ in written[0][tag]] == [step for step, _ in events]
            assert [value for _, value in written[0][tag]] == pytest.approx([value for _, value in events], rel=1e-6)
    assert {"evaluation_loss_vs_iterations", "evaluation_accuracy_vs_iterations"} <= set(written[0])
    # the TensorFlow-logged trial reads back as its history too, next to the HParams files in its directory
    first = read_history(root / "trial_0001").series
    for name, values in histories["trial_0001"].items():
        assert first[name] == pytest.approx(values, rel=1e-6)


NO_TENSORFLOW = textwrap.dedent("""
    import json, sys
    sys.modules["tensorflow"] = None  # any import of TensorFlow fails from here on
    from symtuner.training.tblog import EpochScalars, HParamsRecord, hparam_values
    log_dir = sys.argv[1]
    record = HParamsRecord(log_dir, hparam_values({"learning_rate": 0.01, "optimizer": "SGD"}, {"arch_l2": 1}))
    record.start()
    scalars = EpochScalars(log_dir)
    logs = [{"loss": 1.5, "accuracy": 0.4, "val_loss": 1.7, "val_accuracy": 0.3},
            {"loss": 0.9, "accuracy": 0.7, "val_loss": 1.1, "val_accuracy": 0.6}]
    for epoch, epoch_logs in enumerate(logs):
        scalars.write(epoch, epoch_logs, learning_rate=0.01)
    scalars.close()
    record.end(logs[-1], step=1)
    from tensorboard.compat import tf
    print(json.dumps({"tf": tf.__name__}))
""")


def test_the_logs_need_no_tensorflow(tmp_path):
    """Keras needs a backend, and here only TensorFlow is installed: the writers run on their own, TF blocked."""
    log_dir = tmp_path / "logs" / "trial_0001"
    done = subprocess.run([sys.executable, "-c", NO_TENSORFLOW, str(log_dir)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {"tf": "tensorboard.compat.tensorflow_stub"}
    _, rows = dashboard(tmp_path / "logs")
    assert hparams_of(rows["trial_0001"]) == {"learning_rate": 0.01, "optimizer": "SGD", "arch_l2": 1}
    assert metrics_of(rows["trial_0001"])[("", "val_accuracy")] == (pytest.approx(0.6), 1)
    series = read_history(log_dir).series
    assert series["loss"] == pytest.approx([1.5, 0.9]) and series["val_accuracy"] == pytest.approx([0.3, 0.6])
    assert series["learning_rate"] == pytest.approx([0.01, 0.01])


JAX_TRIAL = textwrap.dedent("""
    import json, sys
    sys.modules["tensorflow"] = None
    import keras, numpy as np
    from symtuner.training.tblog import tensorboard_callbacks
    x = np.random.default_rng(0).random((64, 4)).astype("float32")
    y = (x.sum(axis=1) > 2).astype("int32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    callbacks = tensorboard_callbacks(sys.argv[1], {"learning_rate": 1e-2, "optimizer": "Adam"}, {"arch_l2": 0})
    history = model.fit(x, y, validation_split=0.25, epochs=2, batch_size=16, verbose=0, callbacks=callbacks)
    print(json.dumps({"backend": keras.backend.backend(), "history": history.history}))
""")


@pytest.mark.keras
@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="JAX is not installed")
def test_a_jax_trial_without_tensorflow_logs_the_same(tmp_path):
    spec = importlib.util.find_spec("jax")
    assert spec is not None and spec.origin is not None
    jax_path = str(Path(spec.origin).parent.parent)
    env = {**os.environ, "KERAS_BACKEND": "jax",
           "PYTHONPATH": os.pathsep.join(p for p in (jax_path, os.environ.get("PYTHONPATH", "")) if p)}
    log_dir = tmp_path / "logs" / "trial_0001"
    done = subprocess.run([sys.executable, "-c", JAX_TRIAL, str(log_dir)], capture_output=True, text=True,
                          timeout=300, check=False, env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["backend"] == "jax"
    _, rows = dashboard(tmp_path / "logs")
    assert hparams_of(rows["trial_0001"]) == {"learning_rate": 0.01, "optimizer": "Adam", "arch_l2": 0}
    metrics = metrics_of(rows["trial_0001"])
    for name, values in result["history"].items():
        assert metrics[("", name)] == (pytest.approx(values[-1], rel=1e-6), 1)
        assert read_history(log_dir).series[name] == pytest.approx(values, rel=1e-6)


def test_hparam_values_are_plain_numbers_strings_and_booleans():
    values = hparam_values({"units": np.int32(7), "rate": np.float32(0.5), "opt": "Adam", "flip": np.bool_(True)},
                           {"arch_l2": True, "arch_extra_dense": np.int64(2)})
    assert values == {"units": 7, "rate": 0.5, "opt": "Adam", "flip": True, "arch_l2": 1, "arch_extra_dense": 2}
    assert [type(values[k]) for k in ("units", "rate", "flip", "arch_l2", "arch_extra_dense")] == \
        [int, float, bool, int, int]


@pytest.mark.parametrize(("params", "features", "message"), [
    ({"units": [16, 32]}, {}, r"HP 'units' has the value \[16, 32\]"),
    ({"units": None}, {}, "HP 'units' has the value None"),
    ({"arch_l2": 1}, {"arch_l2": 0}, "architecture feature 'arch_l2' has the name of an HP"),
    ({}, {"arch_l2": 0.5}, "architecture feature 'arch_l2' must be an integer, got 0.5"),
    ({3: 1}, {}, "HP name 3 must be a non-empty string"),
])
def test_values_the_hparams_cannot_hold_are_refused_by_name(params, features, message):
    with pytest.raises(ConfigError, match=message):
        hparam_values(params, features)
    with pytest.raises(ConfigError, match=message):
        hparams_callback("unused", params, features)  # before any training


def test_a_diverged_training_is_a_failed_trial(tmp_path):
    from tensorboard.plugins.hparams import api_pb2

    for name, loss in (("trial_0001", math.nan), ("trial_0002", 0.25)):
        record = HParamsRecord(tmp_path / name, {"learning_rate": 1.0})
        record.start()
        record.end({"loss": loss, "accuracy": 0.1}, step=3)
    _, rows = dashboard(tmp_path)
    assert rows["trial_0001"].sessions[0].status == api_pb2.STATUS_FAILURE
    assert rows["trial_0002"].sessions[0].status == api_pb2.STATUS_SUCCESS
    assert metrics_of(rows["trial_0002"])[("", "loss")] == (0.25, 3)


def test_epoch_scalars_write_no_files_before_an_epoch_and_refuse_non_numbers(tmp_path):
    scalars = EpochScalars(tmp_path)
    scalars.close()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ConfigError, match="metric 'loss' has the value 'high', not a number"):
        scalars.write(0, {"loss": "high"})
    scalars.close()


def test_tensorboard_callbacks_per_backend(tmp_path):
    on_tf = tensorboard_callbacks(tmp_path / "a", {"learning_rate": 0.1}, {}, backend="tensorflow")
    assert isinstance(on_tf[0], keras.callbacks.TensorBoard)
    assert (on_tf[0].histogram_freq, on_tf[0].write_graph, on_tf[0].update_freq) == (0, False, "epoch")
    on_torch = tensorboard_callbacks(tmp_path / "b", {"learning_rate": 0.1}, {}, backend="torch")
    assert not any(isinstance(c, keras.callbacks.TensorBoard) for c in on_torch)
    assert [type(c).__name__ for c in on_torch] == ["EpochScalarsCallback", "HParamsCallback"]
    assert type(scalars_callback(tmp_path)).__name__ == "EpochScalarsCallback"
    assert (tmp_path / "a").is_dir() and (tmp_path / "b").is_dir()
