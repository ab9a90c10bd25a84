"""What a network function must return: a model ending in a probability distribution (or compiled by its author)."""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from symtuner.core.architecture import Architecture
from symtuner.core.errors import ConfigError, TrialFailed
from symtuner.core.space import Categorical, Real, SearchSpace
from symtuner.training import TrainingConfig, TrialSpec, train_trial
from symtuner.training.checks import check_output, output_layer
from symtuner.training.training import DATA_LOSS, check_before_study

CONFIG = TrainingConfig(epochs=2, tensorboard=False)
PARAMS = {"optimizer": "Adam", "learning_rate": 1e-2, "batch_size": 16}
SPACE = SearchSpace((Real("learning_rate", 1e-3, 1e-2, "log-uniform"), Categorical("optimizer", ("Adam",))))


def spec_for(tmp: Path) -> TrialSpec:
    return TrialSpec(number=1, params=dict(PARAMS), architecture=Architecture(), seed=0,
                     model_path=tmp / "model.keras", log_dir=tmp / "logs")


def dense_network(activation: str | None, units: int | None = None):
    """A network function ending in Dense(units or n_classes, activation), named 'head'."""
    def build(params, arch, input_shape, n_classes):
        inputs = keras.Input(input_shape)
        x = keras.layers.Flatten()(inputs)
        return keras.Model(inputs, keras.layers.Dense(units or n_classes, activation=activation, name="head")(x))
    return build


def compiled_network(params, arch, input_shape, n_classes):
    """A correct network that its author compiled with a loss and optimizer of their own."""
    model = dense_network("softmax")(params, arch, input_shape, n_classes)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy",
                  metrics=[keras.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")])
    return model


class Doubled(keras.layers.Layer):
    """A custom layer with no activation to read: its output sums to 2 per row."""

    def call(self, x):
        return 2.0 * x


def doubled_softmax(params, arch, input_shape, n_classes):
    inputs = keras.Input(input_shape)
    x = dense_network("softmax")(params, arch, input_shape, n_classes)(inputs)
    return keras.Model(inputs, Doubled(name="doubler")(x))


class SubclassedSoftmax(keras.Model):
    """A subclassed model whose only Dense layer is linear: ``call`` applies the softmax."""

    def __init__(self, n_classes: int) -> None:
        super().__init__()
        self.flat = keras.layers.Flatten()
        self.head = keras.layers.Dense(n_classes)

    def call(self, x):
        return keras.ops.softmax(self.head(self.flat(x)))


# -- a model that comes back compiled ------------------------------------------------------------------------

@pytest.mark.keras
def _compile_config(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))["compile_config"]


def test_a_compiled_model_trains_as_compiled_with_the_spaces_optimizer(tmp_path, tiny_dataset):
    def logits_network(params, arch, input_shape, n_classes):
        model = dense_network(None)(params, arch, input_shape, n_classes)  # logits: fine with its own loss
        model.compile(optimizer=keras.optimizers.SGD(0.5),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
        return model

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        result = train_trial(spec_for(tmp_path), tiny_dataset, logits_network, CONFIG)
    assert result.epochs_run == 2 and 0 <= result.val_accuracy <= 1 and not result.own_loss
    config = _compile_config(result.model_path)
    assert config["loss"]["config"]["from_logits"] is True  # the user's loss, not symtuner's
    # the space tunes optimizer and learning rate: the trial's Adam at 1e-2 replaces the user's SGD(0.5)
    assert config["optimizer"]["class_name"] == "Adam"
    assert config["optimizer"]["config"]["learning_rate"] == pytest.approx(PARAMS["learning_rate"])
    assert DATA_LOSS in json.dumps(config["metrics"]) and "accuracy" in json.dumps(config["metrics"])
    # the data loss is the user's loss (cross-entropy on logits), recorded per epoch
    assert np.all(np.isfinite(result.curve.loss)) and result.val_metrics["loss"] == pytest.approx(result.val_loss)


def test_a_compiled_model_keeps_its_optimizer_type_when_only_the_learning_rate_is_tuned(tmp_path, tiny_dataset):
    spec = TrialSpec(number=1, params={"learning_rate": 0.02, "batch_size": 16}, architecture=Architecture(),
                     seed=0, model_path=tmp_path / "model.keras", log_dir=tmp_path / "logs")
    result = train_trial(spec, tiny_dataset, compiled_network, CONFIG)
    config = _compile_config(result.model_path)
    assert config["optimizer"]["class_name"] == "SGD"
    assert config["optimizer"]["config"]["learning_rate"] == pytest.approx(0.02)
    assert config["loss"] == "sparse_categorical_crossentropy" and "top2" in result.val_metrics  # as compiled
    assert not np.isfinite(result.val_accuracy) and result.curve.accuracy == ()  # no accuracy was compiled


def test_a_compiled_models_objective_must_be_logged(tiny_dataset):
    with pytest.raises(ConfigError, match=r"objective 'val_accuracy' is not logged by the trials; they log "
                                          r"val_loss, val_top2"):
        check_before_study(compiled_network, SPACE, Architecture(), tiny_dataset, objective="val_accuracy")
    check_before_study(compiled_network, SPACE, Architecture(), tiny_dataset, objective="val_top2")


def test_an_uncompiled_model_gives_no_warning(tiny_dataset):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        check_before_study(dense_network("softmax"), SPACE, Architecture(), tiny_dataset)


# -- an output that is not a probability distribution ---------------------------------------------------------

@pytest.mark.parametrize("activation, message", [
    (None, r"output layer 'head' \(Dense, activation 'linear'\) does not give probabilities: it outputs logits"),
    ("sigmoid", r"'head' \(Dense, activation 'sigmoid'\) .*each of the 3 classes its own probability"),
    ("relu", r"'head' \(Dense, activation 'relu'\) .*relu does not make its outputs a probability distribution"),
])
def test_an_output_that_is_not_a_distribution_is_refused_before_the_study(tiny_dataset, activation, message):
    with pytest.raises(ConfigError, match=message) as info:
        check_before_study(dense_network(activation), SPACE, Architecture(), tiny_dataset)
    assert "Dense(3, activation='softmax')" in str(info.value)


def test_a_logits_model_is_refused_before_it_trains(tmp_path, tiny_dataset):
    with pytest.raises(ConfigError, match="'head' .*activation 'linear'.*logits"):
        train_trial(spec_for(tmp_path), tiny_dataset, dense_network(None), CONFIG)
    assert not (tmp_path / "model.keras").exists()


def test_a_custom_layer_is_judged_by_its_numbers(tiny_dataset):
    with pytest.raises(ConfigError, match=r"from 'doubler' \(Doubled\), is not a probability distribution on 8 "
                                          r"training samples: the outputs of sample \d sum to 2"):
        check_before_study(doubled_softmax, SPACE, Architecture(), tiny_dataset)


def test_negative_outputs_are_named(tiny_dataset):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, use_bias=False, name="mix",
                                                                    kernel_initializer="identity"),
                              keras.layers.Lambda(lambda x: x / keras.ops.sum(x, axis=1, keepdims=True))])
    with pytest.raises(ConfigError, match=r"output 1 of sample 0 is -1"):
        check_output(model, 2, np.array([[2.0, -1.0]], dtype=np.float32))


def test_a_wrong_width_is_refused(tiny_dataset):
    with pytest.raises(ConfigError, match="output has 5 units but tiny has 3 classes"):
        check_before_study(dense_network("softmax", units=5), SPACE, Architecture(), tiny_dataset)
    layer = keras.layers.Dense(5, activation="softmax", name="wide")
    with pytest.raises(ConfigError, match=r"output layer 'wide' \(Dense, activation 'softmax'\) has 5 units; "
                                          r"expected 3"):
        check_output(keras.Sequential([keras.Input((4,)), layer]), 3, np.ones((2, 4), dtype=np.float32))


# -- outputs that are distributions ----------------------------------------------------------------------------

@pytest.mark.parametrize("network", [
    dense_network("softmax"),
    lambda p, a, s, n: keras.Sequential([keras.Input(s), keras.layers.Flatten(), keras.layers.Dense(n),
                                         keras.layers.Softmax()]),
    lambda p, a, s, n: keras.Sequential([keras.Input(s), keras.layers.Flatten(),
                                         keras.layers.Dense(n, activation="softmax"), keras.layers.Dropout(0.5)]),
    lambda p, a, s, n: SubclassedSoftmax(n),
], ids=["dense-softmax", "softmax-layer", "softmax-then-dropout", "subclassed"])
def test_a_softmax_output_passes(tiny_dataset, network):
    check_before_study(network, SPACE, Architecture(), tiny_dataset)


def test_the_output_layer_is_found_inside_nested_models_and_not_guessed_for_subclassed_ones():
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax", name="inner_head")])
    inputs = keras.Input((4,))
    outer = keras.Model(inputs, inner(inputs))
    assert output_layer(outer).name == "inner_head"
    assert output_layer(SubclassedSoftmax(3)) is None


@pytest.mark.keras
def test_a_network_that_diverges_from_the_start_is_trained_not_refused(tmp_path, tiny_dataset):
    def nan_network(params, arch, input_shape, n_classes):
        inputs = keras.Input(input_shape)
        outputs = keras.layers.Dense(n_classes, activation="softmax",
                                     kernel_initializer=keras.initializers.Constant(np.nan))(
            keras.layers.Flatten()(inputs))
        return keras.Model(inputs, outputs)

    result = train_trial(spec_for(tmp_path), tiny_dataset, nan_network, TrainingConfig(epochs=2, tensorboard=False))
    assert np.isnan(result.curve.loss[0])


def test_a_network_that_cannot_take_the_data_fails_the_trial_and_the_check(tmp_path, tiny_dataset):
    def wrong_input(params, arch, input_shape, n_classes):
        return dense_network("softmax")(params, arch, (5, 5, 1), n_classes)

    with pytest.raises(TrialFailed, match="trial 1: training failed: the network fails on 8 training samples"):
        train_trial(spec_for(tmp_path), tiny_dataset, wrong_input, CONFIG)
    with pytest.raises(ConfigError, match="lowest values .* fails on 8 training samples"):
        check_before_study(wrong_input, SPACE, Architecture(), tiny_dataset)
