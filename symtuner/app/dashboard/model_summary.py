"""A text summary of a saved Keras model, read without Keras.

A ``.keras`` file is a zip archive whose ``config.json`` describes every
layer; reading it directly is instant, where importing Keras takes seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from symtuner.core.errors import StudyError
from symtuner.storage.models import read_keras_config

#: Layer settings worth showing, in display order.
_SHOWN = ("units", "filters", "kernel_size", "strides", "padding", "pool_size", "activation", "rate",
          "batch_shape", "target_shape", "axis", "momentum", "use_bias")


@dataclass(frozen=True)
class LayerInfo:
    """One layer of a saved model."""

    name: str
    kind: str
    settings: str
    depth: int = 0


def read_layers(path: Path) -> list[LayerInfo]:
    """The layers of the ``.keras`` file at ``path``, nested models flattened.

    Raises :class:`StudyError` naming the file when it is missing or is not a
    Keras archive.
    """
    config = read_keras_config(Path(path))  # size and depth limited: the file is not trusted
    out: list[LayerInfo] = []
    try:
        _walk(config, 0, out)
    except RecursionError:
        raise StudyError(f"model file {path} nests its layers too deeply to list") from None
    return out


def _walk(entry: dict[str, Any], depth: int, out: list[LayerInfo]) -> None:
    raw = entry.get("config")
    config: dict[str, Any] = raw if isinstance(raw, dict) else {}
    layers = config.get("layers")
    if isinstance(layers, list):
        if depth > 0:
            out.append(LayerInfo(str(config.get("name", "")), str(entry.get("class_name", "?")), "", depth - 1))
        for layer in layers:
            if isinstance(layer, dict):
                _walk(layer, depth + 1, out)
        return
    out.append(LayerInfo(str(config.get("name", entry.get("name", ""))), str(entry.get("class_name", "?")),
                         _settings(config, entry), max(depth - 1, 0)))


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
    build = entry.get("build_config")
    if isinstance(build, dict) and build.get("input_shape") is not None:
        parts.append(f"input_shape={_short(build['input_shape'])}")
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


__all__ = ["LayerInfo", "read_layers", "summary_text"]
