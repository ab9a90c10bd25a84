"""The study store: one SQLite database (WAL mode) per study directory.

It is the single source of truth of a study: settings, every version of the
search space and architecture, trials, per-epoch metrics, diagnoses, chosen
actions, rule weights and events. The tuning loop keeps nothing that is not
here, so a study resumes after a crash and a dashboard can read it while it
runs.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from symtuner.core.architecture import Architecture
from symtuner.core.errors import StudyError
from symtuner.core.records import (
    CURVE_KEYS,
    ActionRecord,
    Diagnosis,
    Event,
    LearningCurve,
    Trial,
    TrialState,
    TuningVersion,
    Verdict,
)
from symtuner.core.space import SearchSpace
from symtuner.storage.connection import check_store as _check_store
from symtuner.storage.connection import connect as _connect
from symtuner.storage.connection import sqlite_file
from symtuner.storage.layout import DB_NAME, PARTIAL_DB
from symtuner.storage.rows import decode as _decode
from symtuner.storage.rows import num as _num
from symtuner.storage.rows import relative_to_study as _relative_to_study
from symtuner.storage.rows import trial_from_row as _trial_from_row
from symtuner.storage.rows import tuning_from_row as _tuning_from_row
from symtuner.storage.schema import INITIAL_WEIGHTS_TRIAL, SCHEMA_VERSION, TABLES
from symtuner.storage.schema import SCHEMA_SQL as _SCHEMA


class StudyStore:
    """Reads and writes one study's database. Cheap to open; one connection."""

    def __init__(self, conn: sqlite3.Connection, directory: Path, readonly: bool) -> None:
        self._conn = conn
        self.directory = directory
        self.readonly = readonly
        self._schema = SCHEMA_VERSION

    # -- opening -----------------------------------------------------------
    @classmethod
    def create(cls, directory: Path, settings: dict[str, Any],
               init: Callable[[StudyStore], None] | None = None) -> StudyStore:
        """Create a new study in ``directory`` (which must not hold one).

        The database is built under a temporary name, schema, settings and
        whatever ``init`` writes (the initial search space, ...) in one
        transaction, and renamed to ``study.db`` only when complete: a process
        killed at any moment leaves either no study or a whole one.
        """
        directory = Path(directory)
        if (directory / DB_NAME).exists():
            raise StudyError(f"{directory} already holds a study")
        if directory.exists() and not directory.is_dir():
            raise StudyError(f"study directory {directory} is a file")
        directory.mkdir(parents=True, exist_ok=True)
        partial = directory / PARTIAL_DB
        for leftover in (partial, Path(f"{partial}-journal")):
            leftover.unlink(missing_ok=True)  # from a creation that was killed
        conn = sqlite3.connect(partial, timeout=30, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA journal_mode=DELETE")
            store = cls(conn, directory, readonly=False)
            conn.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("schema_version", str(SCHEMA_VERSION)),
                ("created_at", repr(time.time())),
                ("settings", json.dumps(settings, sort_keys=True)),
            ])
            if init is not None:
                init(store)
            conn.commit()
        except BaseException:
            conn.close()
            partial.unlink(missing_ok=True)
            raise
        conn.close()
        os.replace(partial, directory / DB_NAME)
        return cls.open(directory)

    @classmethod
    def open(cls, directory: Path, readonly: bool = False, live: bool = False) -> StudyStore:
        """Open an existing study; a directory without one, or a damaged store, is an error.

        ``readonly`` never writes a byte and creates no ``-wal``/``-shm``
        file, also on a read-only directory or mount: it reads the study as
        its last writer left it, write-ahead log included, even one a killed
        writer left without its index (see
        :func:`symtuner.storage.connection.connect`). A store that fails SQLite's quick
        check, lacks a table, or holds a bad schema version is refused with
        :class:`~symtuner.core.errors.DamagedStoreError`, which says how to recover.
        """
        directory = Path(directory)
        db = sqlite_file(directory)
        try:
            conn = _connect(db, readonly=readonly, live=live)
        except sqlite3.Error as exc:
            raise StudyError(f"cannot open {db}: {exc}") from None
        try:
            schema = _check_store(conn, db, directory)
        except BaseException:
            conn.close()
            raise
        store = cls(conn, directory, readonly=readonly)
        store._schema = schema
        if store._schema < SCHEMA_VERSION and not readonly:
            store._migrate()
        return store

    def _migrate(self) -> None:
        """Bring an older study up to this schema (version 2 added the verdicts table, version 3 the
        epochs' other metrics)."""
        with self.transaction():
            for statement in _SCHEMA.split(";"):
                if "verdicts (" in statement:
                    self._conn.execute(statement)
            columns = {row[1] for row in self._conn.execute("PRAGMA table_info(epochs)")}
            if "metrics" not in columns:
                self._conn.execute("ALTER TABLE epochs ADD COLUMN metrics TEXT")
            self._conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION),))
        self._schema = SCHEMA_VERSION

    def check_readable(self) -> None:
        """Read every row a study needs (versions, trials, actions, weights, verdicts); raises
        DamagedStoreError naming the first that cannot be read. Run before writing to a store."""
        self.tuning_versions()
        self.trials()
        self.actions()
        self.weights_history()
        self.verdicts()
        self.data_info()

    @staticmethod
    def exists(directory: Path) -> bool:
        return (Path(directory) / DB_NAME).is_file()

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> StudyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes so that they land together or not at all."""
        self._check_writable()
        if self._conn.in_transaction:  # nested: part of the outer one
            yield
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.rollback()
            raise
        self._conn.commit()

    def _check_writable(self) -> None:
        if self.readonly:
            raise StudyError("this study store was opened read-only")

    def _write(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        self._check_writable()
        if self._conn.in_transaction:
            return self._conn.execute(sql, args)
        with self._conn:
            return self._conn.execute(sql, args)

    # -- settings ----------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        row = self._conn.execute("SELECT value FROM meta WHERE key='settings'").fetchone()
        return _decode(row[0], "the stored settings", self.directory, dict) if row else {}

    # -- tuning versions ---------------------------------------------------
    def set_data_info(self, info: dict[str, Any]) -> None:
        """What the study trains on (class count, input shape, sizes), for readers of the store."""
        self._write("INSERT OR REPLACE INTO meta VALUES ('data_info', ?)", (json.dumps(info, sort_keys=True),))

    def set_target(self, trials: int | None, budget_epochs: int | None) -> None:
        """What the last run was asked to reach, so that a plain resume continues to it."""
        self._write("INSERT OR REPLACE INTO meta VALUES ('target', ?)",
                    (json.dumps({"trials": trials, "budget_epochs": budget_epochs}),))

    def target(self) -> dict[str, Any]:
        """The stored target ({} for studies made before it was stored)."""
        row = self._conn.execute("SELECT value FROM meta WHERE key='target'").fetchone()
        return dict(_decode(row[0], "the stored target", self.directory, dict)) if row else {}

    def data_info(self) -> dict[str, Any]:
        """The data set's description stored with the study ({} for studies made before it was stored)."""
        row = self._conn.execute("SELECT value FROM meta WHERE key='data_info'").fetchone()
        return dict(_decode(row[0], "the stored data description", self.directory, dict)) if row else {}

    def add_tuning_version(self, space: SearchSpace, arch: Architecture,
                           after_trial: int | None, reason: str) -> int:
        cur = self._write(
            "INSERT INTO tuning_versions (space, architecture, after_trial, reason, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (json.dumps(space.to_dict()), json.dumps(arch.to_dict()), after_trial, reason, time.time()))
        return int(cur.lastrowid or 0)

    def tuning_versions(self) -> list[TuningVersion]:
        rows = self._conn.execute("SELECT * FROM tuning_versions ORDER BY version").fetchall()
        return [_tuning_from_row(row, self.directory) for row in rows]

    def latest_tuning(self) -> TuningVersion:
        row = self._conn.execute("SELECT * FROM tuning_versions ORDER BY version DESC LIMIT 1").fetchone()
        if row is None:
            raise StudyError(f"study {self.directory} has no search space stored")
        return _tuning_from_row(row, self.directory)

    def tuning(self, version: int) -> TuningVersion:
        row = self._conn.execute("SELECT * FROM tuning_versions WHERE version=?", (version,)).fetchone()
        if row is None:
            raise StudyError(f"study {self.directory} has no tuning version {version}")
        return _tuning_from_row(row, self.directory)

    # -- trials ------------------------------------------------------------
    def start_trial(self, params: dict[str, Any], tuning_version: int,
                    extra: dict[str, Any] | None = None) -> int:
        cur = self._write(
            "INSERT INTO trials (state, params, tuning_version, started_at, extra) VALUES (?, ?, ?, ?, ?)",
            (TrialState.RUNNING, json.dumps(params), tuning_version, time.time(),
             json.dumps(extra or {})))
        return int(cur.lastrowid or 0)

    def record_epoch(self, trial: int, epoch: int, metrics: dict[str, float]) -> None:
        """One epoch's logs: the four curve series in their columns, every other metric (``val_auc``,
        ``mae``, ...) as JSON."""
        others = {key: _num(value) for key, value in sorted(metrics.items())
                  if key not in CURVE_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool)}
        self._write(
            "INSERT OR REPLACE INTO epochs (trial, epoch, loss, accuracy, val_loss, val_accuracy, recorded_at, "
            "metrics) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (trial, epoch, _num(metrics.get("loss")), _num(metrics.get("accuracy")),
             _num(metrics.get("val_loss")), _num(metrics.get("val_accuracy")), time.time(),
             json.dumps(others) if others else None))

    def set_params(self, trial: int, params: dict[str, Any]) -> None:
        """Replace a running trial's params (a define-by-run objective asked for values it declared)."""
        self._write("UPDATE trials SET params=? WHERE number=?", (json.dumps(params), trial))

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value under ``key`` beside the settings (``enqueued`` params, ...)."""
        self._write("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value, sort_keys=True)))

    def meta(self, key: str, default: Any = None) -> Any:
        """The JSON value stored under ``key`` (``default`` when none is)."""
        row = self._conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return _decode(row[0], f"the stored {key}", self.directory) if row else default

    def set_model_files(self, trial: int, model_path: str, log_dir: str) -> None:
        self._write("UPDATE trials SET model_path=?, log_dir=? WHERE number=?",
                    (_relative_to_study(self.directory, model_path), _relative_to_study(self.directory, log_dir),
                     trial))

    def complete_trial(self, trial: int, *, objective: float, val_accuracy: float, val_loss: float,
                       test_loss: float, test_accuracy: float, train_seconds: float,
                       curve: LearningCurve, epochs_run: int) -> None:
        """Mark a trial complete; its epochs are rewritten from ``curve``."""
        self._write(
            "UPDATE trials SET state=?, objective=?, val_accuracy=?, val_loss=?, test_loss=?, "
            "test_accuracy=?, train_seconds=?, epochs_run=?, finished_at=? WHERE number=?",
            (TrialState.COMPLETE, _num(objective), _num(val_accuracy), _num(val_loss), _num(test_loss),
             _num(test_accuracy), train_seconds, epochs_run, time.time(), trial))
        for epoch in range(curve.n_epochs):
            self.record_epoch(trial, epoch, curve.epoch(epoch))

    def fail_trial(self, trial: int, error: str, state: str = TrialState.FAILED) -> None:
        self._write("UPDATE trials SET state=?, error=?, finished_at=? WHERE number=?",
                    (state, error, time.time(), trial))

    def mark_running_interrupted(self) -> list[int]:
        """Trials left running by a killed process become ``interrupted``."""
        rows = self._conn.execute("SELECT number FROM trials WHERE state=?", (TrialState.RUNNING,)).fetchall()
        numbers = [int(row[0]) for row in rows]
        for number in numbers:
            self.fail_trial(number, "process stopped during training", TrialState.INTERRUPTED)
        return numbers

    def set_diagnosis(self, trial: int, diagnosis: Diagnosis) -> None:
        self._write("UPDATE trials SET diagnosis=? WHERE number=?",
                    (json.dumps(diagnosis.to_dict()), trial))

    def update_extra(self, trial: int, values: dict[str, Any]) -> None:
        row = self._conn.execute("SELECT extra FROM trials WHERE number=?", (trial,)).fetchone()
        extra = _decode(row[0], f"the extra data of trial {trial}", self.directory, dict) if row else {}
        extra.update(values)
        self._write("UPDATE trials SET extra=? WHERE number=?", (json.dumps(extra), trial))

    def trials(self, with_curves: bool = True) -> list[Trial]:
        rows = self._conn.execute("SELECT * FROM trials ORDER BY number").fetchall()
        curves = self._curves() if with_curves else {}
        return [_trial_from_row(row, curves.get(row["number"]), self.directory) for row in rows]

    def trial(self, number: int) -> Trial:
        row = self._conn.execute("SELECT * FROM trials WHERE number=?", (number,)).fetchone()
        if row is None:
            raise StudyError(f"study {self.directory} has no trial {number}")
        return _trial_from_row(row, self._curves(number).get(number), self.directory)

    def _curves(self, number: int | None = None) -> dict[int, LearningCurve]:
        sql = "SELECT * FROM epochs" + (" WHERE trial=?" if number is not None else "") + \
            " ORDER BY trial, epoch"
        rows: dict[int, list[dict[str, Any]]] = {}
        for row in self._conn.execute(sql, () if number is None else (number,)):
            logs = {key: row[key] for key in CURVE_KEYS}
            if "metrics" in row.keys() and row["metrics"]:
                logs |= _decode(row["metrics"], f"the metrics of trial {row['trial']}, epoch {row['epoch']}",
                                self.directory, dict)
            rows.setdefault(row["trial"], []).append(logs)
        return {trial: LearningCurve.from_epochs(epochs) for trial, epochs in rows.items()}

    # -- actions and rule weights -----------------------------------------
    def add_actions(self, trial: int, actions: Sequence[ActionRecord]) -> None:
        for seq, action in enumerate(actions):
            self._write("INSERT OR REPLACE INTO actions VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (trial, seq, action.name, action.problem, action.probability,
                         int(action.applied), action.detail))

    def actions(self) -> list[ActionRecord]:
        rows = self._conn.execute("SELECT * FROM actions ORDER BY trial, seq").fetchall()
        return [ActionRecord(row["trial"], row["name"], row["problem"], row["probability"],
                             bool(row["applied"]), row["detail"]) for row in rows]

    def save_weights(self, trial: int, weights: dict[tuple[str, str], float]) -> None:
        for (action, problem), probability in sorted(weights.items()):
            self._write("INSERT OR REPLACE INTO rule_weights VALUES (?, ?, ?, ?)",
                        (trial, action, problem, float(probability)))

    def weights_history(self) -> dict[int, dict[tuple[str, str], float]]:
        """Rule weights after each trial (key -1: the initial weights)."""
        out: dict[int, dict[tuple[str, str], float]] = {}
        for row in self._conn.execute("SELECT * FROM rule_weights ORDER BY trial"):
            out.setdefault(row["trial"], {})[(row["action"], row["problem"])] = row["probability"]
        return out

    # -- events ------------------------------------------------------------
    # -- verdicts on changes ------------------------------------------------
    def add_verdict(self, verdict: Verdict) -> None:
        self._write("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?, ?)",
                    (verdict.version, verdict.verdict, verdict.after_trial, verdict.reason,
                     verdict.restored_version, verdict.restored_by))

    def verdicts(self) -> dict[int, Verdict]:
        """Verdicts by the version they judged (none in a study of schema 1 opened read-only)."""
        if self._schema < 2:
            return {}
        rows = self._conn.execute("SELECT * FROM verdicts ORDER BY version").fetchall()
        return {row["version"]: Verdict(row["version"], row["verdict"], row["after_trial"], row["reason"],
                                        row["restored_version"], row["restored_by"]) for row in rows}

    def log_event(self, kind: str, message: str, trial: int | None = None) -> None:
        self._write("INSERT INTO events (time, trial, kind, message) VALUES (?, ?, ?, ?)",
                    (time.time(), trial, kind, message))

    def events(self) -> list[Event]:
        rows = self._conn.execute("SELECT time, trial, kind, message FROM events ORDER BY id").fetchall()
        return [Event(row[0], row[1], row[2], row[3]) for row in rows]


__all__ = ["StudyStore", "TuningVersion", "ActionRecord", "Event", "Verdict", "INITIAL_WEIGHTS_TRIAL",
           "SCHEMA_VERSION", "DB_NAME", "TABLES", "sqlite_file"]
