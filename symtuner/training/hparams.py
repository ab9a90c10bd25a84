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


class ReadRecorder(dict):  # type: ignore[type-arg]
    """A trial's HP values that remember which of them a network function read.

    Reading one value (``params["units"]``, ``params.get("units")``, ``"units"
    in params``) marks it; reading them all at once (iterating, ``items()``,
    ``dict(params)``) marks every one, so a function that logs or copies its
    HPs is never said to ignore them.
    """

    def __init__(self, values: Mapping[str, Any]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.read.add(key)
        return super().__contains__(key)

    def _all(self) -> None:
        self.read.update(super().keys())

    def __iter__(self) -> Any:
        self._all()
        return super().__iter__()

    def keys(self) -> Any:
        self._all()
        return super().keys()

    def items(self) -> Any:
        self._all()
        return super().items()

    def values(self) -> Any:
        self._all()
        return super().values()

    def copy(self) -> dict[str, Any]:
        self._all()
        return dict(super().items())

    def unread(self) -> list[str]:
        """The names never read, in the order the values were given."""
        return [name for name in super().keys() if name not in self.read]
