"""The default networks with the architecture changes applied.

For images (samples of shape height x width x channels), the seed's Listing
4: two conv-conv-pool-dropout blocks, Flatten, a Dense layer with dropout.
For flat feature vectors (tabular data), a multi-layer perceptron: the same
Dense layer with dropout, and the dense layers the tuning adds. A classifier
ends in a softmax over the classes (:func:`build_default_network`), a
regression in a linear layer of one unit per target
(:func:`build_default_regressor`). Keras is imported only when a network is
built, so :func:`max_conv_blocks` is cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from symtuner.core.architecture import Architecture, conv_filters_name, dense_units_name
from symtuner.core.errors import ConfigError

if TYPE_CHECKING:
    import keras

#: A network function: (params, architecture, input_shape, n_classes) -> keras.Model.
NetworkFn = Callable[[dict[str, Any], Architecture, tuple[int, ...], int], "keras.Model"]

#: Conv blocks of the default network before any are added.
BASE_CONV_BLOCKS = 2
#: HPs the default network reads on images (more when layers are added).
DEFAULT_NETWORK_PARAMS = ("unit_c1", "dr1_2", "unit_c2", "unit_d", "dr_f", "activation")
#: HPs the default network reads on flat feature vectors.
TABULAR_NETWORK_PARAMS = ("unit_d", "dr_f", "activation")


def is_tabular(input_shape: Sequence[int] | None) -> bool:
    """Whether samples of this shape are flat feature vectors (the default network is then an MLP)."""
    return input_shape is not None and len(tuple(input_shape)) == 1


#: Widest layer (units or filters) the default network accepts in a search space.
MAX_WIDTH = 16384


def check_default_space(space: Any, input_shape: Sequence[int] | None = None) -> None:
    """The default network's HPs in ``space``: present, and valid at both bounds (ConfigError).

    ``input_shape`` (one sample's) chooses the network: flat feature vectors
    need only :data:`TABULAR_NETWORK_PARAMS`.

    ``unit_*`` dimensions are layer widths (1 to MAX_WIDTH), ``dr*`` ones
    dropout rates in [0, 1); the activation values must be known ones.
    """
    from symtuner.core.space import Categorical
    from symtuner.training import hparams

    needed = TABULAR_NETWORK_PARAMS if is_tabular(input_shape) else DEFAULT_NETWORK_PARAMS
    missing = [name for name in needed if name not in space]
    if missing:
        raise ConfigError(f"the default network needs the HPs {missing}, which the search space lacks "
                          f"(it has {space.names}); add them or give a network function of your own")
    for dim in space.dimensions:
        if isinstance(dim, Categorical):
            if dim.name == "activation":
                for value in dim.categories:
                    hparams.activation_name(value)
            continue
        for bound in (dim.low, dim.high):
            if dim.name.startswith("unit_"):
                width = hparams.int_param({dim.name: bound}, dim.name)
                if width > MAX_WIDTH:
                    raise ConfigError(f"search space dimension {dim.name!r}: a layer of {bound} units is wider "
                                      f"than the default network allows ({MAX_WIDTH})")
            elif dim.name.startswith("dr"):
                hparams.rate_param({dim.name: bound}, dim.name)


def conv_blocks_fit(input_shape: Sequence[int]) -> int:
    """How many conv(same)-conv(valid)-pool blocks an image of this shape allows in total.

    Each block maps a side ``s`` to ``(s - 2) // 2`` and needs ``s >= 4``.
    Inputs that are not ``(height, width, channels)`` allow none.
    """
    if len(input_shape) != 3:
        return 0
    side = min(int(input_shape[0]), int(input_shape[1]))
    blocks = 0
    while side >= 4:
        side = (side - 2) // 2
        blocks += 1
    return blocks


def max_conv_blocks(input_shape: Sequence[int], arch: Architecture) -> int:
    """How many more conv blocks the default network could add to ``arch`` on this input."""
    return max(0, conv_blocks_fit(input_shape) - BASE_CONV_BLOCKS - arch.extra_conv)


def required_params(arch: Architecture, input_shape: Sequence[int] | None = None) -> tuple[str, ...]:
    """The HPs the default network needs with ``arch`` applied (on samples of ``input_shape``)."""
    if is_tabular(input_shape):
        return TABULAR_NETWORK_PARAMS + tuple(dense_units_name(i) for i in range(1, arch.extra_dense + 1))
    extra = tuple(conv_filters_name(i) for i in range(1, arch.extra_conv + 1)) + \
        tuple(dense_units_name(i) for i in range(1, arch.extra_dense + 1))
    return DEFAULT_NETWORK_PARAMS + extra


def build_default_network(params: dict[str, Any], arch: Architecture, input_shape: tuple[int, ...],
                          n_classes: int) -> keras.Model:
    """The default classifier with ``arch``'s changes: the seed's conv net on images, an MLP on
    flat feature vectors; a softmax over ``n_classes``."""
    from symtuner.training import blocks

    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
        raise ConfigError(f"the number of classes must be an integer >= 2, got {n_classes!r}")
    inputs, x = _body(params, arch, input_shape)
    return _model(inputs, blocks.classifier(x, n_classes, params, arch))


def build_default_regressor(params: dict[str, Any], arch: Architecture, input_shape: tuple[int, ...],
                            n_outputs: int) -> keras.Model:
    """The default regression network: :func:`build_default_network`'s body, then a linear layer
    of ``n_outputs`` units (one per target)."""
    from symtuner.training import blocks

    if isinstance(n_outputs, bool) or not isinstance(n_outputs, int) or n_outputs < 1:
        raise ConfigError(f"the number of regression targets must be a positive integer, got {n_outputs!r}")
    inputs, x = _body(params, arch, input_shape)
    return _model(inputs, blocks.regressor(x, n_outputs, params, arch))


def _model(inputs: Any, outputs: Any) -> keras.Model:
    import keras

    return keras.Model(inputs=inputs, outputs=outputs, name="default_network")


def _body(params: dict[str, Any], arch: Architecture, input_shape: Any) -> tuple[Any, Any]:
    """The default network up to its output layer: (inputs, last hidden tensor)."""
    import keras

    from symtuner.training import blocks

    shape = _check_shape(input_shape)
    missing = [name for name in required_params(arch, shape) if name not in params]
    if missing:
        raise ConfigError(f"the default network needs the HPs {missing}, which the params lack "
                          f"(have {sorted(params)})")
    dr_f = blocks.rate_param(params, "dr_f")
    blocks.activation_name(params["activation"])
    if is_tabular(shape):
        inputs = keras.Input(shape=shape, name="input")
        x = blocks.dense(inputs, blocks.int_param(params, "unit_d"), params, arch, name="fc")
        x = blocks.activate(x, params, arch, name="fc_act")
        x = keras.layers.Dropout(dr_f, name="fc_drop")(x)
        return inputs, blocks.extra_dense_layers(x, params, arch, dropout=dr_f)
    fit = conv_blocks_fit(shape)
    needed = BASE_CONV_BLOCKS + arch.extra_conv
    if fit < needed:
        raise ConfigError(f"input images of {shape[0]}x{shape[1]} allow {fit} conv block(s) but the default "
                          f"network needs {needed} ({BASE_CONV_BLOCKS} + {arch.extra_conv} added); "
                          f"use images of at least {_min_side(needed)}x{_min_side(needed)}")
    dr1_2 = blocks.rate_param(params, "dr1_2")
    inputs = keras.Input(shape=shape, name="input")
    x = blocks.augment(inputs, arch)
    x = blocks.conv_block(x, blocks.int_param(params, "unit_c1"), params, arch, dropout=dr1_2, name="block1")
    x = blocks.conv_block(x, blocks.int_param(params, "unit_c2"), params, arch, dropout=dr1_2, name="block2")
    x = blocks.extra_conv_blocks(x, params, arch, dropout=dr1_2)
    x = keras.layers.Flatten(name="flatten")(x)
    x = blocks.dense(x, blocks.int_param(params, "unit_d"), params, arch, name="fc")
    x = blocks.activate(x, params, arch, name="fc_act")
    x = keras.layers.Dropout(dr_f, name="fc_drop")(x)
    return inputs, blocks.extra_dense_layers(x, params, arch, dropout=dr_f)


def _check_shape(input_shape: Any) -> tuple[int, ...]:
    try:
        shape = tuple(int(d) for d in input_shape)
    except (TypeError, ValueError):
        raise ConfigError(f"input shape must be a tuple of integers, got {input_shape!r}") from None
    if len(shape) not in (1, 3) or min(shape) < 1:
        raise ConfigError(f"the default network takes images of shape (height, width, channels) or flat "
                          f"feature vectors (features,), got samples of shape {shape}; give a network "
                          "function of your own for other data")
    return shape


def _min_side(blocks_needed: int) -> int:
    """Smallest image side that allows ``blocks_needed`` blocks."""
    side = 1
    for _ in range(blocks_needed):
        side = max(4, 2 * side + 2)
    return side
