"""Reading a user's text file (a config, a history, a rules file) with one clear error."""

from __future__ import annotations

from pathlib import Path

from symtuner.core.errors import ConfigError, SymtunerError


def read_text(path: Path, what: str, error: type[SymtunerError] = ConfigError) -> str:
    """The UTF-8 text of ``path`` (a byte-order mark allowed).

    A missing file, a directory, a file that cannot be read or that is not
    UTF-8 raises ``error`` naming ``what`` and the path.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise error(f"{what} {path} is a directory, not a file") from None
    except OSError as exc:
        raise error(f"{what} {path}: cannot read it ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{what} {path} is not UTF-8 text (bad byte at offset {exc.start})") from None
