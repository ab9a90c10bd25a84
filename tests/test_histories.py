"""Reading learning curves from History JSON, CSVLogger files and TensorBoard logs."""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from symtuner.core.errors import ConfigError
from symtuner.integrations.histories import History, normalise_series, read_history

CANONICAL = ("loss", "val_loss", "accuracy", "val_accuracy")


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_events(directory: Path, name: str, started: float, scalars: dict[str, dict[int, float]],
                 as_tensors: bool = True, extra_values: tuple = (), written: float | None = None) -> Path:
    """An event file as TensorBoard writers make it: a file-version event at ``started``, then one
    event per value, step ``s`` at wall time ``written + s + 1`` (``written`` defaults to ``started``).

    ``as_tensors`` logs scalars as Keras 3 does (scalar tensors), else as old ``simple_value``s.
    """
    written = started if written is None else written
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter
    from tensorboard.util import tensor_util

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"events.out.tfevents.{int(started)}.host.{name}.v2"
    with path.open("wb") as file:
        writer = RecordWriter(file)
        writer.write(event_pb2.Event(wall_time=started, file_version="brain.Event:2").SerializeToString())
        for value in extra_values:
            summary = summary_pb2.Summary(value=[value])
            writer.write(event_pb2.Event(wall_time=started, step=0, summary=summary).SerializeToString())
        for tag, values in scalars.items():
            for step, number in values.items():
                if as_tensors:
                    proto = tensor_util.make_tensor_proto(np.float32(number))
                    value = summary_pb2.Summary.Value(tag=tag, tensor=proto)
                else:
                    value = summary_pb2.Summary.Value(tag=tag, simple_value=number)
                event = event_pb2.Event(wall_time=written + step + 1, step=step,
                                        summary=summary_pb2.Summary(value=[value]))
                writer.write(event.SerializeToString())
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        read_history(path)
    return str(caught.value)


# --- real Keras files ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras_runs(tmp_path_factory) -> dict:
    """One tiny training logged all three ways, a rerun into a copy of its logs, and one that
    validates every other epoch."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    tmp = tmp_path_factory.mktemp("keras")
    rng = np.random.default_rng(0)
    x = rng.random((64, 4)).astype("float32")
    y = (x.sum(axis=1) > 2).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.1), "binary_crossentropy", metrics=["accuracy"])

    def fit(epochs: int, *callbacks, **options) -> dict:
        history = keras.callbacks.History()
        model.fit(x, y, validation_split=0.25, epochs=epochs, batch_size=16, verbose=0,
                  callbacks=[history, *callbacks], **options)
        return history.history

    first = fit(3, keras.callbacks.CSVLogger(str(tmp / "log.csv")), keras.callbacks.TensorBoard(tmp / "tb"))
    (tmp / "history.json").write_text(json.dumps(first))
    shutil.copytree(tmp / "tb", tmp / "twice")
    shutil.copy(tmp / "log.csv", tmp / "twice.csv")
    rerun = fit(2, keras.callbacks.CSVLogger(str(tmp / "twice.csv"), append=True),
                keras.callbacks.TensorBoard(tmp / "twice"))
    sparse = fit(3, keras.callbacks.CSVLogger(str(tmp / "sparse.csv")), keras.callbacks.TensorBoard(tmp / "sparse"),
                 validation_freq=2)
    return {"dir": tmp, "first": first, "rerun": rerun, "sparse": sparse}


@pytest.mark.keras
@pytest.mark.parametrize(("name", "source"), [("history.json", "json"), ("log.csv", "csv"), ("tb", "tensorboard")])
def test_the_three_forms_of_one_training_read_alike(keras_runs, name, source):
    history = read_history(keras_runs["dir"] / name)
    assert history.source == source and history.n_classes is None
    expected = keras_runs["first"]
    assert len(expected["loss"]) == 3 and expected["loss"][0] != expected["loss"][-1]
    for key in CANONICAL:
        assert history.series[key] == pytest.approx(expected[key], abs=1e-5), key
    assert normalise_series(history.series)["val_accuracy"] == pytest.approx(expected["val_accuracy"], abs=1e-5)


@pytest.mark.keras
def test_tensorboard_logs_carry_the_learning_rate(keras_runs):
    series = normalise_series(read_history(keras_runs["dir"] / "tb").series)
    assert series["learning_rate"] == pytest.approx([0.1] * 3)


@pytest.mark.keras
def test_a_tensorboard_train_directory_reads_on_its_own(keras_runs):
    history = read_history(keras_runs["dir"] / "tb" / "train")
    assert history.series["loss"] == pytest.approx(keras_runs["first"]["loss"], abs=1e-5)
    assert "val_loss" not in history.series


@pytest.mark.keras
@pytest.mark.parametrize("name", ["twice", "twice.csv"])
def test_a_rerun_into_the_same_logs_wins_for_its_epochs(keras_runs, name):
    history = read_history(keras_runs["dir"] / name)
    first, rerun = keras_runs["first"], keras_runs["rerun"]
    for key in CANONICAL:
        assert history.series[key] == pytest.approx(rerun[key] + first[key][2:], abs=1e-5), key


@pytest.mark.keras
@pytest.mark.parametrize("name", ["sparse", "sparse.csv"])
def test_epochs_without_validation_read_as_none(keras_runs, name):
    series = read_history(keras_runs["dir"] / name).series
    assert series["loss"] == pytest.approx(keras_runs["sparse"]["loss"], abs=1e-5)
    assert series["val_loss"][0] is None and series["val_loss"][2] is None
    assert series["val_loss"][1] == pytest.approx(keras_runs["sparse"]["val_loss"][0], abs=1e-5)


# --- JSON ---------------------------------------------------------------------------------------------


def test_a_bare_history_object(tmp_path):
    path = write(tmp_path / "h.json", json.dumps({"loss": [1.0, 0.5], "acc": [0.2, 0.4]}))
    assert read_history(path) == History({"loss": [1.0, 0.5], "acc": [0.2, 0.4]}, None, "json")


def test_a_history_key_wraps_the_series_and_metadata_is_kept_out(tmp_path):
    data = {"n_classes": 10, "description": "too high a learning rate", "expected": {"problems": ["high_lr"]},
            "history": {"loss": [2.0, 3.0], "val_loss": [2.5, 3.5]}}
    history = read_history(write(tmp_path / "case.json", json.dumps(data)))
    assert history.series == {"loss": [2.0, 3.0], "val_loss": [2.5, 3.5]}
    assert history.n_classes == 10


def test_n_classes_beside_the_series_is_kept(tmp_path):
    text = json.dumps({"loss": [1, 0.5], "n_classes": 3, "expected": "underfitting"})
    history = read_history(write(tmp_path / "h.txt", text))
    assert history.series == {"loss": [1.0, 0.5]} and history.n_classes == 3


def test_null_nan_and_infinity_become_none(tmp_path):
    path = write(tmp_path / "h.json", '{"loss": [1.0, NaN, Infinity, -Infinity, null, 0.5]}')
    assert read_history(path).series["loss"] == [1.0, None, None, None, None, 0.5]


def test_a_byte_order_mark_is_allowed(tmp_path):
    path = write(tmp_path / "h.json", b"\xef\xbb\xbf" + b'{"loss": [1.0]}')
    assert read_history(path).series == {"loss": [1.0]}


@pytest.mark.parametrize(("text", "fragments"), [
    ('{"loss": [1.0,', ["line 1, column 15", "not valid JSON"]),
    ('{\n  "loss": [1.0]\n  "val_loss": [1.0]\n}', ["line 3, column 3"]),
    ("[1.0, 2.0]", ["JSON object", "list"]),
    ('{"loss": [1.0, "0.5"]}', ["'loss'", "epoch 2", "'0.5'", "not a number"]),
    ('{"loss": [1.0], "val_loss": [[0.5]]}', ["'val_loss'", "epoch 1", "[0.5]", "not a number"]),
    ('{"loss": [true]}', ["'loss'", "True", "not a number"]),
    ('{"loss": [1.0, 0.5], "val_loss": [1.0]}', ["different lengths", "'loss': 2", "'val_loss': 1"]),
    ('{"val_loss": [1.0], "accuracy": [0.5]}', ["no 'loss' series", "'accuracy'", "'val_loss'"]),
    ('{"loss": []}', ["'loss' series is empty"]),
    ('{"loss": 0.5}', ["'loss'", "list of numbers", "0.5"]),
    ('{"history": [1.0]}', ["'history' must be an object"]),
    ('{"history": {"loss": [1.0]}, "n_classes": "ten"}', ["'n_classes'", "'ten'"]),
    ('{"loss": [1.0], "n_classes": 0}', ["'n_classes'", "positive integer", "0"]),
])
def test_bad_json_is_a_config_error_naming_the_file_and_the_problem(tmp_path, text, fragments):
    path = write(tmp_path / "bad.json", text)
    message = error_of(path)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message


def test_a_missing_path_is_a_config_error(tmp_path):
    message = error_of(tmp_path / "nowhere.json")
    assert str(tmp_path / "nowhere.json") in message and "no such file" in message


@pytest.mark.parametrize("name", ["h.json", "h.csv"])
def test_a_file_that_is_not_utf8_is_a_config_error(tmp_path, name):
    path = write(tmp_path / name, b'{"loss": [1.0], "note": "caf\xe9"}')
    message = error_of(path)
    assert str(path) in message and "not UTF-8" in message


# --- CSV ----------------------------------------------------------------------------------------------


def test_csv_columns_in_any_order_rows_ordered_by_epoch(tmp_path):
    text = ("val_loss,loss,epoch,learning_rate,accuracy\n"
            "0.9,0.8,1,0.01,0.5\n"
            "1.0,1.1,0,0.01,0.25\n"
            "0.7,0.6,2,0.001,0.75\n")
    history = read_history(write(tmp_path / "log.CSV", text))
    assert history.source == "csv" and history.n_classes is None
    assert history.series == {"val_loss": [1.0, 0.9, 0.7], "loss": [1.1, 0.8, 0.6],
                              "learning_rate": [0.01, 0.01, 0.001], "accuracy": [0.25, 0.5, 0.75]}


def test_csv_empty_na_nan_and_inf_cells_become_none(tmp_path):
    text = "epoch,loss,val_loss\n0,1.0,\n1,nan,NA\n2,inf,-inf\n3, 0.5 , 0.6\n\n"
    series = read_history(write(tmp_path / "log.csv", text)).series
    assert series == {"loss": [1.0, None, None, 0.5], "val_loss": [None, None, None, 0.6]}


def test_csv_without_an_epoch_column_keeps_the_file_order(tmp_path):
    series = read_history(write(tmp_path / "log.csv", "loss\n3\n1\n2\n")).series
    assert series == {"loss": [3.0, 1.0, 2.0]}


@pytest.mark.parametrize(("text", "fragments"), [
    ("", ["is empty"]),
    ("\n\n", ["is empty"]),
    ("epoch,accuracy,val_loss\n0,0.5,1.0\n", ["no 'loss' column", "'accuracy'"]),
    ("epoch,loss,val_loss\n", ["no rows"]),
    ("epoch,loss\n0,1.0\n1,one\n", ["row 3", "'loss'", "'one'", "not a number"]),
    ("epoch,loss\nfirst,1.0\n", ["row 2", "epoch 'first'"]),
    ("epoch,loss\n0,1.0,2.0\n", ["row 2", "3 cells for 2 columns"]),
])
def test_bad_csv_is_a_config_error_naming_the_file_and_the_problem(tmp_path, text, fragments):
    path = write(tmp_path / "log.csv", text)
    message = error_of(path)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message


# --- TensorBoard --------------------------------------------------------------------------------------


def test_tensorboard_train_and_validation_subdirectories(tmp_path):
    write_events(tmp_path / "train", "1", 100.0, {"epoch_loss": {1: 0.5, 0: 1.0}, "epoch_acc": {0: 0.4, 1: 0.6},
                                                  "batch_loss": {0: 9.0, 5: 9.0}})
    write_events(tmp_path / "validation", "2", 100.0, {"epoch_loss": {0: 1.2, 1: float("nan")},
                                                       "evaluation_loss_vs_iterations": {3: 9.0}})
    history = read_history(tmp_path)
    assert history.source == "tensorboard"
    assert history.series == {"acc": pytest.approx([0.4, 0.6]), "loss": [1.0, 0.5], "val_loss": [pytest.approx(1.2), None]}


def test_tensorboard_simple_value_scalars_in_the_directory_itself(tmp_path):
    write_events(tmp_path, "1", 100.0, {"epoch_loss": {0: 2.0, 1: 1.0}, "epoch_val_loss": {0: 3.0, 1: 2.5}},
                 as_tensors=False)
    assert read_history(tmp_path).series == {"loss": [2.0, 1.0], "val_loss": [3.0, 2.5]}


def test_tensorboard_non_scalar_tensors_are_skipped(tmp_path):
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.util import tensor_util

    extra = (summary_pb2.Summary.Value(tag="epoch_weights", tensor=tensor_util.make_tensor_proto(np.ones(3))),
             summary_pb2.Summary.Value(tag="epoch_config", tensor=tensor_util.make_tensor_proto(np.array(b"{}"))))
    write_events(tmp_path / "train", "1", 100.0, {"epoch_loss": {0: 1.0}}, extra_values=extra)
    assert read_history(tmp_path).series == {"loss": [1.0]}


def test_tensorboard_the_newest_file_wins_for_a_repeated_step(tmp_path):
    # A 3-epoch run, then a 2-epoch rerun: its file starts in the same whole second, as Keras's do, and
    # its name sorts first, but its values are written later.
    write_events(tmp_path / "train", "9", 100.0, {"epoch_loss": {0: 3.0, 1: 2.0, 2: 1.0}})
    write_events(tmp_path / "train", "10", 100.0, {"epoch_loss": {0: 30.0, 1: 20.0}}, written=200.0)
    write(tmp_path / "train" / "events.out.tfevents.300.host.empty.v2", b"")
    write_events(tmp_path / "validation", "1", 100.0, {"epoch_loss": {0: 4.0, 1: 3.0, 2: 2.0}})
    write_events(tmp_path / "validation", "2", 150.0, {"epoch_loss": {1: 40.0}})
    assert read_history(tmp_path).series == {"loss": [30.0, 20.0, 1.0], "val_loss": [4.0, 40.0, 2.0]}


def test_tensorboard_directory_without_event_files(tmp_path):
    (tmp_path / "train").mkdir()
    write(tmp_path / "notes.txt", "nothing here")
    message = error_of(tmp_path)
    assert str(tmp_path) in message and "no TensorBoard event files" in message


def test_tensorboard_logs_one_level_too_high_get_a_hint(tmp_path):
    write_events(tmp_path / "run1" / "train", "1", 100.0, {"epoch_loss": {0: 1.0}})
    message = error_of(tmp_path)
    assert "no TensorBoard event files" in message and str(Path("run1") / "train") in message


def test_tensorboard_event_files_without_epoch_loss(tmp_path):
    write_events(tmp_path / "validation", "1", 100.0, {"epoch_loss": {0: 1.0}})
    write_events(tmp_path / "train", "2", 100.0, {"batch_loss": {0: 1.0}})
    message = error_of(tmp_path)
    assert str(tmp_path) in message and "'epoch_loss'" in message and "'val_loss'" in message


def test_tensorboard_files_that_are_not_event_files(tmp_path):
    write(tmp_path / "events.out.tfevents.1.host.0.v2", "not a record")
    message = error_of(tmp_path)
    assert str(tmp_path) in message and "'epoch_loss'" in message


# --- normalise_series ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["accuracy", "acc", "binary_accuracy", "sparse_categorical_accuracy",
                                 "categorical_accuracy"])
def test_accuracy_under_any_keras_name(key):
    series = normalise_series({"loss": [1.0, 0.5], "val_loss": [1.1, 0.6], key: [0.25, 0.5],
                               f"val_{key}": [0.2, 0.4]})
    assert series == {"loss": [1.0, 0.5], "val_loss": [1.1, 0.6], "accuracy": [0.25, 0.5], "val_accuracy": [0.2, 0.4]}


def test_the_first_accuracy_name_wins_and_validation_matches_it():
    series = normalise_series({"loss": [1.0], "binary_accuracy": [0.1], "acc": [0.2], "val_binary_accuracy": [0.3],
                               "val_acc": [0.4], "val_accuracy": [0.5]})
    assert series["accuracy"] == [0.2] and series["val_accuracy"] == [0.4]


def test_validation_accuracy_under_another_name_than_train():
    series = normalise_series({"loss": [1.0], "acc": [0.2], "val_categorical_accuracy": [0.3],
                               "val_binary_accuracy": [0.4]})
    assert series["accuracy"] == [0.2] and series["val_accuracy"] == [0.4]


def test_validation_accuracy_without_train_accuracy():
    series = normalise_series({"loss": [1.0], "val_sparse_categorical_accuracy": [0.3]})
    assert series == {"loss": [1.0], "val_accuracy": [0.3]}


def test_percent_accuracies_are_decided_series_by_series():
    series = normalise_series({"loss": [1.0, 0.5, 0.4], "acc": [40.0, None, 80.0], "val_acc": [0.5, 0.7, 0.9]})
    assert series["accuracy"] == pytest.approx([0.4, None, 0.8])
    assert series["val_accuracy"] == pytest.approx([0.5, 0.7, 0.9])  # fractions: not divided with the train's
    series = normalise_series({"loss": [1.0, 0.5, 0.4], "acc": [0.4, 0.6, 0.8], "val_acc": [0.5, 70.0, 90.0]})
    assert series["accuracy"] == pytest.approx([0.4, 0.6, 0.8])
    assert series["val_accuracy"] == pytest.approx([0.005, 0.7, 0.9])


def test_a_stray_accuracy_above_one_is_named_not_taken_for_percent():
    with pytest.raises(ConfigError, match="1.5.*epoch 2"):
        normalise_series({"loss": [1.0, 0.5, 0.4], "accuracy": [0.5, 1.5, 0.7], "val_accuracy": [0.4, 0.5, 0.6]})


def test_fractions_up_to_one_stay_as_they_are():
    series = normalise_series({"loss": [1.0, 0.5], "accuracy": [0.0, 1.0]})
    assert series["accuracy"] == [0.0, 1.0]


@pytest.mark.parametrize(("series", "fragments"), [
    ({"loss": [1.0, 0.5], "accuracy": [0.5, 150.0]}, ["'accuracy'", "150.0", "epoch 2"]),
    ({"loss": [1.0, 0.5], "val_binary_accuracy": [-0.1, 0.5]}, ["'val_binary_accuracy'", "-0.1", "epoch 1"]),
    ({"loss": [1.0, 0.5], "acc": [-5.0, 50.0]}, ["'acc'", "-5.0", "epoch 1"]),
    ({"val_loss": [1.0], "accuracy": [0.5]}, ["no 'loss' series"]),
    ({"loss": [1.0, "x"]}, ["'loss'", "epoch 2", "'x'"]),
])
def test_bad_series_are_config_errors_naming_key_value_and_epoch(series, fragments):
    with pytest.raises(ConfigError) as caught:
        normalise_series(series)
    for fragment in fragments:
        assert fragment in str(caught.value), str(caught.value)


def test_a_loss_only_history_is_valid(tmp_path):
    history = read_history(write(tmp_path / "h.json", '{"loss": [1.0, null, 0.5], "n_classes": 2}'))
    assert normalise_series(history.series) == {"loss": [1.0, None, 0.5]}


def test_the_learning_rate_under_either_name():
    assert normalise_series({"loss": [1.0], "lr": [0.1]})["learning_rate"] == [0.1]
    assert normalise_series({"loss": [1.0], "lr": [0.1], "learning_rate": [0.2]})["learning_rate"] == [0.2]


def test_none_and_non_finite_values_are_none_and_numpy_numbers_are_floats():
    series = normalise_series({"loss": [np.float32(0.5), None, math.nan], "accuracy": [np.float64(0.25), None, 0.5]})
    assert series == {"loss": [0.5, None, None], "accuracy": [0.25, None, 0.5]}
    assert all(type(v) is float for v in series["loss"] if v is not None)
