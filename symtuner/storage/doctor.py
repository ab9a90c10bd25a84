"""Check a study database, export what can be read of it, and repair it by copying the good rows.

Used by ``symtuner doctor DIR``. Nothing here trusts the file: it is opened
read-only and immutable, every table is read on its own (a table that is
gone or unreadable is reported, not fatal), and every JSON value is decoded
row by row. A repair writes a new database next to the damaged one from the
rows that could be read, keeps the damaged file as ``study.db.damaged``, and
only then puts the new one in place, while holding the study's lock so that
no run writes to it meanwhile.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from symtuner.core.architecture import Architecture
from symtuner.core.errors import StudyError, SymtunerError
from symtuner.core.space import SearchSpace
from symtuner.storage.layout import DAMAGED_DB, REPAIRED_DB
from symtuner.storage.lock import study_lock
from symtuner.storage.sqlite import _SCHEMA, DB_NAME, SCHEMA_VERSION, TABLES, _connect, sqlite_file

#: Where a repair leaves the damaged database.
DAMAGED_NAME = DAMAGED_DB
#: Rows probed one by one when a whole-table read fails part way.
MAX_PROBED_ROWS = 200_000

#: The column of each table that names a trial (its rows go with a trial whose row is lost).
_TRIAL_COLUMN = {"epochs": "trial", "actions": "trial", "rule_weights": "trial", "events": "trial"}

#: JSON columns of each table and the type their values must decode to.
_JSON_COLUMNS: dict[str, dict[str, type]] = {
    "trials": {"params": dict, "extra": dict, "diagnosis": dict},
    "tuning_versions": {"space": dict, "architecture": dict},
}


@dataclass
class Checkup:
    """What ``examine`` found: problems in words, and the rows it could read per table."""

    problems: list[str] = field(default_factory=list)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bad_rows: dict[str, int] = field(default_factory=dict)
    #: trial numbers whose rows are gone or cannot be used (a repair keeps their numbers, not their rows)
    lost_trials: list[int] = field(default_factory=list)
    #: the schema version when it is newer than this symtuner's (such a store is not repaired here)
    newer_schema: int | None = None

    @property
    def healthy(self) -> bool:
        return not self.problems

    def completed_trials(self) -> list[dict[str, Any]]:
        return [row for row in self.rows.get("trials", []) if row.get("state") == "complete"]


def examine(directory: Path) -> Checkup:
    """Read every table of the study in ``directory`` that can be read, and say what is wrong."""
    db = sqlite_file(directory)
    checkup = Checkup()
    with _raw(db) as conn:
        try:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check(20)")]
        except sqlite3.DatabaseError as exc:
            result = [str(exc)]
        if result != ["ok"]:
            checkup.problems.append("SQLite's integrity check failed: " + "; ".join(result))
        try:
            present = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            checkup.problems.append(f"the list of tables cannot be read ({exc})")
            present = set(TABLES)
        for table in TABLES:
            if table not in present:
                checkup.problems.append(f"table {table} is missing")
                checkup.rows[table] = []
                continue
            rows, error = _read_table(conn, table)
            if error:
                checkup.problems.append(f"table {table} is partly unreadable ({error}); "
                                        f"{len(rows)} row(s) could be read")
            good = [row for row in rows if _row_problem(table, row) is None]
            for row in rows:
                problem = _row_problem(table, row)
                if problem:
                    checkup.problems.append(f"table {table}: {problem}")
            checkup.bad_rows[table] = len(rows) - len(good)
            checkup.rows[table] = good
            if table == "trials":
                checkup.lost_trials = _lost_numbers(conn, rows, good)
    meta = {row["key"]: row["value"] for row in checkup.rows.get("meta", [])}
    version = meta.get("schema_version")
    if version is None:
        checkup.problems.append("the schema version is missing")
    elif str(version).isdigit() and int(version) > SCHEMA_VERSION:
        checkup.newer_schema = int(version)
        checkup.problems.append(f"it was written by a newer symtuner (schema version {version}; this one reads "
                                f"up to {SCHEMA_VERSION}): use that version")
    elif not str(version).isdigit() or not 1 <= int(version) <= SCHEMA_VERSION:
        checkup.problems.append(f"the schema version {version!r} is not one this symtuner knows "
                                f"(1 to {SCHEMA_VERSION})")
    if _settings(meta) is None:
        checkup.problems.append("the study settings are missing or not a JSON object")
    return checkup


def check_export_target(out: Path, overwrite: bool = False) -> None:
    """An export file must be a new file in an existing directory (or, with ``overwrite``, a file)."""
    out = Path(out)
    if out.is_dir():
        raise StudyError(f"export file {out} is a directory; give a file name")
    if out.exists() and not overwrite and out.is_file():
        raise StudyError(f"export file {out} exists; give another name, or --overwrite to replace it")
    if not out.parent.is_dir():
        raise StudyError(f"export file {out}: directory {out.parent} does not exist")


def export_trials(checkup: Checkup, out: Path) -> int:
    """Write the completed trials that could be read to ``out`` as JSON; returns how many. A file that
    cannot be written is a StudyError naming it."""
    keys = ("number", "params", "objective", "val_accuracy", "val_loss", "test_accuracy", "test_loss",
            "tuning_version", "epochs_run", "model_path")
    trials = [{key: row.get(key) for key in keys} for row in checkup.completed_trials()]
    text = json.dumps({"trials": trials}, indent=2, sort_keys=True) + "\n"
    try:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise StudyError(f"cannot write the export file {out}: {exc.strerror or exc}") from None
    return len(trials)


def repair(directory: Path, checkup: Checkup) -> Path:
    """Rebuild ``study.db`` from the rows ``checkup`` could read; returns where the damaged file went.

    A trial whose row is lost keeps its number, as a failed trial marked ``lost`` that does not count
    towards the target (so no later trial takes the number, its model file or its logs, and a resume
    runs one more trial in its place), and its epochs, actions, rule weights and events go with its row. The damaged file is kept under a name no earlier repair used.
    Refused (StudyError) when the settings or every search-space version are lost, since no study can
    go on without them, for a study a newer symtuner wrote, or while a run holds the study's lock.
    """
    directory = Path(directory)
    check_repairable(directory, checkup)
    meta = {row["key"]: row["value"] for row in checkup.rows.get("meta", [])}
    db = directory / DB_NAME
    fresh = directory / REPAIRED_DB
    meta["schema_version"] = str(SCHEMA_VERSION)
    meta["settings"] = json.dumps(_settings(meta), sort_keys=True)
    with study_lock(directory, "repair"):
        fresh.unlink(missing_ok=True)
        _write_rows(fresh, _repaired_rows(checkup, meta))
        damaged = damaged_copy(directory)
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{db}{suffix}")
            if source.exists():
                os.replace(source, Path(f"{damaged}{suffix}"))
        os.replace(fresh, db)
    return damaged


def check_repairable(directory: Path, checkup: Checkup) -> None:
    """Raise StudyError when :func:`repair` would refuse ``checkup``'s study (see there)."""
    meta = {row["key"]: row["value"] for row in checkup.rows.get("meta", [])}
    if checkup.newer_schema is not None:
        raise StudyError(f"{Path(directory) / DB_NAME} was written by a newer symtuner (schema version "
                         f"{checkup.newer_schema}; this one knows up to {SCHEMA_VERSION}); repairing it here "
                         "would drop what that version stores: use that version")
    if _settings(meta) is None:
        raise StudyError(f"{directory}: the study settings are lost; export the trials with --export "
                         "and start a new study")
    if not checkup.rows.get("tuning_versions"):
        raise StudyError(f"{directory}: no search-space version survives; export the trials with --export "
                         "and start a new study")


def damaged_copy(directory: Path) -> Path:
    """Where a repair keeps the damaged database: ``study.db.damaged``, or ``study.db.damaged.N`` with
    the first N no earlier repair used."""
    first = Path(directory) / DAMAGED_NAME
    candidates = (first if n == 1 else Path(f"{first}.{n}") for n in itertools.count(1))
    return next(p for p in candidates
                if not any(Path(f"{p}{suffix}").exists() for suffix in ("", "-wal", "-shm")))


def _repaired_rows(checkup: Checkup, meta: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The rows of every table of the repaired store (see :func:`repair`)."""
    lost = set(checkup.lost_trials)
    out: dict[str, list[dict[str, Any]]] = {"meta": [{"key": k, "value": v} for k, v in meta.items()]}
    for table in TABLES:
        if table != "meta":
            out[table] = [row for row in checkup.rows.get(table, [])
                          if table not in _TRIAL_COLUMN or row.get(_TRIAL_COLUMN[table]) not in lost]
    version = min(int(row["version"]) for row in checkup.rows["tuning_versions"])
    now = time.time()
    for number in sorted(lost):
        out["trials"].append({"number": number, "state": "failed", "params": "{}", "tuning_version": version,
                              "error": "its row could not be read; a repair kept its number only",
                              "finished_at": now, "extra": json.dumps({"lost": True})})
    if lost:
        out["events"].append({"time": now, "trial": None, "kind": "repaired",
                              "message": f"repair: the rows of trial(s) {sorted(lost)} could not be read; their "
                                         "numbers are kept as failed trials, their epochs and events dropped"})
    return out


def _write_rows(path: Path, rows: dict[str, list[dict[str, Any]]]) -> None:
    """A new database of the current schema at ``path`` holding ``rows`` (table -> rows)."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            for table in TABLES:
                columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
                for row in rows.get(table, []):
                    names = [c for c in columns if c in row]
                    conn.execute(f"INSERT OR REPLACE INTO {table} ({', '.join(names)}) "
                                 f"VALUES ({', '.join('?' for _ in names)})", [row[c] for c in names])
    finally:
        conn.close()


def _lost_numbers(conn: sqlite3.Connection, rows: list[dict[str, Any]], good: list[dict[str, Any]]) -> list[int]:
    """Trial numbers up to the highest one the table holds that no usable row has."""
    numbers = [row.get("number") for row in rows]
    try:
        numbers.append(conn.execute("SELECT max(rowid) FROM trials").fetchone()[0])
    except sqlite3.DatabaseError:
        pass
    top = max((n for n in numbers if isinstance(n, int)), default=0)
    kept = {row.get("number") for row in good}
    return [n for n in range(1, min(top, MAX_PROBED_ROWS) + 1) if n not in kept]


def _read_table(conn: sqlite3.Connection, table: str) -> tuple[list[dict[str, Any]], str]:
    """The rows of ``table`` as dicts, and the error that stopped a full read ('' if none)."""
    try:
        return [dict(row) for row in conn.execute(f"SELECT * FROM {table}")], ""
    except sqlite3.DatabaseError as exc:
        error = str(exc)
    rows: list[dict[str, Any]] = []
    try:
        top = conn.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0] or 0
    except sqlite3.DatabaseError:
        top = MAX_PROBED_ROWS
    for rowid in range(1, min(int(top), MAX_PROBED_ROWS) + 1):
        try:
            row = conn.execute(f"SELECT * FROM {table} WHERE rowid=?", (rowid,)).fetchone()
        except sqlite3.DatabaseError:
            continue
        if row is not None:
            rows.append(dict(row))
    return rows, error


def _row_problem(table: str, row: dict[str, Any]) -> str | None:
    """Why a row cannot be used, or None."""
    for column, kind in _JSON_COLUMNS.get(table, {}).items():
        text: Any = row.get(column)
        if text is None and column == "diagnosis":
            continue
        try:
            value = json.loads(text)
        except (TypeError, ValueError):
            return f"{_row_name(table, row)}: {column} is not valid JSON"
        if not isinstance(value, kind):
            return f"{_row_name(table, row)}: {column} is not a JSON {kind.__name__}"
    if table == "tuning_versions":
        try:
            SearchSpace.from_dict(json.loads(row["space"]))
            Architecture.from_dict(json.loads(row["architecture"]))
        except (SymtunerError, TypeError, ValueError, KeyError) as exc:
            return f"{_row_name(table, row)}: {exc}"
    return None


def _row_name(table: str, row: dict[str, Any]) -> str:
    if table == "trials":
        return f"trial {row.get('number')}"
    if table == "tuning_versions":
        return f"tuning version {row.get('version')}"
    return "a row"


def _settings(meta: dict[str, Any]) -> dict[str, Any] | None:
    try:
        value = json.loads(meta["settings"])
    except (KeyError, TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


@contextmanager
def _raw(db: Path) -> Iterator[sqlite3.Connection]:
    conn = _connect(db, readonly=True)
    try:
        yield conn
    finally:
        conn.close()


__all__ = ["Checkup", "examine", "export_trials", "check_export_target", "check_repairable", "repair", "damaged_copy", "DAMAGED_NAME"]
