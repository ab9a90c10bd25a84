"""The architecture changes decided so far, as a plain versioned value.

Tuning actions patch an :class:`Architecture`; the Keras builder (and a
user's own network function) turns params plus architecture into a model.
The HP names that extra layers use are defined here, in one place.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from symtuner.core.errors import ConfigError
from symtuner.core.fields import check_known_keys


def dense_units_name(index: int) -> str:
    """HP name of the units of the ``index``-th added dense layer (1-based)."""
    return f"unit_fc{index}"


def conv_filters_name(index: int) -> str:
    """HP name of the filters of the ``index``-th added conv block (1-based)."""
    return f"unit_c{index + 2}"


#: HP name of the L2 factor added by ``reg_l2``.
L2_NAME = "l2"


#: The architecture changes the surrogate model sees as dimensions.
FEATURES = ("l2", "batch_norm", "augmentation", "extra_dense", "extra_conv")

#: The tuning action that makes each architecture change.
FEATURE_ACTIONS = {"l2": "reg_l2", "batch_norm": "batch_norm", "augmentation": "data_augmentation",
                   "extra_dense": "new_fc_layer", "extra_conv": "new_conv_layer"}


@dataclass(frozen=True)
class Architecture:
    """Changes to the base network that the tuning actions have made."""

    batch_norm: bool = False
    l2: bool = False
    augmentation: bool = False
    flip: bool = False
    extra_dense: int = 0
    extra_conv: int = 0

    def __post_init__(self) -> None:
        for name in ("extra_dense", "extra_conv"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"architecture {name} must be a non-negative integer, got {value!r}")

    def with_changes(self, **changes: Any) -> Architecture:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Architecture:
        check_known_keys(cls, data, "architecture settings")
        return cls(**data)

    def features(self) -> dict[str, int]:
        """The changes as numbers, for the surrogate model (one dimension each)."""
        return {f"arch_{name}": int(getattr(self, name)) for name in FEATURES}

    def describe(self) -> list[str]:
        """The applied changes in words, for status output and explanations."""
        out = []
        if self.l2:
            out.append("L2 regularisation")
        if self.batch_norm:
            out.append("batch normalisation")
        if self.augmentation:
            out.append("data augmentation" + (" with flips" if self.flip else ""))
        if self.extra_dense:
            out.append(f"{self.extra_dense} extra dense layer(s)")
        if self.extra_conv:
            out.append(f"{self.extra_conv} extra conv block(s)")
        return out
