"""The dimensions of a search space: Integer, Real (optionally with a range per choice of another
dimension) and Categorical, and their table form (a config's ``[[space]]`` entries, a stored space).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from symtuner.core.errors import ConfigError

Value = int | float | str | bool

#: Integer bounds must fit a signed 64-bit integer (what numpy and the optimizers hold).
INT64_MAX = 2**63 - 1
#: The keys a dimension table may hold, by type.
DIMENSION_KEYS = {"int": {"type", "name", "low", "high", "prior"},
                  "real": {"type", "name", "low", "high", "prior", "given", "ranges"},
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
    """A real dimension; ``prior`` is ``"uniform"`` or ``"log-uniform"``.

    A conditional dimension has a range of its own for some choices of the
    categorical dimension ``given`` (``ranges``: ``(choice, low, high)``
    triples): a learning rate whose good values depend on the optimizer
    (Keras's Adadelta trains at rates where Adam diverges). ``low``/``high``
    are then the range of every other choice. A trial's value stays in true
    coordinates (its real rate); :meth:`bounds` gives the range for a
    choice, :meth:`envelope` the range of all of them.
    """

    name: str
    low: float
    high: float
    prior: str = "uniform"
    given: str | None = None
    ranges: tuple[tuple[Value, float, float], ...] = ()

    def __post_init__(self) -> None:
        _check_name(self.name)
        object.__setattr__(self, "low", _finite(self.name, self.low))
        object.__setattr__(self, "high", _finite(self.name, self.high))
        if self.low >= self.high:
            raise ConfigError(f"dimension {self.name!r}: low {self.low} must be < high {self.high}")
        _check_prior(self.name, self.prior, self.low)
        object.__setattr__(self, "ranges", _checked_ranges(self))

    def bounds(self, choice: Any = None) -> tuple[float, float]:
        """The range for ``choice`` of the ``given`` dimension (its own, else the shared one)."""
        for category, low, high in self.ranges:
            if category == choice and type(category) is type(choice):
                return low, high
        return self.low, self.high

    def has_range(self, choice: Any) -> bool:
        """Whether ``choice`` has a range of its own."""
        return any(category == choice and type(category) is type(choice) for category, _, _ in self.ranges)

    def envelope(self) -> tuple[float, float]:
        """The smallest range holding the shared one and every choice's own."""
        lows = [self.low] + [low for _, low, _ in self.ranges]
        highs = [self.high] + [high for _, _, high in self.ranges]
        return min(lows), max(highs)

    def with_range(self, choice: Value, low: float, high: float) -> Real:
        """A copy where ``choice`` has the range ``low..high`` of its own (``given`` must be set)."""
        if self.given is None:
            raise ConfigError(f"dimension {self.name!r} has no 'given' dimension: it cannot hold a range "
                              f"for {choice!r}")
        kept = tuple(r for r in self.ranges if not (r[0] == choice and type(r[0]) is type(choice)))
        return replace(self, ranges=kept + ((choice, float(low), float(high)),))

    def unconditioned(self) -> Real:
        """The plain dimension over :meth:`envelope` (what a model fitted on every trial sees)."""
        low, high = self.envelope()
        return Real(self.name, low, high, self.prior)

    def placed(self, value: float, choice: Any) -> float:
        """A value drawn in the shared range, moved to the same relative place in ``choice``'s range
        (log scale under a log-uniform prior): how a conditional value is sampled."""
        low, high = self.bounds(choice)
        if (low, high) == (self.low, self.high):
            return value
        if self.prior == "log-uniform":
            share = (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
            return min(max(math.exp(math.log(low) + share * (math.log(high) - math.log(low))), low), high)
        share = (value - self.low) / (self.high - self.low)
        return min(max(low + share * (high - low), low), high)

    def clip(self, value: Any) -> float:
        low, high = self.envelope()
        try:
            number = float(value)
        except (TypeError, ValueError):
            return low
        if not math.isfinite(number):
            return low
        return min(max(number, low), high)

    def clip_for(self, value: Any, choice: Any) -> float:
        """``value`` clipped into ``choice``'s range."""
        low, high = self.bounds(choice)
        return min(max(self.clip(value), low), high)

    def contains(self, value: Any) -> bool:
        low, high = self.envelope()
        return isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "real", "name": self.name, "low": self.low, "high": self.high,
                               "prior": self.prior}
        if self.given is not None:
            out["given"] = self.given
            out["ranges"] = [[category, low, high] for category, low, high in self.ranges]
        return out


def _finite(name: str, bound: Any) -> float:
    if isinstance(bound, bool) or not isinstance(bound, (int, float)) or not math.isfinite(bound):
        raise ConfigError(f"dimension {name!r}: bound {bound!r} is not a finite number")
    return float(bound)


def _checked_ranges(dim: Real) -> tuple[tuple[Value, float, float], ...]:
    """``dim.ranges`` as (choice, low, high) triples of floats; a bad one raises ConfigError naming it.

    Accepts a mapping choice -> [low, high] as well (the TOML form ``ranges = {Adadelta = [0.01, 1.0]}``).
    """
    raw: Any = dim.ranges
    if dim.given is None:
        if raw:
            raise ConfigError(f"dimension {dim.name!r}: 'ranges' needs 'given', the categorical dimension "
                              "whose choice picks the range")
        return ()
    _check_name(dim.given)
    if isinstance(raw, dict):
        raw = [(category, *pair) if isinstance(pair, (list, tuple)) else (category, pair)
               for category, pair in raw.items()]
    if isinstance(raw, (str, bytes)) or not isinstance(raw, (list, tuple)):
        raise ConfigError(f"dimension {dim.name!r}: ranges {raw!r} must be a list of [choice, low, high]")
    out: list[tuple[Value, float, float]] = []
    for item in raw:
        if not isinstance(item, (list, tuple)) or len(item) != 3:
            raise ConfigError(f"dimension {dim.name!r}: range {item!r} must be [choice, low, high]")
        category, low, high = item
        if not isinstance(category, (str, int, float, bool)):
            raise ConfigError(f"dimension {dim.name!r}: range {item!r}: {category!r} is not a choice")
        low, high = _finite(dim.name, low), _finite(dim.name, high)
        if low >= high:
            raise ConfigError(f"dimension {dim.name!r}: the range of {dim.given}={category!r}: low {low} must "
                              f"be < high {high}")
        _check_prior(dim.name, dim.prior, low)
        if any(c == category and type(c) is type(category) for c, _, _ in out):
            raise ConfigError(f"dimension {dim.name!r}: {dim.given}={category!r} has two ranges")
        out.append((category, low, high))
    return tuple(out)


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
            return Real(name, data["low"], data["high"], data.get("prior", "uniform"),  # type: ignore[arg-type]
                        data.get("given"), data.get("ranges", ()))
        if kind == "cat":
            return Categorical(name, data["categories"])
    except KeyError as missing:
        raise ConfigError(f"dimension {name!r}: missing key {missing}") from None
    raise ConfigError(f"dimension {name!r}: type {kind!r} is not one of ['int', 'real', 'cat']")
