"""What a network costs: parameters and FLOPs against hand counts, saved size, latency, and a trial's costs."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
from keras import layers

from symtuner.core.architecture import Architecture
from symtuner.core.contract import TrialSpec
from symtuner.execution.simulate import simulated_costs
from symtuner.training import TrainingConfig, build_default_network, train_trial
from symtuner.training.costs import count_flops, layer_flops, measure_costs, measure_latency

pytestmark = pytest.mark.keras


def dense_net() -> keras.Model:
    """8 inputs -> Dense(4, relu) -> Dense(3, softmax)."""
    return keras.Sequential([keras.Input((8,)), layers.Dense(4, activation="relu"),
                             layers.Dense(3, activation="softmax")])


def conv_net() -> keras.Model:
    """6x6x2 -> Conv2D(3, 3x3 valid, relu) -> BatchNormalization -> MaxPooling2D(2) -> Flatten -> Dense(5)."""
    inputs = keras.Input((6, 6, 2))
    x = layers.Conv2D(3, 3, activation="relu")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    return keras.Model(inputs, layers.Dense(5)(x))


def test_a_small_dense_network_by_hand():
    model = dense_net()
    # weights: 8x4 + 4 and 4x3 + 3
    assert model.count_params() == 8 * 4 + 4 + 4 * 3 + 3 == 51
    # Dense(4): 4 outputs x (2 x 8 multiply-adds + 1 bias) + 4 relus; Dense(3): 3 x (2 x 4 + 1) + 3 softmax
    assert count_flops(model) == (4 * (2 * 8 + 1) + 4 + 3 * (2 * 4 + 1) + 3, ()) == (102, ())


def test_a_small_conv_network_by_hand():
    model = conv_net()
    # conv: 3x3x2x3 + 3; batch norm: 4 per channel (scale, shift, mean, variance); dense: (2x2x3)x5 + 5
    assert model.count_params() == (3 * 3 * 2 * 3 + 3) + 4 * 3 + (12 * 5 + 5) == 134
    conv = 4 * 4 * 3 * (2 * 3 * 3 * 2) + 4 * 4 * 3 + 4 * 4 * 3  # 4x4x3 outputs: multiply-adds, bias, relu
    norm = 2 * 4 * 4 * 3  # a scale and a shift per value
    pool = 2 * 2 * 3 * 4  # 2x2x3 outputs, each the max of 4
    dense = 5 * (2 * 12 + 1)
    assert count_flops(model) == (conv + norm + pool + dense, ()) == (2093, ())


def test_other_layers_nested_models_and_layers_left_out():
    inputs = keras.Input((4, 4, 3))
    a = layers.DepthwiseConv2D(3, use_bias=False)(inputs)  # 2x2x3 outputs x 2 x 9
    b = layers.GlobalAveragePooling2D()(a)  # one per input value: 12
    c = layers.Add()([b, b])  # 3 outputs, one extra input
    inner = keras.Sequential([keras.Input((3,)), layers.Dense(2, use_bias=False)])  # 2 x 2 x 3
    model = keras.Model(inputs, inner(c))
    assert count_flops(model) == (12 * 2 * 9 + 12 + 3 + 12, ())

    class Odd(layers.Layer):
        def call(self, x):
            return x * 2

    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.Dense(2)(Odd(name="odd")(inputs)))
    assert count_flops(model) == (2 * (2 * 3 + 1), ("odd",))
    assert layer_flops(Odd(), [(None, 3)], (None, 3)) is None


def test_the_default_network_matches_the_simulated_costs():
    params = {"unit_c1": 16, "dr1_2": 0.1, "unit_c2": 64, "unit_d": 256, "dr_f": 0.2, "activation": "relu",
              "unit_c3": 80, "unit_fc1": 32}
    for arch in (Architecture(), Architecture(extra_conv=1, extra_dense=1)):
        model = build_default_network(params, arch, (28, 28, 1), 10)
        assert simulated_costs(params, arch)["params"] == model.count_params()


def test_latency_and_saved_size(tmp_path):
    model = dense_net()
    sample = np.zeros((7, 8), dtype=np.float32)
    latency = measure_latency(model, sample, warm_up=1, timed=3)
    assert 0 < latency < 10_000
    path = tmp_path / "m.keras"
    model.save(path)
    costs = measure_costs(model, sample, path)
    assert costs["params"] == 51 and costs["flops"] == 102
    assert costs["model_mb"] == path.stat().st_size / 1e6
    assert costs["latency_ms"] > 0
    assert set(measure_costs(model)) == {"params", "flops"}  # no file, no sample: not measured


def test_a_trained_trial_reports_its_costs(tmp_path, tiny_dataset, small_params):
    spec = TrialSpec(number=1, params=small_params, architecture=Architecture(), seed=1,
                     model_path=tmp_path / "model.keras", log_dir=tmp_path / "logs")
    result = train_trial(spec, tiny_dataset, build_default_network, TrainingConfig(epochs=1))
    model = keras.saving.load_model(spec.model_path, compile=False)
    assert result.costs["params"] == model.count_params() == result.params_count
    assert result.costs["flops"] == count_flops(model)[0] > 0
    assert result.costs["model_mb"] == pytest.approx(spec.model_path.stat().st_size / 1e6)
    assert math.isfinite(result.costs["latency_ms"]) and result.costs["latency_ms"] > 0
