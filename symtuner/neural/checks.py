"""Find the architecture changes a built model ignores.

A user's network function may not honour every change the tuning actions
make (say, it never adds BatchNormalization). The tuner reports what
:func:`check_network` finds, so a diagnosis is not blamed on an action that
never reached the model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import keras

from symtuner.architecture import Architecture, conv_filters_name, dense_units_name

#: Augmentation layers that are not named ``Random*``.
_OTHER_AUGMENTATIONS = frozenset({"AugMix", "RandAugment", "CutMix", "MixUp", "Solarization"})


def check_network(model: keras.Model, arch: Architecture, params: Mapping[str, Any]) -> list[str]:
    """The changes in ``arch`` that ``model`` does not show, in words (empty if none)."""
    layers = list(iter_layers(model))
    ignored: list[str] = []
    if arch.batch_norm and not any(isinstance(layer, keras.layers.BatchNormalization) for layer in layers):
        ignored.append("batch normalisation is on but the model has no BatchNormalization layer")
    if arch.l2:
        if not any(getattr(layer, "kernel_regularizer", None) is not None for layer in layers):
            ignored.append("L2 regularisation is on but no layer has a kernel regulariser")
        elif not _has_positive_loss(model):
            ignored.append("L2 regularisation is on but the model's regularisation losses are zero")
    if arch.augmentation and not any(_is_augmentation(layer) for layer in layers):
        ignored.append("data augmentation is on but the model has no augmentation layer")
    dense_units = Counter(getattr(layer, "units", None) for layer in layers
                          if isinstance(layer, keras.layers.Dense))
    width = _output_width(model)
    if dense_units[width] > 0:  # the classifier is not an added layer
        dense_units[width] -= 1
    ignored += _missing_sizes("dense layer", "units", dense_units, params,
                              [dense_units_name(i) for i in range(1, arch.extra_dense + 1)],
                              kind="hidden Dense", found=sum(dense_units.values()))
    conv_filters = Counter(getattr(layer, "filters", None) for layer in layers if _is_conv(layer))
    ignored += _missing_sizes("conv block", "filters", conv_filters, params,
                              [conv_filters_name(i) for i in range(1, arch.extra_conv + 1)],
                              kind="convolution", found=sum(conv_filters.values()))
    return ignored


def iter_layers(model: Any) -> Iterator[Any]:
    """Every layer of ``model``, looking inside nested models."""
    for layer in getattr(model, "layers", []):
        yield layer
        if getattr(layer, "layers", None):
            yield from iter_layers(layer)


def _missing_sizes(what: str, size_word: str, sizes: Counter[Any], params: Mapping[str, Any], names: list[str],
                   kind: str, found: int) -> list[str]:
    """Added layers whose size HP matches no layer (or too few layers, without the HPs)."""
    if not names:
        return []
    out: list[str] = []
    available = Counter(sizes)
    for name in names:
        if name not in params:
            continue
        value = params[name]
        value = int(round(value.item() if hasattr(value, "item") else value))
        if available[value] > 0:
            available[value] -= 1
        else:
            out.append(f"an added {what} should have {value} {size_word} ({name}) but the model has no such layer")
    if all(name not in params for name in names) and found < len(names):
        out.append(f"{len(names)} added {what}(s) expected but the model has only {found} {kind} layer(s)")
    return out


def _output_width(model: Any) -> int | None:
    outputs = getattr(model, "outputs", None) or []
    return outputs[0].shape[-1] if len(outputs) == 1 else None


def _has_positive_loss(model: Any) -> bool:
    try:
        losses = model.losses
    except Exception:  # a model whose losses cannot be computed outside a call
        return True
    return any(float(keras.ops.convert_to_numpy(loss)) > 0 for loss in losses)


def _is_augmentation(layer: Any) -> bool:
    name = type(layer).__name__
    return name.startswith("Random") or name in _OTHER_AUGMENTATIONS


def _is_conv(layer: Any) -> bool:
    return hasattr(layer, "filters") and hasattr(layer, "kernel_size")
