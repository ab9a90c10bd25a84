"""Search-space values: dimensions and an immutable SearchSpace.

Every change (new bounds, an added dimension) returns a new space, so each
version can be stored and old trials can be mapped into the newest one
(see :meth:`SearchSpace.project`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from symtuner.core.errors import ConfigError
from symtuner.core.formatting import param_text

Value = int | float | str | bool

#: Integer bounds must fit a signed 64-bit integer (what numpy and the optimizers hold).
INT64_MAX = 2**63 - 1
#: The keys a dimension table may hold, by type.
DIMENSION_KEYS = {"int": {"type", "name", "low", "high", "prior"}, "real": {"type", "name", "low", "high", "prior"},
                  "cat": {"type", "name", "categories"}}


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise ConfigError(f"dimension name {name!r} must be a Python identifier")
    return name


@dataclass(frozen=True)
class Integer:
    """An integer dimension, both bounds included."""

    name: str
    low: int
    high: int
    prior: str = "uniform"

    def __post_init__(self) -> None:
        _check_name(self.name)
        for bound in (self.low, self.high):
            if isinstance(bound, bool) or not isinstance(bound, int):
                raise ConfigError(f"dimension {self.name!r}: bound {bound!r} is not an integer")
            if not -INT64_MAX - 1 <= bound <= INT64_MAX:
                raise ConfigError(f"dimension {self.name!r}: bound {bound!r} does not fit a 64-bit integer")
        if self.low >= self.high:
            raise ConfigError(f"dimension {self.name!r}: low {self.low} must be < high {self.high}")
        if self.high - self.low > INT64_MAX:
            raise ConfigError(f"dimension {self.name!r}: the range {self.low}..{self.high} is wider than a "
                              "64-bit integer holds")
        _check_prior(self.name, self.prior, self.low)

    def clip(self, value: Any) -> int:
        """The closest value of this dimension to ``value``."""
        try:
            number = int(round(float(value)))
        except (TypeError, ValueError):
            return self.low
        return min(max(number, self.low), self.high)

    def contains(self, value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and \
            float(value).is_integer() and self.low <= value <= self.high

    def to_dict(self) -> dict[str, Any]:
        return {"type": "int", "name": self.name, "low": self.low, "high": self.high, "prior": self.prior}


@dataclass(frozen=True)
class Real:
    """A real dimension; ``prior`` is ``"uniform"`` or ``"log-uniform"``."""

    name: str
    low: float
    high: float
    prior: str = "uniform"

    def __post_init__(self) -> None:
        _check_name(self.name)
        for bound in (self.low, self.high):
            if isinstance(bound, bool) or not isinstance(bound, (int, float)) or not math.isfinite(bound):
                raise ConfigError(f"dimension {self.name!r}: bound {bound!r} is not a finite number")
        object.__setattr__(self, "low", float(self.low))
        object.__setattr__(self, "high", float(self.high))
        if self.low >= self.high:
            raise ConfigError(f"dimension {self.name!r}: low {self.low} must be < high {self.high}")
        _check_prior(self.name, self.prior, self.low)

    def clip(self, value: Any) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return self.low
        if not math.isfinite(number):
            return self.low
        return min(max(number, self.low), self.high)

    def contains(self, value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and \
            self.low <= value <= self.high

    def to_dict(self) -> dict[str, Any]:
        return {"type": "real", "name": self.name, "low": self.low, "high": self.high, "prior": self.prior}


@dataclass(frozen=True)
class Categorical:
    """A dimension whose values are an ordered tuple of distinct choices."""

    name: str
    categories: tuple[Value, ...]

    def __post_init__(self) -> None:
        _check_name(self.name)
        if isinstance(self.categories, (str, bytes)) or not isinstance(self.categories, (list, tuple)):
            raise ConfigError(f"dimension {self.name!r}: categories must be a list of values, "
                              f"got {self.categories!r}")
        categories = tuple(self.categories)
        for value in categories:
            if not isinstance(value, (str, int, float, bool)) or \
                    (isinstance(value, float) and not math.isfinite(value)):
                raise ConfigError(f"dimension {self.name!r}: category {value!r} is not a string, number "
                                  "or boolean")
        if not categories:
            raise ConfigError(f"dimension {self.name!r}: categories must not be empty")
        if len(set(categories)) != len(categories):
            raise ConfigError(f"dimension {self.name!r}: categories {list(categories)} repeat a value")
        object.__setattr__(self, "categories", categories)

    def clip(self, value: Any) -> Value:
        return value if value in self.categories else self.categories[0]

    def contains(self, value: Any) -> bool:
        return value in self.categories

    def to_dict(self) -> dict[str, Any]:
        return {"type": "cat", "name": self.name, "categories": list(self.categories)}


Dimension = Integer | Real | Categorical

_PRIORS = ("uniform", "log-uniform")


def _check_prior(name: str, prior: str, low: float) -> None:
    if prior not in _PRIORS:
        raise ConfigError(f"dimension {name!r}: prior {prior!r} is not one of {list(_PRIORS)}")
    if prior == "log-uniform" and low <= 0:
        raise ConfigError(f"dimension {name!r}: a log-uniform prior needs low > 0, got {low}")


def dimension_from_dict(data: dict[str, Any]) -> Dimension:
    """Build a dimension from its ``to_dict`` form (also the TOML config form)."""
    if not isinstance(data, dict):
        raise ConfigError(f"dimension {data!r} must be a table")
    kind = data.get("type")
    name = data.get("name")
    if not isinstance(name, str):
        raise ConfigError(f"dimension {data!r}: 'name' must be a string, got {name!r}")
    if not isinstance(kind, str):
        raise ConfigError(f"dimension {name!r}: type {kind!r} is not one of ['int', 'real', 'cat']")
    if kind in DIMENSION_KEYS:
        unknown = sorted(set(data) - DIMENSION_KEYS[kind])
        if unknown:
            raise ConfigError(f"dimension {name!r}: unknown keys {unknown} for type {kind!r} "
                              f"(known: {sorted(DIMENSION_KEYS[kind])})")
    if not isinstance(data.get("prior", "uniform"), str):
        raise ConfigError(f"dimension {name!r}: prior {data['prior']!r} must be a string")
    try:
        if kind == "int":
            return Integer(name, data["low"], data["high"], data.get("prior", "uniform"))  # type: ignore[arg-type]
        if kind == "real":
            return Real(name, data["low"], data["high"], data.get("prior", "uniform"))  # type: ignore[arg-type]
        if kind == "cat":
            return Categorical(name, data["categories"])
    except KeyError as missing:
        raise ConfigError(f"dimension {name!r}: missing key {missing}") from None
    raise ConfigError(f"dimension {name!r}: type {kind!r} is not one of ['int', 'real', 'cat']")


@dataclass(frozen=True)
class SearchSpace:
    """An ordered, validated set of dimensions.

    ``fills`` records, for every dimension added after the first version,
    the value that reproduces the behaviour trials had before it existed
    (see :meth:`project`).
    """

    dimensions: tuple[Dimension, ...]
    fills: tuple[tuple[str, Value], ...] = field(default=())

    def __post_init__(self) -> None:
        dims = tuple(self.dimensions)
        if not dims:
            raise ConfigError("a search space needs at least one dimension")
        seen: set[str] = set()
        for dim in dims:
            if not isinstance(dim, (Integer, Real, Categorical)):
                raise ConfigError(f"{dim!r} is not an Integer, Real or Categorical dimension")
            if dim.name in seen:
                raise ConfigError(f"dimension name {dim.name!r} appears twice in the search space")
            seen.add(dim.name)
        object.__setattr__(self, "dimensions", dims)
        object.__setattr__(self, "fills", tuple(self.fills))

    @classmethod
    def empty(cls) -> SearchSpace:
        """A space with no dimension yet: a define-by-run study's before its first trial declares any."""
        space = object.__new__(cls)
        object.__setattr__(space, "dimensions", ())
        object.__setattr__(space, "fills", ())
        return space

    # -- reading -----------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [dim.name for dim in self.dimensions]

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __getitem__(self, name: str) -> Dimension:
        for dim in self.dimensions:
            if dim.name == name:
                return dim
        raise KeyError(f"no dimension named {name!r} in the search space (have {self.names})")

    def fill_for(self, name: str) -> Value | None:
        return dict(self.fills).get(name)

    def contains(self, params: dict[str, Any]) -> bool:
        return all(name in params and self[name].contains(params[name]) for name in self.names)

    # -- changes (each returns a new space) --------------------------------
    def with_bounds(self, name: str, low: float, high: float) -> SearchSpace:
        """A copy whose numeric dimension ``name`` has the new bounds."""
        dim = self[name]
        if isinstance(dim, Categorical):
            raise ConfigError(f"dimension {name!r} is categorical: it has no bounds")
        new: Dimension
        if isinstance(dim, Integer):
            new = Integer(dim.name, int(low), int(high), dim.prior)
        else:
            new = Real(dim.name, float(low), float(high), dim.prior)
        return replace(self, dimensions=tuple(new if d.name == name else d for d in self.dimensions))

    def with_categories(self, name: str, categories: Sequence[Value]) -> SearchSpace:
        """A copy whose categorical dimension ``name`` offers ``categories`` (a non-empty subset, in its order)."""
        dim = self[name]
        if not isinstance(dim, Categorical):
            raise ConfigError(f"dimension {name!r} is not categorical: it has bounds, not categories")
        unknown = [c for c in categories if c not in dim.categories]
        if unknown:
            raise ConfigError(f"dimension {name!r} has no categor{'ies' if len(unknown) > 1 else 'y'} "
                              f"{', '.join(map(repr, unknown))} (it has {list(dim.categories)})")
        kept = tuple(c for c in dim.categories if c in categories)
        new = Categorical(dim.name, kept)
        return replace(self, dimensions=tuple(new if d.name == name else d for d in self.dimensions))

    def with_dimension(self, dim: Dimension, fill: Value) -> SearchSpace:
        """A copy with ``dim`` appended; ``fill`` is its value for older trials."""
        if dim.name in self:
            raise ConfigError(f"dimension name {dim.name!r} appears twice in the search space")
        return SearchSpace(self.dimensions + (dim,), self.fills + ((dim.name, fill),))

    def with_overrides(self, dims: Sequence[Dimension]) -> SearchSpace:
        """A copy where each of ``dims`` replaces the dimension of its name, or is appended.

        What a config's ``[[space]]`` entries do to the default space: the
        order of existing dimensions is kept, new ones come last.
        """
        by_name = {dim.name: dim for dim in dims}
        if len(by_name) != len(dims):
            twice = sorted({d.name for d in dims if sum(e.name == d.name for e in dims) > 1})
            raise ConfigError(f"dimension name {twice[0]!r} appears twice in the search space")
        kept = tuple(by_name.pop(dim.name, dim) for dim in self.dimensions)
        return SearchSpace(kept + tuple(d for d in dims if d.name in by_name), self.fills)

    # -- history mapping ---------------------------------------------------
    def project(self, params: dict[str, Any]) -> dict[str, Value]:
        """Map a trial's params, possibly from an older space, into this one.

        Policy: a value of a dimension that still exists is clipped into the
        current bounds (a categorical value no longer offered becomes the
        first category); a dimension the trial did not have takes the fill
        value recorded when it was added (clipped too), which stands for
        "as before the change" (for example the smallest L2 factor).
        No completed trial is ever dropped.
        """
        out: dict[str, Value] = {}
        for dim in self.dimensions:
            if dim.name in params:
                out[dim.name] = dim.clip(params[dim.name])
            else:
                fill = self.fill_for(dim.name)
                out[dim.name] = dim.clip(fill if fill is not None else _low(dim))
        return out

    # -- serialisation -----------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"dimensions": [dim.to_dict() for dim in self.dimensions],
                "fills": [[name, value] for name, value in self.fills]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchSpace:
        dims = tuple(dimension_from_dict(item) for item in data.get("dimensions", []))
        fills = tuple((str(name), value) for name, value in data.get("fills", []))
        return cls(dims, fills) if dims else cls.empty()


def describe_range(dim: Dimension, digits: int = 3) -> str:
    """``16..64`` / ``0.0001..0.001 log-uniform`` / ``{Adam, SGD}``: a dimension's values in words, its
    bounds in ``digits`` significant digits (as every line prints a parameter)."""
    if isinstance(dim, Categorical):
        return f"{{{', '.join(map(str, dim.categories))}}}"
    prior = "" if dim.prior == "uniform" else f" {dim.prior}"
    return f"{param_text(dim.low, digits)}..{param_text(dim.high, digits)}{prior}"


def describe_dimension(dim: Dimension, width: int = 0, digits: int = 3) -> str:
    """``name 16..64`` and the like; ``width`` pads the name to align a table's rows."""
    return f"{dim.name:<{width}} {describe_range(dim, digits)}"


def space_differences(old: SearchSpace, new: SearchSpace) -> list[str]:
    """What differs between two spaces, one entry per dimension (order ignored)."""
    out = []
    for dim in old.dimensions:
        if dim.name not in new:
            out.append(f"{describe_dimension(dim)} missing")
        elif new[dim.name] != dim:
            before, after = describe_dimension(dim), describe_dimension(new[dim.name])
            if before == after:  # bounds that differ beyond three digits
                before, after = describe_dimension(dim, digits=12), describe_dimension(new[dim.name], digits=12)
            out.append(f"{before} -> {after}")
    out += [f"{describe_dimension(dim)} added" for dim in new.dimensions if dim.name not in old]
    return out


def span(spaces: Sequence[SearchSpace]) -> SearchSpace:
    """The smallest space holding every given one: widest bounds, every category, every dimension.

    The surrogate model is fitted in it, so a trial keeps the coordinates it
    really ran at however the bounds moved later (nothing is clipped), while
    proposals are still drawn only inside the current space. A dimension
    keeps the type, prior and fill value of its first appearance.
    """
    if not spaces:
        raise ConfigError("span needs at least one search space")
    order: list[str] = []
    merged: dict[str, Dimension] = {}
    fills: dict[str, Value] = {}
    for space in spaces:
        for name, value in space.fills:
            fills.setdefault(name, value)
        for dim in space.dimensions:
            if dim.name not in merged:
                order.append(dim.name)
                merged[dim.name] = dim
            else:
                merged[dim.name] = _widen(merged[dim.name], dim)
    return SearchSpace(tuple(merged[name] for name in order),
                       tuple((name, fills[name]) for name in order if name in fills))


def _widen(first: Dimension, other: Dimension) -> Dimension:
    if isinstance(first, Categorical):
        extra = tuple(c for c in getattr(other, "categories", ()) if c not in first.categories)
        return replace(first, categories=first.categories + extra) if extra else first
    if isinstance(other, Categorical):
        return first
    low, high = min(first.low, other.low), max(first.high, other.high)
    if isinstance(first, Integer):
        return replace(first, low=int(low), high=int(high))
    return replace(first, low=float(low), high=float(high))


def _low(dim: Dimension) -> Value:
    return dim.categories[0] if isinstance(dim, Categorical) else dim.low


@dataclass(frozen=True)
class SpaceOverrides:
    """Dimensions that replace (by name) or extend the default space of whatever data a study gets.

    What a config's ``[[space]]`` entries give: the default space depends on
    the data (images or flat features, :func:`default_space`), which is
    known only when the study runs.
    """

    dimensions: tuple[Dimension, ...]

    def apply(self, input_shape: Sequence[int] | None = None) -> SearchSpace:
        """The default space for samples of ``input_shape`` with these dimensions applied."""
        return default_space(input_shape).with_overrides(self.dimensions)

    def to_dict(self) -> dict[str, Any]:
        return {"overrides": [dim.to_dict() for dim in self.dimensions]}


def default_space(input_shape: Sequence[int] | None = None) -> SearchSpace:
    """The default network's search space for samples of ``input_shape``.

    Images (or an unknown shape): the paper's space (Table 3 and Listing 3).
    Flat feature vectors (tabular data, where the default network is an
    MLP): :func:`tabular_space`.
    """
    if input_shape is not None and len(tuple(input_shape)) == 1:
        return tabular_space()
    return SearchSpace((
        Integer("unit_c1", 16, 64),
        Real("dr1_2", 0.002, 0.3),
        Integer("unit_c2", 64, 128),
        Integer("unit_d", 256, 512),
        Real("dr_f", 0.03, 0.5),
        Real("learning_rate", 1e-4, 1e-3, "log-uniform"),
        Integer("batch_size", 16, 256),
        Categorical("optimizer", ("Adam", "Adamax", "Adadelta")),
        Categorical("activation", ("relu", "elu", "selu")),
    ))


def tabular_space() -> SearchSpace:
    """The default MLP's space on flat feature vectors: its width, dropout, activation and training.

    Small tabular sets train in few optimizer steps, so the learning rate
    spans 1e-4 to 1e-2 and the batch size 8 to 64; Adadelta, whose steps
    are tiny at these rates, is left out.
    """
    return SearchSpace((
        Integer("unit_d", 16, 256),
        Real("dr_f", 0.0, 0.5),
        Real("learning_rate", 1e-4, 1e-2, "log-uniform"),
        Integer("batch_size", 8, 64),
        Categorical("optimizer", ("Adam", "Adamax", "RMSprop")),
        Categorical("activation", ("relu", "elu", "selu")),
    ))
