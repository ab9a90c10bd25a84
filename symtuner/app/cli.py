"""The ``symtuner`` command: run | resume | status | diagnose | dashboard | report | export | doctor | compare.

User errors print one line naming the bad value and exit with status 2.
The parser is built in :mod:`symtuner.app.cli_parser` and the commands are
implemented in :mod:`symtuner.app.commands`; this module dispatches to them
and turns every failure into one line and an exit status.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from symtuner.app.cli_parser import DEFAULT_STUDY, EXIT_USAGE, build_parser, one_line
from symtuner.app.commands.study import cmd_resume, cmd_run, cmd_status
from symtuner.app.commands.tools import (
    cmd_compare,
    cmd_dashboard,
    cmd_diagnose,
    cmd_doctor,
    cmd_export,
    cmd_report,
)
from symtuner.app.invocation import command
from symtuner.core.errors import SymtunerError

#: Exit status of an unexpected error (a bug, not the user's input).
EXIT_INTERNAL = 1
#: Set to 1 to see the traceback of an unexpected error.
DEBUG_ENV = "SYMTUNER_DEBUG"

#: Sub-command name -> its implementation (returns the exit status).
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run,
    "resume": cmd_resume,
    "status": cmd_status,
    "diagnose": cmd_diagnose,
    "dashboard": cmd_dashboard,
    "report": cmd_report,
    "export": cmd_export,
    "doctor": cmd_doctor,
    "compare": cmd_compare,
}


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C: the running trial is left interrupted and reruns on resume."""


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["run", *(argv or [])])
    previous = _on_sigterm()
    try:
        code = int(COMMANDS[args.command](args) or 0)
        sys.stdout.flush()
        return code
    except BrokenPipeError:  # e.g. `symtuner status DIR | head`: the reader has gone, which is fine
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:
        return _failure(exc, args)
    except KeyboardInterrupt as exc:
        return _stopped(exc, args)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _stopped(exc: KeyboardInterrupt, args: argparse.Namespace) -> int:
    """Ctrl-C or SIGTERM: one line, with how to resume a study that was running."""
    terminated = isinstance(exc, Terminated)
    how = "by SIGTERM" if terminated else "by the user"
    study = getattr(args, "study_dir", None)
    again = f"; resume it with '{command('resume', study)}'" if study and args.command in ("run", "resume") else ""
    print(f"symtuner: stopped {how}{again}", file=sys.stderr)
    return 143 if terminated else 130


def _failure(exc: Exception, args: argparse.Namespace) -> int:
    """One line for an error: the user's (exit status 2) or a bug (1, the traceback on request)."""
    study = getattr(args, "study_dir", None)
    if isinstance(exc, SymtunerError):
        return _fail(str(exc))
    if isinstance(exc, sqlite3.Error):
        where = f"the study database {study}/study.db" if study else "a study database"
        return _fail(f"{where} cannot be read or written ({exc}); check it with 'symtuner doctor "
                     f"{study or 'DIR'}'")
    if isinstance(exc, OSError):
        name = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{name}{exc.strerror or exc}")
    if os.environ.get(DEBUG_ENV) == "1":
        traceback.print_exc()
    print(f"symtuner: internal error: {type(exc).__name__}: {one_line(exc)} (set {DEBUG_ENV}=1 for the "
          "traceback, and please report it)", file=sys.stderr)
    return EXIT_INTERNAL


def _fail(message: str) -> int:
    print(f"symtuner: error: {one_line(message)}", file=sys.stderr)
    return EXIT_USAGE


def _on_sigterm() -> Any:
    """Make SIGTERM stop a command like Ctrl-C (the main thread only); returns the previous handler."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: object) -> None:
        raise Terminated

    return signal.signal(signal.SIGTERM, handler)


__all__ = ["main", "build_parser", "COMMANDS", "Terminated", "DEFAULT_STUDY", "DEBUG_ENV", "EXIT_INTERNAL",
           "EXIT_USAGE"]


if __name__ == "__main__":
    sys.exit(main())
