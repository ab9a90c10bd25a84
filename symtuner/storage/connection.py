"""Opening a study's SQLite file and checking, before it is used, that it is whole."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import weakref
from pathlib import Path

from symtuner.core.errors import DamagedStoreError, StudyError
from symtuner.storage.layout import DB_NAME
from symtuner.storage.rows import decode
from symtuner.storage.schema import SCHEMA_VERSION, TABLES


def connect(path: Path, readonly: bool, live: bool = False) -> sqlite3.Connection:
    """A connection to the study database ``path``; a read-only one writes nothing in its directory
    (:func:`_connect_readonly`). ``live`` readers poll a study a run may be writing; they open the
    database afresh for every read, which is what lets each open choose as below."""
    if readonly:
        conn = _connect_readonly(Path(path))
    else:
        conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.row_factory = sqlite3.Row
    return conn


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """Read the database as its last writer left it, creating no ``-wal`` or ``-shm`` file.

    - no write-ahead log with content (no writer has it open, or the last one closed cleanly): the
      file alone is the study, opened as immutable;
    - a log and its ``-shm`` index (a writer is running, or was killed): SQLite's read-only mode,
      which reads through the log and uses the index that exists;
    - a log without its index (a killed writer's study copied without ``-shm``, say to a read-only
      place): the log holds changes the file lacks, and SQLite cannot read them without making an
      index, so the file and its log are read from a private copy (removed when the connection closes).
    """
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    uri = path.resolve().as_uri()
    if shm.exists() and wal.exists():
        return sqlite3.connect(uri + "?mode=ro", uri=True, timeout=30, check_same_thread=False)
    if not wal.exists() or wal.stat().st_size == 0:
        return sqlite3.connect(uri + "?immutable=1", uri=True, timeout=30, check_same_thread=False)
    return _read_through_copy(path, wal)


def _read_through_copy(path: Path, wal: Path) -> sqlite3.Connection:
    """A connection to a private copy of ``path`` and its write-ahead log ``wal``."""
    directory = tempfile.mkdtemp(prefix="symtuner-read-")
    copy = Path(directory) / path.name
    try:
        shutil.copyfile(path, copy)
        shutil.copyfile(wal, Path(f"{copy}-wal"))
        conn = sqlite3.connect(copy, timeout=30, check_same_thread=False, factory=_PrivateCopy)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    conn.removal = weakref.finalize(conn, shutil.rmtree, directory, True)  # closed or collected, it goes
    return conn


class _PrivateCopy(sqlite3.Connection):
    """A connection to a private copy of a database, whose directory goes when it closes."""

    removal: weakref.finalize | None = None

    def close(self) -> None:
        super().close()
        if self.removal is not None:
            self.removal()


def sqlite_file(directory: Path) -> Path:
    """The study database of ``directory``; StudyError if there is none or it is not an SQLite file."""
    db = Path(directory) / DB_NAME
    if not db.is_file():
        raise StudyError(f"{directory} is not a study directory (no {DB_NAME})")
    try:
        with open(db, "rb") as fh:
            header = fh.read(16)
    except OSError as exc:
        raise StudyError(f"cannot read {db}: {exc.strerror or exc}") from None
    if header != b"SQLite format 3\x00":
        raise StudyError(f"{db} is not a symtuner study database (not an SQLite file): there is nothing to "
                         "recover from")
    return db


def check_store(conn: sqlite3.Connection, db: Path, directory: Path) -> int:
    """The store's schema version, after checking that it is whole; raises DamagedStoreError."""
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "meta" not in tables:
            raise StudyError(f"{db} is not a symtuner study database (it has no meta table)")
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None:
            raise StudyError(f"{db} has no schema version: not a symtuner study")
        try:
            schema = int(row[0])
        except (TypeError, ValueError):
            raise DamagedStoreError(directory, f"its schema version {row[0]!r} is not an integer") from None
        if schema > SCHEMA_VERSION:
            raise StudyError(f"{db} has schema version {schema}; this symtuner reads up to {SCHEMA_VERSION}")
        if schema < 1:
            raise DamagedStoreError(directory, f"its schema version {schema} is not a symtuner schema")
        needed = [t for t in TABLES if not (t == "verdicts" and schema < 2)]
        missing = [t for t in needed if t not in tables]
        if missing:
            raise DamagedStoreError(directory, f"the table(s) {', '.join(missing)} are missing")
        problems = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
        if problems != ["ok"]:
            raise DamagedStoreError(directory, f"SQLite's check failed: {'; '.join(problems)}")
        settings = conn.execute("SELECT value FROM meta WHERE key='settings'").fetchone()
        if settings is None:
            raise DamagedStoreError(directory, "its settings are missing")
        decode(settings[0], "the stored settings", directory, dict)
        return schema
    except sqlite3.DatabaseError as exc:
        raise DamagedStoreError(directory, f"SQLite cannot read it ({exc})") from None
