"""Each action really changes the network the default builder makes (no training).

For every action the default network is built before and after it, with
params at the middle of each space, for 28x28x1 inputs and 10 classes.
"""

from __future__ import annotations

import math
import os
from collections import Counter

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from symtuner.core.architecture import L2_NAME, Architecture  # noqa: E402
from symtuner.core.space import Categorical, Integer, SearchSpace, default_space  # noqa: E402
from symtuner.training.builder import build_default_network, max_conv_blocks  # noqa: E402
from symtuner.training.training import batch_size_param, make_optimizer  # noqa: E402
from symtuner.tuning.actions import ACTIONS, ActionContext, ActionSettings, apply_action  # noqa: E402

pytestmark = pytest.mark.keras

INPUT_SHAPE = (28, 28, 1)
N_CLASSES = 10


def middle(space: SearchSpace) -> dict:
    """The middle of every dimension (geometric for log-uniform reals)."""
    out: dict = {}
    for dim in space.dimensions:
        if isinstance(dim, Categorical):
            out[dim.name] = dim.categories[len(dim.categories) // 2]
        elif isinstance(dim, Integer):
            out[dim.name] = (dim.low + dim.high) // 2
        elif dim.prior == "log-uniform":
            out[dim.name] = math.sqrt(dim.low * dim.high)
        else:
            out[dim.name] = (dim.low + dim.high) / 2
    return out


def layer_types(model: keras.Model) -> Counter:
    return Counter(type(layer).__name__ for layer in model.layers)


def shapes(model: keras.Model) -> list[tuple]:
    return [tuple(w.shape) for w in model.weights]


def total_loss(model: keras.Model) -> float:
    return float(sum(float(keras.ops.convert_to_numpy(loss)) for loss in model.losses))


def before_and_after(name: str, arch: Architecture | None = None, **overrides):
    """(params, model) before and after action ``name`` on the default space."""
    arch = arch or Architecture()
    space = default_space()
    ctx = ActionContext(best_params=middle(space), conv_room=max_conv_blocks(INPUT_SHAPE, arch),
                        settings=ActionSettings())
    if name == "drop_optimizer":  # its evidence: the middle's optimizer failed where Adam trained well
        ctx = ActionContext(best_params={**middle(space), "optimizer": "Adam"}, conv_room=ctx.conv_room,
                            trial_params=middle(space), problem="low_lr")
    if name == "drop_activation":  # its evidence: the best trial learned with relu at the middle's rate
        ctx = ActionContext(best_params={**middle(space), "activation": "relu"}, conv_room=ctx.conv_room,
                            trial_params=middle(space), problem="underfitting")
    if name in GROWN_BY:  # taking back an added layer: first add it
        space, arch = apply_action(GROWN_BY[name], space, arch, ctx)
        ctx = ActionContext(best_params=middle(space), conv_room=0, settings=ActionSettings())
    if name in RELAXED_AFTER:  # less of what a diagnosed trial had much of (L2 first turned on)
        before_name, trial, sizes = RELAXED_AFTER[name]
        if before_name:
            space, arch = apply_action(before_name, space, arch, ctx)
        ctx = ActionContext(best_params=None, conv_room=0, trial_params={**middle(space), **trial}, **sizes)
    new_space, new_arch = apply_action(name, space, arch, ctx)
    out = []
    for s, a in ((space, arch), (new_space, new_arch)):
        params = {**middle(s), **overrides}
        out.append((params, build_default_network(params, a, INPUT_SHAPE, N_CLASSES)))
    return out


# -- one check per action: (params, model) before and after -------------------------------
def check_reg_l2(p_before, before, p_after, after):
    assert before.losses == [] and total_loss(before) == 0.0
    weighted = [layer for layer in after.layers if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))]
    assert len(weighted) == 6
    assert all(layer.kernel_regularizer.l2 == pytest.approx(p_after[L2_NAME]) for layer in weighted)
    assert total_loss(after) > 0.0
    assert shapes(after) == shapes(before)


def check_batch_norm(p_before, before, p_after, after):
    assert layer_types(before)["BatchNormalization"] == 0
    assert layer_types(after)["BatchNormalization"] == 5  # after 4 conv activations and the dense one


def check_data_augmentation(p_before, before, p_after, after):
    assert layer_types(after)["RandomTranslation"] == 1 and "RandomTranslation" not in layer_types(before)
    assert "RandomFlip" not in layer_types(after)  # flips stay off: a setting of the data
    for layer in before.layers:
        after.get_layer(layer.name).set_weights(layer.get_weights())
    x = np.random.default_rng(0).random((4, *INPUT_SHAPE)).astype(np.float32)

    def run(model, training):
        return keras.ops.convert_to_numpy(model(x, training=training))

    # with dropout 0 and no batch norm only augmentation can tell training from inference
    np.testing.assert_allclose(run(before, True), run(before, False), rtol=1e-6)
    np.testing.assert_allclose(run(after, False), run(before, False), rtol=1e-6)
    assert not np.allclose(run(after, True), run(before, False), rtol=1e-4, atol=1e-6)


def check_new_fc_layer(p_before, before, p_after, after):
    assert layer_types(before)["Dense"] == 2 and layer_types(after)["Dense"] == 3
    assert after.get_layer("extra_fc1").units == p_after["unit_fc1"]
    assert layer_types(after)["Dropout"] == layer_types(before)["Dropout"] + 1


def check_new_conv_layer(p_before, before, p_after, after):
    assert layer_types(after)["Conv2D"] == layer_types(before)["Conv2D"] + 2 == 6
    assert layer_types(after)["MaxPooling2D"] == 3
    assert after.get_layer("extra_block1_conv1").filters == p_after["unit_c3"]
    # the 5x5 feature maps before Flatten become 1x1
    assert before.get_layer("flatten").output.shape[-1] == 25 * p_before["unit_c2"]
    assert after.get_layer("flatten").output.shape[-1] == p_after["unit_c3"]


def check_inc_dropout(p_before, before, p_after, after):
    for name in ("block1_drop", "block2_drop", "fc_drop"):
        assert after.get_layer(name).rate > before.get_layer(name).rate
    assert layer_types(after) == layer_types(before)


def check_inc_neurons(p_before, before, p_after, after):
    for name in ("block1_conv1", "block2_conv2"):
        assert after.get_layer(name).filters > before.get_layer(name).filters
    assert after.get_layer("fc").units > before.get_layer("fc").units
    assert after.count_params() > before.count_params()
    assert layer_types(after) == layer_types(before)


def rate(params):
    return float(keras.ops.convert_to_numpy(make_optimizer(params).learning_rate))


def check_decr_lr(p_before, before, p_after, after):
    assert rate(p_after) < rate(p_before)
    assert shapes(after) == shapes(before) and layer_types(after) == layer_types(before)


def check_inc_lr(p_before, before, p_after, after):
    assert rate(p_after) > rate(p_before)
    assert shapes(after) == shapes(before) and layer_types(after) == layer_types(before)


def check_inc_batch_size(p_before, before, p_after, after):
    assert batch_size_param(p_after, 10_000) > batch_size_param(p_before, 10_000)
    assert shapes(after) == shapes(before) and layer_types(after) == layer_types(before)


def check_drop_optimizer(p_before, before, p_after, after):
    assert type(make_optimizer(p_after)) is not type(make_optimizer(p_before))
    assert shapes(after) == shapes(before) and layer_types(after) == layer_types(before)


def activations(model: keras.Model) -> set[str]:
    return {layer.get_config()["activation"] for layer in model.layers if type(layer).__name__ == "Activation"}


def check_drop_activation(p_before, before, p_after, after):
    assert activations(before) - {"softmax"} == {"elu"} and activations(after) - {"softmax"} == {"selu"}
    assert shapes(after) == shapes(before) and layer_types(after) == layer_types(before)


def check_decr_neurons(p_before, before, p_after, after):
    for name in ("block1_conv1", "block2_conv2"):
        assert after.get_layer(name).filters < before.get_layer(name).filters
    assert after.get_layer("fc").units < before.get_layer("fc").units
    assert after.count_params() < before.count_params()
    assert layer_types(after) == layer_types(before)


def check_remove_fc_layer(p_before, before, p_after, after):
    assert layer_types(before)["Dense"] == 3 and layer_types(after)["Dense"] == 2
    assert "unit_fc1" in p_before and "unit_fc1" not in p_after
    assert after.count_params() < before.count_params()


def check_remove_conv_layer(p_before, before, p_after, after):
    assert layer_types(before)["Conv2D"] == 6 and layer_types(after)["Conv2D"] == 4
    assert "unit_c3" in p_before and "unit_c3" not in p_after


#: The action whose change each take-back action undoes.
GROWN_BY = {"remove_fc_layer": "new_fc_layer", "remove_conv_layer": "new_conv_layer"}
#: action -> (action applied first, the diagnosed trial's values, its training's size)
RELAXED_AFTER = {"decr_dropout": (None, {"dr1_2": 0.28, "dr_f": 0.45}, {}),
                 "decr_l2": ("reg_l2", {"l2": 5e-3}, {}),
                 "decr_batch_size": (None, {"batch_size": 128}, {"n_train": 300, "epochs": 3})}


def check_decr_dropout(p_before, before, p_after, after):
    for name in ("block1_drop", "block2_drop", "fc_drop"):
        assert after.get_layer(name).rate < before.get_layer(name).rate
    assert layer_types(after) == layer_types(before)


def check_decr_l2(p_before, before, p_after, after):
    assert 0 < after.get_layer("fc").kernel_regularizer.l2 < before.get_layer("fc").kernel_regularizer.l2
    assert shapes(after) == shapes(before)


def check_decr_batch_size(p_before, before, p_after, after):
    assert batch_size_param(p_after, 10_000) < batch_size_param(p_before, 10_000)
    assert shapes(after) == shapes(before) and layer_types(after) == layer_types(before)


CHECKS = {
    "reg_l2": check_reg_l2,
    "batch_norm": check_batch_norm,
    "data_augmentation": check_data_augmentation,
    "new_fc_layer": check_new_fc_layer,
    "new_conv_layer": check_new_conv_layer,
    "inc_dropout": check_inc_dropout,
    "inc_neurons": check_inc_neurons,
    "decr_lr": check_decr_lr,
    "inc_lr": check_inc_lr,
    "inc_batch_size": check_inc_batch_size,
    "drop_optimizer": check_drop_optimizer,
    "drop_activation": check_drop_activation,
    "decr_neurons": check_decr_neurons,
    "decr_dropout": check_decr_dropout,
    "decr_l2": check_decr_l2,
    "decr_batch_size": check_decr_batch_size,
    "remove_fc_layer": check_remove_fc_layer,
    "remove_conv_layer": check_remove_conv_layer,
}
#: Params fixed for a check: augmentation is seen only when nothing else is random in training.
OVERRIDES = {"data_augmentation": {"dr1_2": 0.0, "dr_f": 0.0}}


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_action_changes_the_built_network(name):
    assert name in CHECKS, f"no network check for action {name}"
    (p_before, before), (p_after, after) = before_and_after(name, **OVERRIDES.get(name, {}))
    CHECKS[name](p_before, before, p_after, after)


def test_data_augmentation_keeps_flips_when_the_data_allows_them():
    (_, before), (_, after) = before_and_after("data_augmentation", Architecture(flip=True))
    assert layer_types(after)["RandomFlip"] == 1 and layer_types(after)["RandomTranslation"] == 1
    assert "RandomFlip" not in layer_types(before)


def test_actions_combined_build_one_network():
    """All architecture actions together (as after several trials) still give a working network."""
    space, arch = default_space(), Architecture()
    for name in ("reg_l2", "batch_norm", "data_augmentation", "new_fc_layer", "new_fc_layer", "new_conv_layer",
                 "inc_neurons", "inc_dropout"):
        ctx = ActionContext(best_params=middle(space), conv_room=max_conv_blocks(INPUT_SHAPE, arch),
                            settings=ActionSettings())
        space, arch = apply_action(name, space, arch, ctx)
    model = build_default_network(middle(space), arch, INPUT_SHAPE, N_CLASSES)
    types = layer_types(model)
    assert (types["Dense"], types["Conv2D"], types["BatchNormalization"]) == (4, 6, 9)
    out = keras.ops.convert_to_numpy(model(np.zeros((2, *INPUT_SHAPE), np.float32), training=True))
    assert out.shape == (2, N_CLASSES) and np.isfinite(out).all()
    assert total_loss(model) > 0.0
