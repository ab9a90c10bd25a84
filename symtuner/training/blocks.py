"""Layer helpers that apply the tuning actions' architecture changes.

The default network is built from these, and a user's network function can
use them to honour the same changes in a few lines::

    def build(params, arch, input_shape, n_classes):
        inputs = keras.Input(input_shape)
        x = augment(inputs, arch)
        x = activate(conv(x, params["unit_c1"], params, arch), params, arch)
        x = keras.layers.MaxPooling2D()(x)
        x = extra_conv_blocks(x, params, arch)
        x = keras.layers.Flatten()(x)
        x = activate(dense(x, params["unit_d"], params, arch), params, arch)
        x = extra_dense_layers(x, params, arch)
        return keras.Model(inputs, classifier(x, n_classes, params, arch))

Regularisers are given to each layer when it is created (assigning one to a
built layer has no effect in Keras).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import keras

from symtuner.core.architecture import L2_NAME, Architecture, conv_filters_name, dense_units_name
from symtuner.core.errors import ConfigError
from symtuner.training.hparams import (  # noqa: F401 (re-exported: the layer helpers' public API)
    ACTIVATIONS,
    activation_name,
    count,
    int_param,
    rate_param,
    require,
)

#: Activation used when ``params`` has no ``activation`` HP.
DEFAULT_ACTIVATION = "relu"
#: Largest shift of the translation augmentation, as a fraction of height/width.
TRANSLATION = 0.1
#: Smallest spatial size a conv-conv(valid)-pool block accepts.
MIN_BLOCK_INPUT = 4


def regularizer(params: Mapping[str, Any], arch: Architecture) -> Any:
    """The L2 kernel regulariser when ``arch.l2`` is on, else ``None``."""
    if not arch.l2:
        return None
    if L2_NAME not in params:
        raise ConfigError(f"L2 regularisation is on but the params have no {L2_NAME!r} HP")
    value = require(params, L2_NAME)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
        raise ConfigError(f"HP {L2_NAME!r} must be a non-negative number, got {value!r}")
    return keras.regularizers.L2(float(value))


# -- layers ------------------------------------------------------------------------
def augment(inputs: Any, arch: Architecture, *, name: str = "augment") -> Any:
    """Random shifts (and horizontal flips if ``arch.flip``) when augmentation is on.

    Keras preprocessing layers change their input only in training; at
    inference they pass it through. Inputs that are not images (height,
    width, channels) pass unchanged: shifting them means nothing, and the
    check of the built model then reports the change as ignored, so the
    tuner undoes it (``data_augmentation`` is not applied to such data).
    """
    if not arch.augmentation or len(inputs.shape) != 4:
        return inputs
    x = keras.layers.RandomTranslation(TRANSLATION, TRANSLATION, fill_mode="nearest",
                                       name=f"{name}_translate")(inputs)
    if arch.flip:
        x = keras.layers.RandomFlip("horizontal", name=f"{name}_flip")(x)
    return x


def conv(x: Any, filters: int, params: Mapping[str, Any], arch: Architecture, *, kernel_size: int = 3,
         padding: str = "same", name: str | None = None, **kwargs: Any) -> Any:
    """A Conv2D layer with the architecture's kernel regulariser (no activation).

    ``filters`` may be a numpy integer, as HP values from the optimizer are.
    """
    options: dict[str, Any] = {"kernel_regularizer": regularizer(params, arch), **kwargs}
    return keras.layers.Conv2D(count(filters, "filters"), kernel_size, padding=padding, name=name,
                               **options)(x)


def dense(x: Any, units: int, params: Mapping[str, Any], arch: Architecture, *, name: str | None = None,
          **kwargs: Any) -> Any:
    """A Dense layer with the architecture's kernel regulariser (no activation)."""
    options: dict[str, Any] = {"kernel_regularizer": regularizer(params, arch), **kwargs}
    return keras.layers.Dense(count(units, "units"), name=name, **options)(x)


def activate(x: Any, params: Mapping[str, Any], arch: Architecture, *, activation: str | None = None,
             name: str | None = None) -> Any:
    """The activation (``activation`` HP unless given), then BatchNormalization if on."""
    chosen = activation if activation is not None else params.get("activation", DEFAULT_ACTIVATION)
    x = keras.layers.Activation(activation_name(chosen), name=name)(x)
    if arch.batch_norm:
        x = keras.layers.BatchNormalization(name=f"{name}_bn" if name else None)(x)
    return x


def conv_block(x: Any, filters: int, params: Mapping[str, Any], arch: Architecture, *,
               dropout: float = 0.0, name: str | None = None) -> Any:
    """The seed's block: conv (same), act, conv (valid), act, 2x2 max-pool, dropout."""
    height, width = x.shape[1], x.shape[2]
    if height is not None and width is not None and min(height, width) < MIN_BLOCK_INPUT:
        raise ConfigError(f"conv block {name or ''} needs feature maps of at least "
                          f"{MIN_BLOCK_INPUT}x{MIN_BLOCK_INPUT}, got {height}x{width}: the input is too "
                          "small for this many conv blocks")

    def sub(suffix: str) -> str | None:
        return f"{name}_{suffix}" if name else None

    x = activate(conv(x, filters, params, arch, name=sub("conv1")), params, arch, name=sub("act1"))
    x = activate(conv(x, filters, params, arch, padding="valid", name=sub("conv2")), params, arch,
                 name=sub("act2"))
    x = keras.layers.MaxPooling2D(pool_size=(2, 2), name=sub("pool"))(x)
    return keras.layers.Dropout(dropout, name=sub("drop"))(x)


def extra_conv_blocks(x: Any, params: Mapping[str, Any], arch: Architecture, *,
                      dropout: float | None = None) -> Any:
    """The ``arch.extra_conv`` added blocks; block i has ``conv_filters_name(i)`` filters.

    Dropout is ``dropout`` if given, else the ``dr1_2`` HP (0 when absent).
    """
    rate = dropout if dropout is not None else rate_param(params, "dr1_2", default=0.0)
    for i in range(1, arch.extra_conv + 1):
        x = conv_block(x, int_param(params, conv_filters_name(i)), params, arch, dropout=rate,
                       name=f"extra_block{i}")
    return x


def extra_dense_layers(x: Any, params: Mapping[str, Any], arch: Architecture, *,
                       dropout: float | None = None) -> Any:
    """The ``arch.extra_dense`` added Dense + activation (+BN) + dropout layers.

    Layer i has ``dense_units_name(i)`` units; dropout is ``dropout`` if
    given, else the ``dr_f`` HP (0 when absent).
    """
    rate = dropout if dropout is not None else rate_param(params, "dr_f", default=0.0)
    for i in range(1, arch.extra_dense + 1):
        name = f"extra_fc{i}"
        x = dense(x, int_param(params, dense_units_name(i)), params, arch, name=name)
        x = activate(x, params, arch, name=f"{name}_act")
        x = keras.layers.Dropout(rate, name=f"{name}_drop")(x)
    return x


def classifier(x: Any, n_classes: int, params: Mapping[str, Any], arch: Architecture) -> Any:
    """The output: Dense(n_classes) with the regulariser, then softmax."""
    x = dense(x, n_classes, params, arch, name="logits")
    return keras.layers.Activation("softmax", name="output")(x)


def regressor(x: Any, n_outputs: int, params: Mapping[str, Any], arch: Architecture) -> Any:
    """The output of a regression: Dense(n_outputs) with the regulariser, linear."""
    return dense(x, n_outputs, params, arch, name="output")
