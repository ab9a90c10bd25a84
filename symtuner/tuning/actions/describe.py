"""Human-readable differences between two (space, architecture) versions.

Used to record what an action did, e.g. ``"learning_rate high 0.001 -> 0.0003"``,
``"+ dimension l2 [1e-06, 0.01] log-uniform"`` or ``"batch_norm on"``; numbers are
written as every line writes a parameter (:func:`symtuner.core.formatting.param_text`).
"""

from __future__ import annotations

from dataclasses import fields

from symtuner.core.architecture import Architecture
from symtuner.core.formatting import param_text
from symtuner.core.space import Categorical, Dimension, Real, SearchSpace, Value


def describe_change(old_space: SearchSpace, old_arch: Architecture, new_space: SearchSpace,
                    new_arch: Architecture) -> list[str]:
    """One line per changed bound, added or removed dimension and architecture setting."""
    lines: list[str] = []
    for dim in new_space.dimensions:
        if dim.name in old_space:
            lines.extend(_dimension_changes(old_space[dim.name], dim))
        else:
            lines.append(f"+ dimension {_dimension_text(dim)}")
    lines.extend(f"- dimension {name}" for name in old_space.names if name not in new_space)
    for field in fields(Architecture):
        before, after = getattr(old_arch, field.name), getattr(new_arch, field.name)
        if before == after:
            continue
        if isinstance(after, bool):
            lines.append(f"{field.name} {'on' if after else 'off'}")
        else:
            lines.append(f"{field.name} {before} -> {after}")
    return lines


def _dimension_changes(old: Dimension, new: Dimension) -> list[str]:
    if type(old) is not type(new):
        return [f"{new.name} {_dimension_text(old)} -> {_dimension_text(new)}"]
    if isinstance(old, Categorical) or isinstance(new, Categorical):
        if old.categories != new.categories:  # type: ignore[union-attr]
            return [f"{new.name} categories {list(old.categories)} -> {list(new.categories)}"]  # type: ignore[union-attr]
        return []
    out = []
    shared = f" (the {new.given} choices without a range of their own)" \
        if isinstance(new, Real) and new.ranges else ""
    for bound in ("low", "high"):
        before, after = getattr(old, bound), getattr(new, bound)
        if before != after:
            a, b = _pair(before, after)
            out.append(f"{new.name} {bound} {a} -> {b}{shared}")
    if isinstance(old, Real) and isinstance(new, Real):
        out.extend(_range_changes(old, new))
    if old.prior != new.prior:
        out.append(f"{new.name} prior {old.prior} -> {new.prior}")
    return out


def _range_changes(old: Real, new: Real) -> list[str]:
    """One line per choice whose own range (``Real.ranges``) was set or moved."""
    out = []
    for choice, low, high in new.ranges:
        before = old.bounds(choice)
        if old.has_range(choice):
            if before != (low, high):
                out.append(f"{new.name} for {choice} [{_number(before[0])}, {_number(before[1])}] -> "
                           f"[{_number(low)}, {_number(high)}]")
        else:
            kept = "keeps" if before == (low, high) else "now"
            out.append(f"{new.name} for {choice} {kept} [{_number(low)}, {_number(high)}] (a range of its own)")
    return out


def _dimension_text(dim: Dimension) -> str:
    if isinstance(dim, Categorical):
        return f"{dim.name} {{{', '.join(map(str, dim.categories))}}}"
    prior = "" if dim.prior == "uniform" else f" {dim.prior}"
    return f"{dim.name} [{_number(dim.low)}, {_number(dim.high)}]{prior}"


def _number(value: Value) -> str:
    return param_text(value)


def _pair(before: Value, after: Value) -> tuple[str, str]:
    """Both numbers as every line prints a parameter, with more digits when the short forms would look equal."""
    for digits in (3, 6):
        a, b = param_text(before, digits), param_text(after, digits)
        if a != b:
            return a, b
    return repr(before), repr(after)
