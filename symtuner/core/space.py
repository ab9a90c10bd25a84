"""Search-space values: an immutable SearchSpace of dimensions (:mod:`symtuner.core.dimensions`).

Every change (new bounds, an added dimension) returns a new space, so each
version can be stored and old trials can be mapped into the newest one
(see :meth:`SearchSpace.project`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from symtuner.core.dimensions import (
    DIMENSION_KEYS,
    INT64_MAX,
    Categorical,
    Dimension,
    Integer,
    Real,
    Value,
    dimension_from_dict,
)
from symtuner.core.errors import ConfigError
from symtuner.core.formatting import param_text

__all__ = ["DIMENSION_KEYS", "INT64_MAX", "Categorical", "Dimension", "Integer", "Real", "SearchSpace",
           "SpaceOverrides", "Value", "default_space", "describe_dimension", "describe_range",
           "changed_for", "dimension_from_dict", "space_differences", "span", "tabular_space"]


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
        for dim in dims:
            if isinstance(dim, Real) and dim.given is not None:
                _check_given(dim, dims)
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
        if not all(name in params and self[name].contains(params[name]) for name in self.names):
            return False
        return all(dim.clip_for(params[dim.name], params[str(dim.given)]) == params[dim.name]
                   for dim in self.conditional)

    @property
    def conditional(self) -> list[Real]:
        """The dimensions whose range depends on another's choice (see :class:`Real`)."""
        return [dim for dim in self.dimensions if isinstance(dim, Real) and dim.given is not None]

    def placed(self, params: dict[str, Any]) -> dict[str, Any]:
        """A point drawn in the shared ranges with each conditional value moved into its choice's range
        (:meth:`Real.placed`): how samplers draw from a space with conditional dimensions."""
        if not self.conditional:
            return params
        out = dict(params)
        for dim in self.conditional:
            if dim.name in out and dim.given in out:
                out[dim.name] = dim.placed(float(out[dim.name]), out[dim.given])
        return out

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
            new = replace(dim, low=float(low), high=float(high))
        return replace(self, dimensions=tuple(new if d.name == name else d for d in self.dimensions))

    def with_range(self, name: str, given: str, choice: Value, low: float, high: float) -> SearchSpace:
        """A copy where real dimension ``name`` has the range ``low..high`` when ``given`` is ``choice``
        (the dimension becomes conditional on ``given``; other choices keep theirs)."""
        dim = self[name]
        if not isinstance(dim, Real):
            raise ConfigError(f"dimension {name!r} is not real: only a real dimension can have a range per choice")
        if dim.given is not None and dim.given != given:
            raise ConfigError(f"dimension {name!r} already depends on {dim.given!r}, not {given!r}")
        new = replace(dim, given=given).with_range(choice, low, high)
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
        dims = tuple(new if d.name == name else _without_ranges(d, name, kept) for d in self.dimensions)
        return replace(self, dimensions=dims)

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
        for dim in self.conditional:  # a conditional value into its choice's range
            out[dim.name] = dim.clip_for(out[dim.name], out.get(str(dim.given)))
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
    text = f"{param_text(dim.low, digits)}..{param_text(dim.high, digits)}{prior}"
    if isinstance(dim, Real) and dim.ranges:
        own = ", ".join(f"{category} {param_text(low, digits)}..{param_text(high, digits)}"
                        for category, low, high in dim.ranges)
        text += f" ({dim.given} {own})"
    return text


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


def changed_for(old: SearchSpace, new: SearchSpace, params: dict[str, Any]) -> bool:
    """Whether a trial with ``params`` drew from a different range in ``new`` than in ``old``.

    A dimension added, dropped or changed counts for every trial, except a
    conditional range (:attr:`Real.ranges`, a learning rate per optimizer)
    whose only change is to choices other than the trial's: a move of
    Adam's rates changes nothing for a trial of Adadelta, which drew from
    the same range before and after it.
    """
    if set(old.names) != set(new.names):
        return True
    for dim in old.dimensions:
        other = new[dim.name]
        if other == dim:
            continue
        if not (isinstance(dim, Real) and isinstance(other, Real) and dim.given is not None
                and replace(dim, low=other.low, high=other.high, ranges=other.ranges) == other):
            return True
        choice = params.get(dim.given)
        if dim.bounds(choice) != other.bounds(choice):
            return True
    return False


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
            if isinstance(dim, Real):
                dim = dim.unconditioned()
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


def _check_given(dim: Real, dims: Sequence[Dimension]) -> None:
    """A conditional dimension's ``given`` names a categorical dimension of the space offering every
    choice it has a range for."""
    given = next((d for d in dims if d.name == dim.given), None)
    if not isinstance(given, Categorical):
        raise ConfigError(f"dimension {dim.name!r}: given {dim.given!r} is not a categorical dimension of the "
                          f"search space")
    for category, _, _ in dim.ranges:
        if category not in given.categories:
            raise ConfigError(f"dimension {dim.name!r}: a range for {dim.given}={category!r}, which is not one of "
                              f"{list(given.categories)}")


def _without_ranges(dim: Dimension, given: str, kept: Sequence[Value]) -> Dimension:
    """``dim`` without its ranges for choices of ``given`` no longer offered."""
    if not isinstance(dim, Real) or dim.given != given:
        return dim
    return replace(dim, ranges=tuple(r for r in dim.ranges if r[0] in kept))


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
