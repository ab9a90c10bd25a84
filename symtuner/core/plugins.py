"""Load a user's function from ``package.module:function`` or ``path/file.py:function``."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from symtuner.core.errors import ConfigError


def load_callable(spec: str, what: str = "function") -> Callable[..., Any]:
    """The callable named by ``spec``; ``what`` names it in error messages."""
    if not isinstance(spec, str) or spec.count(":") != 1:
        raise ConfigError(f"{what} {spec!r} must look like 'package.module:function' or 'file.py:function'")
    target, name = spec.split(":")
    if not name.isidentifier():
        raise ConfigError(f"{what} {spec!r}: {name!r} is not a function name")
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise ConfigError(f"{what} {spec!r}: file {target} does not exist")
        module_name = f"symtuner_user_{abs(hash(str(path.resolve())))}"
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        if module_spec is None or module_spec.loader is None:
            raise ConfigError(f"{what} {spec!r}: cannot import {target}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(module_name, None)
            raise ConfigError(f"{what} {spec!r}: importing {target} failed: {exc}") from None
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise ConfigError(f"{what} {spec!r}: cannot import module {target!r} ({exc})") from None
        except Exception as exc:  # the module itself fails on import (a syntax error, ...)
            raise ConfigError(f"{what} {spec!r}: importing {target!r} failed: {type(exc).__name__}: "
                              f"{exc}") from None
    function = getattr(module, name, None)
    if not callable(function):
        raise ConfigError(f"{what} {spec!r}: {target} has no function {name!r}")
    return function  # type: ignore[no-any-return]
