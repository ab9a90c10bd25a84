"""What a trained Keras network costs: parameters, FLOPs, saved size and latency, measured.

FLOPs are those of one forward pass of one sample at inference, counted from
the built model's layers and their input and output shapes: a multiply-add
counts as two FLOPs, a bias add, an activation and a comparison as one per
value. Per layer kind:

- ``Dense``: ``positions x units x (2 x inputs + 1)`` (the ``+ 1`` for the
  bias), plus one per output for a non-linear activation;
- convolutions (``Conv1D/2D/3D``): ``outputs x 2 x kernel area x input
  channels / groups``, plus the bias and activation as for ``Dense``;
  depthwise and separable convolutions: their depthwise and pointwise parts;
- pooling: ``outputs x pool area`` (global pooling: one per input value);
- ``BatchNormalization`` and other normalisations: two per value (a scale
  and a shift, as at inference); ``Rescaling`` and ``Normalization`` too;
- activation layers: one per value; merging layers (``Add``, ...): one per
  output value and extra input;
- layers that only move values (``Flatten``, ``Reshape``, ``Dropout``, the
  random augmentation layers, which pass their input through at
  inference, ``Embedding`` lookups, padding, cropping, ``Concatenate``): none.

Nested models are counted layer by layer. A layer of another kind, or one
whose shapes cannot be read (a subclassed model's), counts as none: the
count is then a lower bound (:func:`count_flops` says which were left out).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Calls before latency is timed (the first builds the prediction function), and timed calls.
WARM_UP_CALLS = 2
TIMED_CALLS = 5

_NO_FLOPS = frozenset({
    "InputLayer", "Flatten", "Reshape", "Permute", "RepeatVector", "Dropout", "SpatialDropout1D",
    "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "Embedding",
    "Concatenate", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D",
    "UpSampling1D", "UpSampling2D", "UpSampling3D", "Identity", "Masking", "ActivityRegularization",
})
_ELEMENTWISE = frozenset({"Activation", "ReLU", "ELU", "LeakyReLU", "PReLU", "Softmax"})
_SCALE_SHIFT = frozenset({"BatchNormalization", "LayerNormalization", "GroupNormalization",
                          "UnitNormalization", "Rescaling", "Normalization"})


def _size(shape: Any) -> int:
    """Values of one sample of a tensor of ``shape`` (the batch axis left out)."""
    dims = tuple(shape)[1:]
    return int(math.prod(int(d) for d in dims)) if all(d is not None for d in dims) else 0


def _kinds(layer: Any) -> set[str]:
    return {cls.__name__ for cls in type(layer).__mro__}


def _activation(layer: Any, outputs: int) -> int:
    activation = getattr(layer, "activation", None)
    name = getattr(activation, "__name__", "linear") if activation is not None else "linear"
    return 0 if name == "linear" else outputs


def _channels(layer: Any, shape: Any) -> int:
    axis = 1 if getattr(layer, "data_format", "channels_last") == "channels_first" else -1
    return int(tuple(shape)[axis])


def _conv(layer: Any, kinds: set[str], in_shape: Any, out_shape: Any) -> int:
    outputs = _size(out_shape)
    kernel = int(math.prod(layer.kernel_size))
    channels = _channels(layer, in_shape)
    bias = outputs if getattr(layer, "use_bias", False) else 0
    if "BaseSeparableConv" in kinds:
        positions = outputs // int(layer.filters)
        middle = channels * int(getattr(layer, "depth_multiplier", 1))
        return positions * middle * 2 * kernel + positions * int(layer.filters) * 2 * middle + bias \
            + _activation(layer, outputs)
    if "BaseDepthwiseConv" in kinds:
        return outputs * 2 * kernel + bias + _activation(layer, outputs)
    groups = int(getattr(layer, "groups", 1) or 1)
    return outputs * 2 * kernel * channels // groups + bias + _activation(layer, outputs)


def layer_flops(layer: Any, in_shapes: Sequence[Any], out_shape: Any) -> int | None:
    """FLOPs of one layer for one sample (see the module's rules), or None for a layer of another kind."""
    kinds = _kinds(layer)
    name = type(layer).__name__
    outputs = _size(out_shape)
    first = in_shapes[0] if in_shapes else out_shape
    if name in _NO_FLOPS or name.startswith("Random"):
        return 0
    if "Dense" in kinds:
        units = int(layer.units)
        positions = outputs // units
        bias = units if getattr(layer, "use_bias", True) else 0
        return positions * (2 * int(tuple(first)[-1]) * units + bias) + _activation(layer, outputs)
    if "BaseConv" in kinds or "BaseDepthwiseConv" in kinds or "BaseSeparableConv" in kinds:
        return _conv(layer, kinds, first, out_shape)
    if "BaseGlobalPooling" in kinds:
        return _size(first)
    if "BasePooling" in kinds:
        return outputs * int(math.prod(layer.pool_size))
    if name in _SCALE_SHIFT:
        return 2 * outputs
    if name in _ELEMENTWISE:
        return outputs
    if "Merge" in kinds:
        return outputs * max(len(in_shapes) - 1, 1)
    return None


def _layers(model: Any) -> list[Any]:
    """Every layer that is not itself a model, nested models opened."""
    out = []
    for layer in getattr(model, "layers", ()):
        if "Model" in _kinds(layer) and getattr(layer, "layers", None):
            out.extend(_layers(layer))
        else:
            out.append(layer)
    return out


def _shapes(layer: Any) -> tuple[list[Any], Any] | None:
    """(input shapes, output shape) of a layer in a built graph, or None when they cannot be read."""
    try:
        inputs, output = layer.input, layer.output
    except (AttributeError, ValueError, RuntimeError):
        return None
    inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    if isinstance(output, (list, tuple)):
        return None
    return [tensor.shape for tensor in inputs], output.shape


def count_flops(model: Any) -> tuple[int, tuple[str, ...]]:
    """FLOPs of one forward pass of one sample, and the names of the layers left out of the count."""
    total, skipped = 0, []
    for layer in _layers(model):
        shapes = _shapes(layer)
        flops = layer_flops(layer, *shapes) if shapes is not None else None
        if flops is None:
            skipped.append(layer.name)
        else:
            total += flops
    return total, tuple(skipped)


def measure_latency(model: Any, sample: Any, warm_up: int = WARM_UP_CALLS, timed: int = TIMED_CALLS) -> float:
    """The median milliseconds ``model.predict_on_batch`` takes on a batch of one sample, after warm-up calls."""
    one = sample[:1]
    for _ in range(warm_up):
        model.predict_on_batch(one)
    seconds = []
    for _ in range(timed):
        started = time.perf_counter()
        model.predict_on_batch(one)
        seconds.append(time.perf_counter() - started)
    return 1000.0 * statistics.median(seconds)


def measure_costs(model: Any, sample: Any | None = None, model_file: Path | None = None) -> dict[str, float]:
    """The costs of a built, trained model (:data:`symtuner.core.costs.COSTS`): parameters, FLOPs, the
    saved file's size in MB (10^6 bytes; when ``model_file`` exists) and the latency of one sample
    (when a ``sample`` batch is given)."""
    costs: dict[str, float] = {"params": float(model.count_params())}
    flops, _ = count_flops(model)
    costs["flops"] = float(flops)
    if model_file is not None and Path(model_file).is_file():
        costs["model_mb"] = Path(model_file).stat().st_size / 1e6
    if sample is not None:
        costs["latency_ms"] = measure_latency(model, sample)
    return costs


__all__ = ["TIMED_CALLS", "WARM_UP_CALLS", "count_flops", "layer_flops", "measure_costs", "measure_latency"]
