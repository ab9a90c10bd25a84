"""Actions that change the network: regularisation, batch normalisation, augmentation, new layers.

HPs an action adds go through :meth:`SearchSpace.with_dimension` with a fill
value that stands for the trials run before the HP existed, so Bayesian
optimisation keeps using them (see :meth:`SearchSpace.project`). If the space
already has a dimension of that name (the user defined it), it is kept as it is.
"""

from __future__ import annotations

import math
from typing import Any

from symtuner.core.architecture import L2_NAME, Architecture, conv_filters_name, dense_units_name
from symtuner.core.space import Dimension, Integer, Real, SearchSpace, Value
from symtuner.tuning.actions.base import ActionContext, NotApplicable

#: Units HP of the default network's dense layer: the layer before the first added one.
BASE_DENSE_UNITS = "unit_d"


def reg_l2(space: SearchSpace, arch: Architecture, ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Turn on L2 kernel regularisation and add its log-uniform factor HP ``l2``.

    Fill: the smallest factor (``l2_range[0]``), the closest value to the
    "no regularisation" that earlier trials had.
    """
    if arch.l2:
        raise NotApplicable("reg_l2: L2 regularisation is already on")
    low, high = ctx.settings.l2_range
    new_space = _with_dimension(space, Real(L2_NAME, low, high, "log-uniform"), low)
    return new_space, arch.with_changes(l2=True)


def batch_norm(space: SearchSpace, arch: Architecture, ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Turn on BatchNormalization after each hidden activation.

    Not when a trial is too short for its moving statistics: fewer optimizer
    steps (training images / the diagnosed trial's batch size x epochs) than
    ``batch_norm_steps`` (see :class:`ActionSettings`).
    """
    if arch.batch_norm:
        raise NotApplicable("batch_norm: batch normalisation is already on")
    steps = _steps_per_trial(space, ctx)
    if steps is not None and steps < ctx.settings.batch_norm_steps:
        raise NotApplicable(f"batch_norm: a trial takes about {steps} optimizer steps, fewer than the "
                            f"{ctx.settings.batch_norm_steps} BatchNormalization's moving statistics need")
    return space, arch.with_changes(batch_norm=True)


def _steps_per_trial(space: SearchSpace, ctx: ActionContext) -> int | None:
    """Optimizer steps of one trial at the diagnosed trial's batch size (else the range's lower bound)."""
    if ctx.n_train is None or ctx.epochs is None:
        return None
    batch = ctx.trial("batch_size")
    if not isinstance(batch, (int, float)) or isinstance(batch, bool) or batch < 1:
        dim = space["batch_size"] if "batch_size" in space else None
        batch = getattr(dim, "low", None)
    if not isinstance(batch, (int, float)) or batch < 1:
        return None
    return math.ceil(ctx.n_train / batch) * ctx.epochs


def data_augmentation(space: SearchSpace, arch: Architecture,
                      ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Turn on data augmentation; whether flips are allowed (``arch.flip``) is the data's setting and stays."""
    if arch.augmentation:
        raise NotApplicable("data_augmentation: data augmentation is already on")
    if not ctx.image_input:
        raise NotApplicable("data_augmentation: the inputs are not images (height, width, channels)")
    return space, arch.with_changes(augmentation=True)


def new_fc_layer(space: SearchSpace, arch: Architecture, ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Add a dense layer with its own units HP ``unit_fcI`` (I = 1, 2, ...), up to ``max_dense_layers``.

    Fill: the units of the layer before it in the best trial (``unit_d`` for
    the first), clipped into ``dense_units_range``: a layer as wide as its
    input is the closest to "no extra layer"; without that value, the middle
    of the range.
    """
    cap = ctx.settings.max_dense_layers
    if arch.extra_dense >= cap:
        raise NotApplicable(f"new_fc_layer: cap of {cap} dense layers reached")
    index = arch.extra_dense + 1
    previous = BASE_DENSE_UNITS if index == 1 else dense_units_name(index - 1)
    low, high = ctx.settings.dense_units_range
    dim = Integer(dense_units_name(index), low, high)
    return _with_dimension(space, dim, _int_fill(ctx.best(previous), low, high)), \
        arch.with_changes(extra_dense=index)


def new_conv_layer(space: SearchSpace, arch: Architecture,
                   ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Add a conv-conv-pool-dropout block with its own filters HP ``unit_cK`` (K = 3, 4, ...).

    Allowed while fewer than ``max_conv_blocks`` were added and the input's
    spatial size has room (``ctx.conv_room > 0``). Fill: the filters of the
    block before it in the best trial (``unit_c2`` for the first), clipped
    into ``conv_filters_range``; without that value, the middle of the range.
    """
    cap = ctx.settings.max_conv_blocks
    if arch.extra_conv >= cap:
        raise NotApplicable(f"new_conv_layer: cap of {cap} conv blocks reached")
    if ctx.conv_room <= 0:
        raise NotApplicable("new_conv_layer: the input images are too small for another conv block")
    index = arch.extra_conv + 1
    low, high = ctx.settings.conv_filters_range
    dim = Integer(conv_filters_name(index), low, high)
    fill = _int_fill(ctx.best(conv_filters_name(index - 1)), low, high)
    return _with_dimension(space, dim, fill), arch.with_changes(extra_conv=index)


def _with_dimension(space: SearchSpace, dim: Dimension, fill: Value) -> SearchSpace:
    return space if dim.name in space else space.with_dimension(dim, fill)


def _int_fill(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return (low + high) // 2
    return min(max(int(round(value)), low), high)
