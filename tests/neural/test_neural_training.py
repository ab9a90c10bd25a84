"""Training one trial: curve, scores, files, failures, and a validation set kept apart from the test set."""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np
import pytest

from symtuner.core.architecture import L2_NAME, Architecture, dense_units_name
from symtuner.core.errors import ConfigError, DataError, TrialFailed
from symtuner.data import validate_dataset
from symtuner.execution.inprocess import InProcessExecutor
from symtuner.training import (
    TrainingConfig,
    TrialSpec,
    build_default_network,
    split_validation,
    train_trial,
)
from symtuner.training.training import batch_size_param, make_optimizer

ARCH = Architecture(batch_norm=True, l2=True, augmentation=True, flip=True, extra_dense=1)
CONFIG = TrainingConfig(epochs=2, patience=3)


def spec_for(tmp: Path, params: dict, arch: Architecture | None = None, seed: int = 3) -> TrialSpec:
    return TrialSpec(number=1, params=params, architecture=arch or Architecture(), seed=seed, model_path=tmp / "model.keras",
                     log_dir=tmp / "logs")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_dataset, small_params_template):
    """One real training of the default network with every change, through the executor."""
    dataset = tiny_dataset
    params = {**small_params_template, L2_NAME: 1e-4, dense_units_name(1): 6, "batch_size": 10_000}
    tmp = tmp_path_factory.mktemp("trial")
    epochs: list[tuple[int, dict]] = []
    executor = InProcessExecutor(dataset, build_default_network, CONFIG)
    result = executor.run(spec_for(tmp, params, ARCH), on_epoch=lambda e, logs: epochs.append((e, logs)))
    return dataset, params, result, epochs


@pytest.mark.keras
def test_training_returns_a_curve_and_reports_each_epoch(trained):
    _, _, result, epochs = trained
    assert result.epochs_run == result.curve.n_epochs == 2
    assert [e for e, _ in epochs] == [0, 1]
    for epoch, logs in epochs:
        assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(logs)
        assert logs["val_loss"] == pytest.approx(result.curve.val_loss[epoch])
        assert logs["loss"] == pytest.approx(result.curve.loss[epoch])
    for series in (result.curve.loss, result.curve.val_accuracy):
        assert all(type(v) is float and math.isfinite(v) for v in series)
    assert result.train_seconds > 0 and result.ignored_changes == ()
    assert 0 <= result.test_accuracy <= 1 and 0 <= result.val_accuracy <= 1


@pytest.mark.keras
def test_validation_comes_from_training_data_and_test_is_separate(trained):
    dataset, _, result, _ = trained
    split = split_validation(dataset, CONFIG.validation_split, CONFIG.split_seed)
    model = keras.saving.load_model(result.model_path)
    val = model.evaluate(split.x_val, split.y_val, verbose=0, return_dict=True)
    test = model.evaluate(dataset.x_test, dataset.y_test, verbose=0, return_dict=True)
    # the saved model keeps its compiled metrics: data_loss is the cross-entropy without the L2 term
    assert result.val_loss == pytest.approx(val["data_loss"], rel=1e-4)
    assert result.test_loss == pytest.approx(test["data_loss"], rel=1e-4)
    assert val["loss"] > val["data_loss"]
    assert result.val_loss != pytest.approx(result.test_loss, rel=1e-4)
    train_rows = {row.tobytes() for row in dataset.x_train}
    test_rows = {row.tobytes() for row in dataset.x_test}
    assert all(row.tobytes() in train_rows and row.tobytes() not in test_rows for row in split.x_val)


@pytest.mark.keras
def test_saved_model_loads_and_logs_exist(trained):
    _, _, result, _ = trained
    model = keras.saving.load_model(result.model_path)
    assert model.count_params() == result.params_count
    assert model.get_layer("augment_flip") is not None and model.get_layer("extra_fc1").units == 6
    for part in ("train", "validation"):
        assert list((result.log_dir / part).glob("events.out.tfevents.*"))


@pytest.mark.keras
def test_same_seed_gives_the_same_curve(trained, tmp_path):
    dataset, params, result, _ = trained
    again = train_trial(spec_for(tmp_path, params, ARCH), dataset, build_default_network,
                        TrainingConfig(epochs=2, patience=3, tensorboard=False))
    assert again.curve == result.curve
    assert not (tmp_path / "logs").exists()


@pytest.mark.keras
def test_diverged_run_returns_its_nan_curve(tiny_dataset, small_params, tmp_path):
    def nan_network(params, arch, input_shape, n_classes):
        inputs = keras.Input(input_shape)
        x = keras.layers.Flatten()(inputs)
        outputs = keras.layers.Dense(n_classes, activation="softmax",
                                     kernel_initializer=keras.initializers.Constant(math.nan))(x)
        return keras.Model(inputs, outputs)

    result = train_trial(spec_for(tmp_path, small_params), tiny_dataset, nan_network,
                         TrainingConfig(epochs=3, tensorboard=False))
    assert result.epochs_run == 1
    assert math.isnan(result.curve.loss[0])
    assert result.model_path.exists()


def test_build_errors_become_trial_failures(tiny_dataset, small_params, tmp_path):
    def broken(params, arch, input_shape, n_classes):
        raise RuntimeError("boom")

    with pytest.raises(TrialFailed, match="trial 1: building the network failed: RuntimeError: boom"):
        train_trial(spec_for(tmp_path, small_params), tiny_dataset, broken, CONFIG)


def test_config_errors_from_the_network_pass_through(tiny_dataset, small_params, tmp_path):
    with pytest.raises(ConfigError, match="unknown activation 'nope'"):
        train_trial(spec_for(tmp_path, {**small_params, "activation": "nope"}), tiny_dataset,
                    build_default_network, CONFIG)


@pytest.mark.parametrize("make, message", [
    (lambda p, a, s, n: "a model", "returned str, not a keras.Model"),
    (lambda p, a, s, n: keras.Model(i := keras.Input(s), keras.layers.Dense(5)(keras.layers.Flatten()(i))),
     "output has 5 units but tiny has 3 classes"),
])
def test_bad_network_functions_are_config_errors(tiny_dataset, small_params, tmp_path, make, message):
    with pytest.raises(ConfigError, match=message):
        train_trial(spec_for(tmp_path, small_params), tiny_dataset, make, CONFIG)


def test_unknown_optimizer_is_named(tiny_dataset, small_params, tmp_path):
    with pytest.raises(ConfigError, match="unknown optimizer 'Adamw2'"):
        train_trial(spec_for(tmp_path, {**small_params, "optimizer": "Adamw2"}), tiny_dataset,
                    build_default_network, CONFIG)


@pytest.mark.keras
def test_errors_during_fit_become_trial_failures(tiny_dataset, small_params, tmp_path):
    def wrong_input(params, arch, input_shape, n_classes):
        return build_default_network(params, arch, (10, 10, 1), n_classes)

    with pytest.raises(TrialFailed, match="trial 1: training failed"):
        train_trial(spec_for(tmp_path, small_params), tiny_dataset, wrong_input,
                    TrainingConfig(epochs=1, tensorboard=False))


def test_optimizer_table():
    optimizer = make_optimizer({"optimizer": "rmsprop", "learning_rate": np.float64(0.005)})
    assert isinstance(optimizer, keras.optimizers.RMSprop)
    assert float(keras.ops.convert_to_numpy(optimizer.learning_rate)) == pytest.approx(0.005)
    assert isinstance(make_optimizer({}), keras.optimizers.Adam)
    with pytest.raises(ConfigError, match="'learning_rate' must be a positive number"):
        make_optimizer({"optimizer": "SGD", "learning_rate": 0})


def test_batch_size_is_clipped_to_the_training_size():
    assert batch_size_param({"batch_size": 10_000}, 58) == 58
    assert batch_size_param({"batch_size": np.int64(16)}, 58) == 16
    assert batch_size_param({}, 58) == 32
    with pytest.raises(ConfigError, match="'batch_size' must be a positive integer"):
        batch_size_param({"batch_size": 0}, 58)


def test_validation_split_is_stratified_seeded_and_disjoint(tiny_dataset):
    split = split_validation(tiny_dataset, 0.25, seed=5)
    assert len(split.y_val) == 18 and len(split.y_fit) == 54
    assert np.bincount(split.y_val).tolist() == [6, 6, 6]
    fit_rows = {row.tobytes() for row in split.x_fit}
    assert not any(row.tobytes() in fit_rows for row in split.x_val)
    same = split_validation(tiny_dataset, 0.25, seed=5)
    other = split_validation(tiny_dataset, 0.25, seed=6)
    np.testing.assert_array_equal(same.x_val, split.x_val)
    assert not np.array_equal(other.x_val, split.x_val)


def test_validation_split_falls_back_when_a_class_is_too_rare():
    x = np.zeros((10, 4, 4, 1), np.float32)
    dataset = validate_dataset(x, x[:2], [0] * 9 + [1], [0, 1], 2)
    split = split_validation(dataset, 0.2, seed=0)
    assert len(split.y_val) == 2 and len(split.y_fit) == 8


def test_validation_split_needs_enough_samples():
    x = np.zeros((1, 4, 4, 1), np.float32)
    with pytest.raises(DataError, match="cannot hold out"):
        split_validation(validate_dataset(x, x, [0], [1], 2, name="one"), 0.2, seed=0)


@pytest.mark.parametrize("make, message", [
    (lambda: TrainingConfig(epochs=0), "epochs must be an integer >= 1"),
    (lambda: TrainingConfig(validation_split=1.0), "validation_split must be between 0 and 1"),
    (lambda: TrainingConfig(patience=-1), "patience must be an integer >= 0"),
    (lambda: TrialSpec(1, {}, Architecture(), 0, Path("m.h5"), Path("logs")), "must end in .keras"),
    (lambda: TrialSpec(1, {}, Architecture(), -1, Path("m.keras"), Path("logs")), "seed must be"),
])
def test_bad_settings_are_named(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


@pytest.mark.keras
def test_recorded_losses_are_cross_entropy_without_the_l2_penalty(tiny_dataset, small_params, tmp_path):
    """A heavy L2 penalty must not show up as a high loss: the curve, the scores
    and the epoch logs hold the data loss; the penalised one is kept aside."""
    params = {**small_params, L2_NAME: 0.5}
    config = TrainingConfig(epochs=1, patience=3, tensorboard=False)
    epochs: list[dict] = []
    result = train_trial(spec_for(tmp_path, params, Architecture(l2=True)), tiny_dataset, build_default_network,
                         config, lambda e, logs: epochs.append(logs))
    logs = epochs[0]
    assert logs["loss"] == pytest.approx(result.curve.loss[0])
    assert logs["penalised_loss"] > logs["loss"] + 0.1
    assert logs["val_penalised_loss"] > logs["val_loss"] + 0.1
    split = split_validation(tiny_dataset, config.validation_split, config.split_seed)
    model = keras.models.load_model(result.model_path)
    probs = model.predict(split.x_val, verbose=0)
    cross_entropy = float(np.mean(-np.log(probs[np.arange(len(split.y_val)), split.y_val])))
    assert result.val_loss == pytest.approx(cross_entropy, rel=1e-3)
