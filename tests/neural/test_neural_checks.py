"""check_network flags the changes a user network ignores; the blocks helpers honour them all."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from symtuner.core.architecture import L2_NAME, Architecture, conv_filters_name, dense_units_name
from symtuner.core.errors import ConfigError
from symtuner.training import blocks
from symtuner.training.builder import build_default_network
from symtuner.training.checks import check_network, ignored_features

FULL = Architecture(batch_norm=True, l2=True, augmentation=True, flip=True, extra_dense=2, extra_conv=1)


@pytest.fixture
def full_params(small_params) -> dict:
    return {**small_params, L2_NAME: 1e-4, dense_units_name(1): 5, dense_units_name(2): 3,
            conv_filters_name(1): 7}


def stubborn_network(params, arch, input_shape, n_classes):
    """A user network that ignores every change."""
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(n_classes, activation="softmax")(x))


def helpful_network(params, arch, input_shape, n_classes):
    """A user network written with the blocks helpers (the example in their docstring)."""
    inputs = keras.Input(input_shape)
    x = blocks.augment(inputs, arch)
    x = blocks.activate(blocks.conv(x, params["unit_c1"], params, arch), params, arch)
    x = keras.layers.MaxPooling2D()(x)
    x = blocks.extra_conv_blocks(x, params, arch)
    x = keras.layers.Flatten()(x)
    x = blocks.activate(blocks.dense(x, params["unit_d"], params, arch), params, arch)
    x = blocks.extra_dense_layers(x, params, arch)
    return keras.Model(inputs, blocks.classifier(x, n_classes, params, arch))


def test_stubborn_network_is_flagged_for_each_change(full_params):
    model = stubborn_network(full_params, FULL, (16, 16, 1), 3)
    ignored = check_network(model, FULL, full_params)
    text = "\n".join(ignored)
    assert len(ignored) == 6, ignored
    for part in ("BatchNormalization", "kernel regulariser", "augmentation layer",
                 "5 units (unit_fc1)", "3 units (unit_fc2)", "7 filters (unit_c3)"):
        assert part in text


def test_nothing_is_flagged_when_nothing_changed(small_params):
    model = stubborn_network(small_params, Architecture(), (16, 16, 1), 3)
    assert check_network(model, Architecture(), small_params) == []


@pytest.mark.parametrize("build", [helpful_network, build_default_network])
def test_networks_built_from_blocks_honour_everything(full_params, build):
    model = build(full_params, FULL, (28, 28, 1), 3)
    assert check_network(model, FULL, full_params) == []


def test_helpers_take_numpy_hp_values(full_params):
    params = {k: (np.int64(v) if isinstance(v, int) else np.float64(v) if isinstance(v, float) else v)
              for k, v in full_params.items()}
    model = helpful_network(params, FULL, (28, 28, 1), 3)
    assert model.get_layer("extra_fc1").units == 5 and model.get_layer("extra_block1_conv1").filters == 7
    assert check_network(model, FULL, params) == []


def test_regulariser_assigned_after_building_is_flagged(small_params):
    """The original's defect: a regulariser set on a built layer adds no loss."""
    params = {**small_params, L2_NAME: 1e-3}
    model = build_default_network(small_params, Architecture(), (28, 28, 1), 3)
    for layer in model.layers:
        if hasattr(layer, "kernel_regularizer"):
            layer.kernel_regularizer = keras.regularizers.L2(1e-3)
    assert check_network(model, Architecture(l2=True), params) == [
        "L2 regularisation is on but the model's regularisation losses are zero"]


def test_layers_inside_nested_models_count(small_params):
    params = {**small_params, L2_NAME: 1e-3}
    arch = Architecture(batch_norm=True, l2=True)
    inner_in = keras.Input((8,))
    inner = keras.Model(inner_in, blocks.activate(blocks.dense(inner_in, 4, params, arch), params, arch))
    outer_in = keras.Input((8,))
    model = keras.Model(outer_in, keras.layers.Dense(3, activation="softmax")(inner(outer_in)))
    assert check_network(model, arch, params) == []


def test_missing_size_hps_fall_back_to_counting(small_params):
    model = stubborn_network(small_params, Architecture(), (16, 16, 1), 3)
    ignored = check_network(model, Architecture(extra_dense=2), small_params)
    assert ignored == ["2 added dense layer(s) expected but the model has only 0 hidden Dense layer(s)"]


def test_augment_passes_non_images_through_and_the_check_reports_it_ignored():
    arch = Architecture(augmentation=True)
    inputs = keras.Input((10,))
    assert blocks.augment(inputs, arch) is inputs
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))
    assert set(ignored_features(model, arch, {})) == {"augmentation"}


def test_augment_is_identity_when_off():
    inputs = keras.Input((8, 8, 1))
    assert blocks.augment(inputs, Architecture()) is inputs


def test_activation_table():
    assert blocks.activation_name("ReLU") == "relu"
    assert blocks.activation_name("swish") == "silu"
    with pytest.raises(ConfigError, match="unknown activation 'softmax'"):
        blocks.activation_name("softmax")
    for identifier in set(blocks.ACTIVATIONS.values()):
        keras.activations.get(identifier)


def test_activate_defaults_to_relu_and_honours_explicit_choice():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, blocks.activate(inputs, {}, Architecture(), activation="tanh"))
    out = keras.ops.convert_to_numpy(model(np.array([[-2.0, 0.0, 1.0, 3.0]], np.float32)))
    np.testing.assert_allclose(out, np.tanh([[-2.0, 0.0, 1.0, 3.0]]), rtol=1e-6)
    default = keras.Model(inputs, blocks.activate(inputs, {}, Architecture()))
    out = keras.ops.convert_to_numpy(default(np.array([[-2.0, 0.0, 1.0, 3.0]], np.float32)))
    np.testing.assert_allclose(out, [[0.0, 0.0, 1.0, 3.0]])
