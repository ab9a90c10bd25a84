"""Output shapes and parameter counts of a saved model's layers, worked out from its ``config.json``.

Keras is not imported (the layer table must be instant): each layer's
output shape follows from its input shape and its settings, for the layers
symtuner's networks and most small CNNs and MLPs are made of, and the
parameters from the same. A layer whose kind is not known here gets no
shape or count; the next layer that records its own input shape
(``build_config``) puts the walk back on track.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

Shape = list[int | None]

#: Layers whose output has their input's shape and which hold no weights.
_SAME = {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "Activation",
         "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax", "RandomFlip", "RandomRotation", "RandomZoom",
         "RandomTranslation", "RandomContrast", "RandomBrightness", "Rescaling", "ActivityRegularization",
         "AlphaDropout", "Identity"}


def output_shape(kind: str, config: dict[str, Any], given: Shape | None) -> tuple[Shape | None, int | None]:
    """(output shape, parameter count) of one layer whose input shape is ``given`` (None: unknown)."""
    if kind == "InputLayer":
        shape = config.get("batch_shape") or config.get("batch_input_shape")
        return (list(shape) if isinstance(shape, list) else None), 0
    if given is None:
        return None, None
    if kind in _SAME:
        return list(given), 0
    if kind in _WEIGHTED:
        return _WEIGHTED[kind](config, given)
    if kind == "Flatten":
        rest = given[1:]
        return [given[0], math.prod(rest) if all(isinstance(d, int) for d in rest) else None], 0  # type: ignore[arg-type]
    if kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalMaxPooling1D"):
        return [given[0], given[-1]], 0
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        return _pooled(config, given), 0
    if kind == "Reshape" and isinstance(config.get("target_shape"), list):
        return [given[0], *config["target_shape"]], 0
    return None, None


def _dense(config: dict[str, Any], given: Shape) -> tuple[Shape | None, int | None]:
    units, inputs = config.get("units"), given[-1]
    if not isinstance(units, int) or not isinstance(inputs, int):
        return None, None
    return [*given[:-1], units], inputs * units + (units if config.get("use_bias", True) else 0)


def _conv2d(config: dict[str, Any], given: Shape) -> tuple[Shape | None, int | None]:
    filters, kernel, channels = config.get("filters"), _pair(config.get("kernel_size")), given[-1]
    if len(given) != 4 or not isinstance(filters, int) or kernel is None or not isinstance(channels, int):
        return None, None
    strides = _pair(config.get("strides")) or (1, 1)
    dilation = _pair(config.get("dilation_rate")) or (1, 1)
    span = (dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1)
    sides = [_side(given[1 + i], span[i], strides[i], config.get("padding", "valid")) for i in range(2)]
    groups = config.get("groups", 1) if isinstance(config.get("groups", 1), int) else 1
    weights = kernel[0] * kernel[1] * channels // max(groups, 1) * filters
    return [given[0], *sides, filters], weights + (filters if config.get("use_bias", True) else 0)


def _normalization(config: dict[str, Any], given: Shape) -> tuple[Shape | None, int | None]:
    """BatchNormalization: gamma and beta (when scaled and centred) and the two moving statistics."""
    channels = given[-1]
    if not isinstance(channels, int):
        return list(given), None
    kept = 2 + bool(config.get("scale", True)) + bool(config.get("center", True))
    return list(given), kept * channels


def _layer_normalization(config: dict[str, Any], given: Shape) -> tuple[Shape | None, int | None]:
    channels = given[-1]
    if not isinstance(channels, int):
        return list(given), None
    return list(given), (bool(config.get("scale", True)) + bool(config.get("center", True))) * channels


_WEIGHTED = {"Dense": _dense, "Conv2D": _conv2d, "BatchNormalization": _normalization,
             "LayerNormalization": _layer_normalization}


def _pooled(config: dict[str, Any], given: Shape) -> Shape | None:
    size = _pair(config.get("pool_size")) or (2, 2)
    strides = _pair(config.get("strides")) or size
    if len(given) != 4:
        return None
    padding = config.get("padding", "valid")
    return [given[0], *(_side(given[1 + i], size[i], strides[i], padding) for i in range(2)), given[-1]]


def _side(length: int | None, span: int, stride: int, padding: Any) -> int | None:
    if not isinstance(length, int):
        return None
    if padding == "same":
        return math.ceil(length / stride)
    return max(0, (length - span) // stride + 1)


def _pair(value: Any) -> tuple[int, int] | None:
    if isinstance(value, int):
        return value, value
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return int(value[0]), int(value[1])
    return None


def shape_text(shape: Sequence[int | None] | None) -> str:
    """``(None, 26, 26, 32)``; ``?`` when unknown."""
    if shape is None:
        return "?"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def count_text(count: int | None) -> str:
    """``1,234``; ``?`` when unknown."""
    return "?" if count is None else f"{count:,}"


__all__ = ["output_shape", "shape_text", "count_text"]
