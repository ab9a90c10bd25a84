"""The study store's schema: its version, file name, tables and the SQL that makes them."""

from __future__ import annotations

SCHEMA_VERSION = 3

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tuning_versions (
    version INTEGER PRIMARY KEY,
    space TEXT NOT NULL,
    architecture TEXT NOT NULL,
    after_trial INTEGER,
    reason TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    number INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    params TEXT NOT NULL,
    tuning_version INTEGER NOT NULL REFERENCES tuning_versions(version),
    objective REAL, val_accuracy REAL, val_loss REAL, test_loss REAL, test_accuracy REAL,
    started_at REAL, finished_at REAL, train_seconds REAL, epochs_run INTEGER,
    model_path TEXT, log_dir TEXT, error TEXT, diagnosis TEXT, extra TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS epochs (
    trial INTEGER NOT NULL REFERENCES trials(number),
    epoch INTEGER NOT NULL,
    loss REAL, accuracy REAL, val_loss REAL, val_accuracy REAL,
    recorded_at REAL NOT NULL, metrics TEXT,
    PRIMARY KEY (trial, epoch)
);
CREATE TABLE IF NOT EXISTS actions (
    trial INTEGER NOT NULL REFERENCES trials(number),
    seq INTEGER NOT NULL,
    name TEXT NOT NULL, problem TEXT NOT NULL, probability REAL NOT NULL,
    applied INTEGER NOT NULL, detail TEXT NOT NULL,
    PRIMARY KEY (trial, seq)
);
CREATE TABLE IF NOT EXISTS rule_weights (
    trial INTEGER NOT NULL,
    action TEXT NOT NULL, problem TEXT NOT NULL, probability REAL NOT NULL,
    PRIMARY KEY (trial, action, problem)
);
CREATE TABLE IF NOT EXISTS verdicts (
    version INTEGER PRIMARY KEY REFERENCES tuning_versions(version),
    verdict TEXT NOT NULL, after_trial INTEGER NOT NULL, reason TEXT NOT NULL,
    restored_version INTEGER, restored_by INTEGER
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL, trial INTEGER, kind TEXT NOT NULL, message TEXT NOT NULL
);
"""

#: Every table a complete store of the current schema holds.
TABLES = ("meta", "tuning_versions", "trials", "epochs", "actions", "rule_weights", "verdicts", "events")

#: ``rule_weights.trial`` of the initial weights, before any trial.
INITIAL_WEIGHTS_TRIAL = -1
