"""The default network: shapes, class counts, and every architecture change really present."""

from __future__ import annotations

from collections import Counter

import keras
import numpy as np
import pytest

from symtuner.core.architecture import L2_NAME, Architecture, conv_filters_name, dense_units_name
from symtuner.core.errors import ConfigError
from symtuner.training.builder import build_default_network, conv_blocks_fit, max_conv_blocks, required_params


def layer_types(model: keras.Model) -> Counter:
    return Counter(type(layer).__name__ for layer in model.layers)


@pytest.mark.parametrize("input_shape, n_classes", [((28, 28, 1), 2), ((32, 32, 3), 10), ((64, 64, 3), 100)])
def test_output_shape_follows_input_and_class_count(small_params, input_shape, n_classes):
    model = build_default_network(small_params, Architecture(), input_shape, n_classes)
    assert model.input_shape == (None, *input_shape)
    assert model.output_shape == (None, n_classes)
    out = keras.ops.convert_to_numpy(model(np.zeros((2, *input_shape), np.float32)))
    assert out.shape == (2, n_classes)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_base_network_is_the_papers_listing(small_params):
    model = build_default_network(small_params, Architecture(), (28, 28, 1), 10)
    types = layer_types(model)
    assert types["Conv2D"] == 4 and types["Dense"] == 2 and types["MaxPooling2D"] == 2
    assert types["Dropout"] == 3 and types["Flatten"] == 1
    assert "BatchNormalization" not in types and "RandomTranslation" not in types
    assert model.get_layer("block1_conv1").padding == "same"
    assert model.get_layer("block1_conv2").padding == "valid"
    assert model.get_layer("block1_conv1").filters == small_params["unit_c1"]
    assert model.get_layer("block2_conv2").filters == small_params["unit_c2"]
    assert model.get_layer("fc").units == small_params["unit_d"]
    assert model.get_layer("block2_drop").rate == pytest.approx(small_params["dr1_2"])
    assert model.get_layer("fc_drop").rate == pytest.approx(small_params["dr_f"])
    assert model.get_layer("output").output.shape[-1] == 10
    # 28 -> 26 -> 13 -> 11 -> 5: the seed's spatial sizes
    assert model.get_layer("flatten").output.shape[-1] == 5 * 5 * small_params["unit_c2"]
    assert all(layer.kernel_regularizer is None for layer in model.layers if hasattr(layer, "kernel"))
    assert model.losses == []


def test_batch_norm_follows_every_hidden_activation(small_params):
    arch = Architecture(batch_norm=True, extra_dense=1)
    params = {**small_params, dense_units_name(1): 5}
    model = build_default_network(params, arch, (28, 28, 1), 10)
    assert layer_types(model)["BatchNormalization"] == 6  # 4 conv + fc + extra fc
    names = [layer.name for layer in model.layers]
    for act in ("block1_act1", "block1_act2", "block2_act1", "block2_act2", "fc_act", "extra_fc1_act"):
        assert names[names.index(act) + 1] == f"{act}_bn"


def test_l2_is_set_on_every_layer_when_created(small_params):
    params = {**small_params, L2_NAME: 1e-3}
    model = build_default_network(params, Architecture(l2=True), (28, 28, 1), 10)
    weighted = [layer for layer in model.layers if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))]
    assert len(weighted) == 6
    for layer in weighted:
        assert layer.kernel_regularizer.l2 == pytest.approx(1e-3)
    losses = [float(keras.ops.convert_to_numpy(loss)) for loss in model.losses]
    assert len(losses) == 6 and all(loss > 0 for loss in losses)


def test_l2_without_its_hp_names_it(small_params):
    with pytest.raises(ConfigError, match="'l2'"):
        build_default_network(small_params, Architecture(l2=True), (28, 28, 1), 10)


@pytest.mark.parametrize("flip", [False, True])
def test_augmentation_changes_outputs_in_training_only(small_params, flip):
    params = {**small_params, "dr1_2": 0.0, "dr_f": 0.0}
    model = build_default_network(params, Architecture(augmentation=True, flip=flip), (16, 16, 1), 3)
    types = layer_types(model)
    assert types["RandomTranslation"] == 1
    assert types["RandomFlip"] == (1 if flip else 0)
    x = np.random.default_rng(1).random((8, 16, 16, 1)).astype(np.float32)
    infer_a = keras.ops.convert_to_numpy(model(x, training=False))
    infer_b = keras.ops.convert_to_numpy(model(x, training=False))
    train = keras.ops.convert_to_numpy(model(x, training=True))
    np.testing.assert_array_equal(infer_a, infer_b)
    assert not np.allclose(train, infer_a)
    augmented = keras.ops.convert_to_numpy(model.get_layer("augment_translate")(x, training=False))
    np.testing.assert_array_equal(augmented, x)


def test_extra_conv_blocks_use_their_filter_hps(small_params):
    params = {**small_params, conv_filters_name(1): 7}
    model = build_default_network(params, Architecture(extra_conv=1), (28, 28, 1), 10)
    assert layer_types(model)["Conv2D"] == 6 and layer_types(model)["MaxPooling2D"] == 3
    assert model.get_layer("extra_block1_conv1").filters == 7
    assert model.get_layer("extra_block1_conv2").filters == 7
    assert model.get_layer("extra_block1_drop").rate == pytest.approx(small_params["dr1_2"])
    names = [layer.name for layer in model.layers]
    assert names.index("extra_block1_drop") < names.index("flatten")


def test_extra_dense_layers_use_their_unit_hps(small_params):
    params = {**small_params, dense_units_name(1): 5, dense_units_name(2): 3}
    model = build_default_network(params, Architecture(extra_dense=2), (28, 28, 1), 10)
    assert layer_types(model)["Dense"] == 4
    assert model.get_layer("extra_fc1").units == 5 and model.get_layer("extra_fc2").units == 3
    assert model.get_layer("extra_fc2_drop").rate == pytest.approx(small_params["dr_f"])
    names = [layer.name for layer in model.layers]
    assert names.index("fc_drop") < names.index("extra_fc1") < names.index("extra_fc2") < names.index("logits")


def test_missing_hp_for_an_added_layer_is_named(small_params):
    with pytest.raises(ConfigError, match="unit_fc2"):
        build_default_network({**small_params, "unit_fc1": 4}, Architecture(extra_dense=2), (28, 28, 1), 10)


@pytest.mark.parametrize("input_shape, arch, room", [
    ((28, 28, 1), Architecture(), 1),
    ((28, 28, 1), Architecture(extra_conv=1), 0),
    ((32, 32, 3), Architecture(), 1),
    ((64, 64, 3), Architecture(), 2),
    ((64, 40, 3), Architecture(), 1),
    ((8, 8, 1), Architecture(), 0),
    ((100,), Architecture(), 0),
])
def test_max_conv_blocks(input_shape, arch, room):
    assert max_conv_blocks(input_shape, arch) == room


def test_smallest_images_that_fit(small_params):
    assert conv_blocks_fit((10, 10, 1)) == 2 and conv_blocks_fit((9, 9, 1)) == 1
    build_default_network(small_params, Architecture(), (10, 10, 1), 2)
    with pytest.raises(ConfigError, match=r"9x9 allow 1 conv block.*at least 10x10"):
        build_default_network(small_params, Architecture(), (9, 9, 1), 2)
    params = {**small_params, "unit_c3": 4, "unit_c4": 4}
    with pytest.raises(ConfigError, match="28x28 allow 3 conv block"):
        build_default_network(params, Architecture(extra_conv=2), (28, 28, 1), 10)


@pytest.mark.parametrize("input_shape", [(28, 28), (4, 28, 28, 1)])
def test_non_images_are_rejected(small_params, input_shape):
    with pytest.raises(ConfigError, match="height, width, channels"):
        build_default_network(small_params, Architecture(), input_shape, 10)


@pytest.mark.parametrize("change, message", [
    ({"activation": "sparkle"}, "unknown activation 'sparkle'"),
    ({"unit_c1": 0}, "'unit_c1' must be a positive integer"),
    ({"dr_f": 1.5}, "'dr_f' must be a dropout rate"),
])
def test_bad_hp_values_are_named(small_params, change, message):
    with pytest.raises(ConfigError, match=message):
        build_default_network({**small_params, **change}, Architecture(), (28, 28, 1), 10)


def test_missing_base_hp_is_named(small_params):
    params = {k: v for k, v in small_params.items() if k != "unit_d"}
    with pytest.raises(ConfigError, match="'unit_d'"):
        build_default_network(params, Architecture(), (28, 28, 1), 10)


@pytest.mark.parametrize("n_classes", [1, 2.0, True])
def test_bad_class_counts(small_params, n_classes):
    with pytest.raises(ConfigError, match="number of classes"):
        build_default_network(small_params, Architecture(), (28, 28, 1), n_classes)


def test_numpy_hp_values_are_accepted(small_params):
    params = {**small_params, "unit_c1": np.int64(5), "dr1_2": np.float64(0.2), "activation": np.str_("elu")}
    model = build_default_network(params, Architecture(), (28, 28, 1), 10)
    assert model.get_layer("block1_conv1").filters == 5


def test_required_params_grow_with_the_architecture():
    assert required_params(Architecture(extra_conv=1, extra_dense=2))[-3:] == ("unit_c3", "unit_fc1", "unit_fc2")
