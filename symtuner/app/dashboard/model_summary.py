"""A text summary of a saved Keras model, read without Keras.

A ``.keras`` file is a zip archive whose ``config.json`` describes every
layer; reading it directly is instant, where importing Keras takes seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from symtuner.app.dashboard.layer_shapes import output_shape, shape_text
from symtuner.core.errors import StudyError
from symtuner.storage.models import read_keras_config

#: Layer settings worth showing, in display order.
_SHOWN = ("units", "filters", "kernel_size", "strides", "padding", "pool_size", "activation", "rate",
          "batch_shape", "target_shape", "axis", "momentum", "use_bias")


@dataclass(frozen=True)
class LayerInfo:
    """One layer of a saved model: its output shape and parameter count where they can be worked out
    (:mod:`.layer_shapes`), ``?`` where not, blank for a nested model's own row."""

    name: str
    kind: str
    settings: str
    depth: int = 0
    output: str = ""
    params: int | None = None


def read_layers(path: Path) -> list[LayerInfo]:
    """The layers of the ``.keras`` file at ``path``, nested models flattened.

    Raises :class:`StudyError` naming the file when it is missing or is not a
    Keras archive.
    """
    config = read_keras_config(Path(path))  # size and depth limited: the file is not trusted
    out: list[LayerInfo] = []
    try:
        _walk(config, 0, out, [None])
    except RecursionError:
        raise StudyError(f"model file {path} nests its layers too deeply to list") from None
    return out


def _walk(entry: dict[str, Any], depth: int, out: list[LayerInfo], shape: list[Any]) -> None:
    """Append ``entry``'s layers to ``out``; ``shape[0]`` is the shape flowing between them (a chain)."""
    raw = entry.get("config")
    config: dict[str, Any] = raw if isinstance(raw, dict) else {}
    layers = config.get("layers")
    if isinstance(layers, list):
        if depth > 0:
            out.append(LayerInfo(str(config.get("name", "")), str(entry.get("class_name", "?")), "", depth - 1))
        for layer in layers:
            if isinstance(layer, dict):
                _walk(layer, depth + 1, out, shape)
        return
    build = entry.get("build_config")
    if isinstance(build, dict) and isinstance(build.get("input_shape"), list):
        shape[0] = list(build["input_shape"])
    kind = str(entry.get("class_name", "?"))
    shape[0], params = output_shape(kind, config, shape[0])
    out.append(LayerInfo(str(config.get("name", entry.get("name", ""))), kind, _settings(config, entry),
                         max(depth - 1, 0), shape_text(shape[0]), params))


def total_params(layers: list[LayerInfo]) -> int | None:
    """The parameters of every layer (weights and moving statistics), None if one count is unknown."""
    counts = [layer.params for layer in layers if layer.output]
    return None if any(c is None for c in counts) else sum(c for c in counts if c is not None)


def _settings(config: dict[str, Any], entry: dict[str, Any]) -> str:
    parts = []
    for key in _SHOWN:
        if key in config and config[key] is not None:
            parts.append(f"{key}={_short(config[key])}")
    regularizer = config.get("kernel_regularizer")
    if isinstance(regularizer, dict):
        inner = regularizer.get("config") or {}
        factors = ", ".join(f"{k}={_short(v)}" for k, v in inner.items() if isinstance(v, (int, float)))
        parts.append(f"kernel_regularizer={regularizer.get('class_name', '?')}({factors})")
    return ", ".join(parts)


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("class_name") or value.get("config", {}).get("name") or "…")
    if isinstance(value, list):
        return "(" + ", ".join("None" if v is None else _short(v) for v in value) + ")"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def summary_text(layers: list[LayerInfo]) -> str:
    """The layers as aligned plain text, one per line."""
    if not layers:
        return "(no layers)"
    rows = [("  " * layer.depth + layer.name, layer.kind, layer.settings) for layer in layers]
    width_name = max(len(r[0]) for r in rows)
    width_kind = max(len(r[1]) for r in rows)
    return "\n".join(f"{n:<{width_name}}  {k:<{width_kind}}  {s}".rstrip() for n, k, s in rows)


__all__ = ["LayerInfo", "read_layers", "summary_text", "total_params"]
