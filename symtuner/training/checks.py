"""Check what a network function returns: its output, and the architecture changes it ignores.

symtuner trains every network with sparse categorical cross-entropy and
reads the learning curves that loss gives, so a network must end in a
probability distribution over the classes: :func:`check_output` refuses
one that does not before it is trained (logits would train to a
meaningless loss and a diagnosis of nonsense). A user's network function
may also not honour every change the tuning actions make (say, it never
adds BatchNormalization). The tuner reports what :func:`check_network`
finds, so a diagnosis is not blamed on an action that never reached the
model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import keras
import numpy as np

from symtuner.core.architecture import Architecture, conv_filters_name, dense_units_name
from symtuner.core.errors import ConfigError

#: How far a forward pass's output row may be from a probability distribution (rounding, float16).
OUTPUT_TOLERANCE = 1e-3
#: The only activation that turns a layer's outputs into one distribution over its units.
_DISTRIBUTION = "softmax"

def check_output(model: keras.Model, n_classes: int, sample: Any) -> None:
    """Raise ConfigError unless ``model`` outputs a probability distribution over ``n_classes`` classes.

    Two checks. The structure: the layer that gives a functional or
    Sequential model's output must not have a Keras activation other than
    softmax (``linear`` means logits; ``sigmoid`` gives each class its own
    probability), nor a width other than ``n_classes``. The numbers, for
    what the structure cannot tell (a custom layer, a subclassed model's
    ``call``): a forward pass (inference mode) on ``sample``, a few training
    inputs, must give rows of ``n_classes`` values that are >= 0 and sum to
    1 within :data:`OUTPUT_TOLERANCE`. Rows holding NaN or infinity are not
    judged (a network that diverges from the start is diagnosed, not
    refused). Errors of the forward pass itself (the network cannot take
    these inputs) propagate unchanged for the caller to report.
    """
    layer = output_layer(model)
    if layer is not None:
        _check_output_layer(layer, n_classes)
    outputs = np.asarray(keras.ops.convert_to_numpy(model(sample, training=False)), dtype=np.float64)
    where = _describe(layer) if layer is not None else f"the model {model.name!r} ({type(model).__name__})"
    if outputs.ndim != 2 or outputs.shape[1] != n_classes:
        raise ConfigError(f"the network's output, from {where}, has shape {tuple(outputs.shape[1:])} per sample; "
                          f"expected ({n_classes},): one probability per class")
    finite = outputs[np.all(np.isfinite(outputs), axis=1)]
    if not len(finite):
        return
    low_row, low = divmod(int(np.argmin(finite)), n_classes)
    sums = finite.sum(axis=1)
    worst = int(np.argmax(np.abs(sums - 1)))
    if finite[low_row, low] < -OUTPUT_TOLERANCE:
        problem = f"output {low} of sample {low_row} is {finite[low_row, low]:.4g}"
    elif abs(sums[worst] - 1) > OUTPUT_TOLERANCE:
        problem = f"the outputs of sample {worst} sum to {sums[worst]:.4g}"
    else:
        return
    raise ConfigError(f"the network's output, from {where}, is not a probability distribution on "
                      f"{len(outputs)} training samples: {problem}; expected {n_classes} values >= 0 that sum "
                      f"to 1 (end the network with a softmax, e.g. Dense({n_classes}, activation='softmax'))")


def output_layer(model: Any) -> Any | None:
    """The layer that gives the output of a functional or Sequential model (inside nested ones).

    None for a subclassed model: its ``call`` decides the output, so its
    layers say nothing about it.
    """
    if getattr(model, "outputs", None) is None or not getattr(model, "layers", None):
        return None
    last = model.layers[-1]  # graph models keep their layers in topological order: the output's is last
    if isinstance(last, keras.Model):
        return output_layer(last) if getattr(last, "outputs", None) is not None else last
    return last


def _check_output_layer(layer: Any, n_classes: int) -> None:
    """The structural half of :func:`check_output`: the output layer's width and Keras activation."""
    width = getattr(layer, "units", None)
    if isinstance(width, int) and width != n_classes:
        raise ConfigError(f"the network's output layer {_describe(layer)} has {width} units; expected "
                          f"{n_classes}, one per class")
    name = _activation_name(layer)
    if name is None or name == _DISTRIBUTION or (name == "sigmoid" and n_classes == 1):
        return
    if name == "linear":
        why = "it outputs logits (scores), not probabilities"
    elif name == "sigmoid":
        why = f"it gives each of the {n_classes} classes its own probability, not one distribution over them"
    else:
        why = f"{name} does not make its outputs a probability distribution"
    raise ConfigError(f"the network's output layer {_describe(layer)} does not give probabilities: {why}; "
                      f"symtuner trains with sparse categorical cross-entropy on probabilities, so end the "
                      f"network with a softmax over the {n_classes} classes, e.g. "
                      f"Dense({n_classes}, activation='softmax')")


def _activation_name(layer: Any) -> str | None:
    """The name of ``layer``'s activation if it is one of Keras's own (None: unknown, or no activation)."""
    if isinstance(layer, keras.layers.Softmax):
        return _DISTRIBUTION
    activation = getattr(layer, "activation", None)
    name = getattr(activation, "__name__", None)
    if not callable(activation) or not isinstance(name, str):
        return None
    try:
        known = keras.activations.get(name)
    except (ValueError, TypeError):  # a function of the user's own: the numeric check judges it
        return None
    return name if known is activation else None


def _describe(layer: Any) -> str:
    """``'name' (Dense, activation 'linear')``: how an error names a layer."""
    activation = getattr(layer, "activation", None)
    kind = type(layer).__name__
    if callable(activation) and isinstance(getattr(activation, "__name__", None), str):
        return f"{layer.name!r} ({kind}, activation {activation.__name__!r})"
    return f"{layer.name!r} ({kind})"

#: Augmentation layers that are not named ``Random*``.
_OTHER_AUGMENTATIONS = frozenset({"AugMix", "RandAugment", "CutMix", "MixUp", "Solarization"})


def check_network(model: keras.Model, arch: Architecture, params: Mapping[str, Any]) -> list[str]:
    """The changes in ``arch`` that ``model`` does not show, in words (empty if none)."""
    return [message for _, message in _ignored(model, arch, params)]


def ignored_features(model: keras.Model, arch: Architecture, params: Mapping[str, Any]) -> dict[str, str]:
    """The architecture features (``symtuner.core.architecture.FEATURES``) that ``model`` ignores -> what shows it.

    The tuner undoes the change that turned each of them on.
    """
    out: dict[str, list[str]] = {}
    for feature, message in _ignored(model, arch, params):
        out.setdefault(feature, []).append(message)
    return {feature: "; ".join(messages) for feature, messages in out.items()}


def _ignored(model: keras.Model, arch: Architecture, params: Mapping[str, Any]) -> list[tuple[str, str]]:
    layers = list(iter_layers(model))
    ignored: list[tuple[str, str]] = []
    if arch.batch_norm and not any(isinstance(layer, keras.layers.BatchNormalization) for layer in layers):
        ignored.append(("batch_norm", "batch normalisation is on but the model has no BatchNormalization layer"))
    if arch.l2:
        if not any(getattr(layer, "kernel_regularizer", None) is not None for layer in layers):
            ignored.append(("l2", "L2 regularisation is on but no layer has a kernel regulariser"))
        elif not _has_positive_loss(model):
            ignored.append(("l2", "L2 regularisation is on but the model's regularisation losses are zero"))
    if arch.augmentation and not any(_is_augmentation(layer) for layer in layers):
        ignored.append(("augmentation", "data augmentation is on but the model has no augmentation layer"))
    dense_units = Counter(getattr(layer, "units", None) for layer in layers
                          if isinstance(layer, keras.layers.Dense))
    width = _output_width(model)
    if dense_units[width] > 0:  # the classifier is not an added layer
        dense_units[width] -= 1
    missing = _missing_sizes("dense layer", "units", dense_units, params,
                             [dense_units_name(i) for i in range(1, arch.extra_dense + 1)],
                             kind="hidden Dense", found=sum(dense_units.values()))
    ignored += [("extra_dense", message) for message in missing]
    conv_filters = Counter(getattr(layer, "filters", None) for layer in layers if _is_conv(layer))
    missing = _missing_sizes("conv block", "filters", conv_filters, params,
                             [conv_filters_name(i) for i in range(1, arch.extra_conv + 1)],
                             kind="convolution", found=sum(conv_filters.values()))
    ignored += [("extra_conv", message) for message in missing]
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
