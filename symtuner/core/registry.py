"""A small name -> object registry: the extension points (optimizers, stoppers, actions) hold one each.

A registry maps names to objects (usually factories). ``get`` of an unknown
name raises a :class:`~symtuner.core.errors.ConfigError` naming the bad value
and listing the known names, so a setting needs no list of its own: the
registry is the list. Higher layers may register their own entries;
``temporarily`` restores the registry afterwards (tests use it so that no
registration leaks into another test).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Generic, TypeVar

from symtuner.core.errors import ConfigError

T = TypeVar("T")

#: Names a registry accepts unless told otherwise: a letter or ``_`` first, then letters, digits, ``_``, ``-``.
NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_\-]*"


class Registry(Generic[T]):
    """Objects by name.

    ``kind`` names what the registry holds in messages (``"optimizer"``);
    ``pattern`` is the regular expression every name must match in full;
    ``check``, when given, is called with each object registered and raises
    ``ConfigError`` for one that does not fit (e.g. not callable).
    """

    def __init__(self, kind: str, *, pattern: str = NAME_PATTERN,
                 check: Callable[[str, T], None] | None = None) -> None:
        self.kind = kind
        self._pattern = re.compile(pattern)
        self._check = check
        self._entries: dict[str, T] = {}

    # -- changes ---------------------------------------------------------------
    def register(self, name: str, obj: T, replace: bool = False) -> T:
        """Register ``obj`` as ``name`` and return it.

        Raises ``ConfigError`` for a name that is not a string matching the
        registry's pattern, and for a name already registered unless
        ``replace`` is true.
        """
        if not isinstance(name, str) or not self._pattern.fullmatch(name):
            raise ConfigError(f"{self.kind} name {name!r} is not valid: it must match {self._pattern.pattern}")
        if name in self._entries and not replace:
            raise ConfigError(f"{self.kind} {name!r} is already registered (pass replace=True to replace it)")
        if self._check is not None:
            self._check(name, obj)
        self._entries[name] = obj
        return obj

    def unregister(self, name: str) -> T:
        """Remove ``name`` and return what it held; an unknown name raises ``ConfigError`` (see :meth:`get`)."""
        obj = self.get(name)
        del self._entries[name]
        return obj

    @contextmanager
    def temporarily(self) -> Iterator[Registry[T]]:
        """Undo every registration, replacement and removal made inside the ``with`` block on leaving it."""
        saved = dict(self._entries)
        try:
            yield self
        finally:
            self._entries.clear()
            self._entries.update(saved)

    # -- look-ups --------------------------------------------------------------
    def get(self, name: str) -> T:
        """The object registered as ``name``; an unknown name raises ``ConfigError`` listing the known ones."""
        if isinstance(name, str) and name in self._entries:
            return self._entries[name]
        raise ConfigError(f"{self.kind} {name!r} is not one of {list(self.names())}")

    def names(self) -> tuple[str, ...]:
        """Every registered name, sorted."""
        return tuple(sorted(self._entries))

    def as_mapping(self) -> Mapping[str, T]:
        """A read-only, live view of the entries (in registration order)."""
        return MappingProxyType(self._entries)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, names={list(self.names())})"


def check_callable(kind: str) -> Callable[[str, object], None]:
    """A ``check`` for :class:`Registry` that accepts callables only."""
    def check(name: str, obj: object) -> None:
        if not callable(obj):
            raise ConfigError(f"{kind} {name!r} must be registered with a callable, got {obj!r:.80}")
    return check


__all__ = ["NAME_PATTERN", "Registry", "check_callable"]
