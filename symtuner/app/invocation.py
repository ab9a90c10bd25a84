"""How the user runs ``symtuner`` from the shell they are in, for the commands a run prints.

``make run`` starts ``.venv/bin/symtuner``; in a shell where that virtual
environment is not active, the bare name ``symtuner`` is not found. The
commands symtuner prints (the next steps after a run, how to resume a
stopped study) therefore name the program as it was started, unless the
name ``symtuner`` on the PATH is that same program.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

#: The program's name when it is on the PATH.
NAME = "symtuner"


def program() -> str:
    """``symtuner`` when that name runs this installation from here, else the path it was started by
    (relative to the working directory when it lies below it), quoted for a POSIX shell."""
    started = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if started is None or started.name != NAME:  # the Python API, a test, python -m symtuner
        return _module_form() if started is not None and started.name == "__main__.py" else NAME
    on_path = shutil.which(NAME)
    if on_path is not None and _same(Path(on_path), started):
        return NAME
    return shlex.quote(_shown(started))


def command(*words: str | os.PathLike[str]) -> str:
    """``symtuner WORD ...`` as the user can type it here (each word quoted for a POSIX shell)."""
    return " ".join([program(), *(shlex.quote(str(word)) for word in words)])


def _module_form() -> str:
    return f"{shlex.quote(_shown(Path(sys.executable)))} -m {NAME}"


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is below it, else absolute; a relative
    path with no directory part gets ``./`` (a bare name would be looked up on the PATH)."""
    absolute = Path(os.path.abspath(path))
    try:
        shown = absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return absolute.as_posix()
    return shown if "/" in shown else f"./{shown}"


__all__ = ["NAME", "program", "command"]
