"""Reading and checking the HP values the default network and its layer helpers use.

No Keras here, so that a search space can be checked without loading it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from symtuner.core.errors import ConfigError

#: Activation names accepted in the ``activation`` HP -> Keras identifier.
ACTIVATIONS: dict[str, str] = {
    "relu": "relu",
    "elu": "elu",
    "selu": "selu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "gelu": "gelu",
    "swish": "silu",
    "silu": "silu",
    "mish": "mish",
    "softplus": "softplus",
    "softsign": "softsign",
    "leaky_relu": "leaky_relu",
    "relu6": "relu6",
    "celu": "celu",
    "hard_silu": "hard_silu",
    "linear": "linear",
}


def activation_name(value: Any) -> str:
    """The Keras identifier of an activation HP value; unknown names are a ConfigError."""
    key = value.lower() if isinstance(value, str) else value
    if key not in ACTIVATIONS:
        raise ConfigError(f"unknown activation {value!r}; choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[key]


def int_param(params: Mapping[str, Any], name: str) -> int:
    """A positive integer HP (units, filters); missing or bad values name the HP."""
    return count(require(params, name), f"HP {name!r}")


def rate_param(params: Mapping[str, Any], name: str, default: float | None = None) -> float:
    """A dropout rate HP in [0, 1); ``default`` is used when the HP is absent."""
    if name not in params and default is not None:
        return default
    value = require(params, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ConfigError(f"HP {name!r} must be a dropout rate in [0, 1), got {value!r}")
    return float(value)


def count(value: Any, what: str) -> int:
    """A positive integer from an int, an integral float or a numpy scalar."""
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or round(value) < 1:
        raise ConfigError(f"{what} must be a positive integer, got {value!r}")
    return int(round(value))


def require(params: Mapping[str, Any], name: str) -> Any:
    if name not in params:
        raise ConfigError(f"the network needs the HP {name!r}, which the params lack (have {sorted(params)})")
    value = params[name]
    return value.item() if hasattr(value, "item") else value


__all__ = ["ACTIVATIONS", "activation_name", "count", "int_param", "rate_param", "require"]
