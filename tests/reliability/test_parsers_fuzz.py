"""Property tests: whatever a config or history file holds, the parsers answer or raise ConfigError.

Generated documents mix the real keys with wrong types, nesting and junk, so
the parsers' error paths are walked far beyond the hand-written corpus.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symtuner.core.errors import ConfigError, SymtunerError
from symtuner.core.settings import StudySettings, load_config
from symtuner.integrations.histories import read_history
from symtuner.symbolic.engine import SymbolicEngine, diagnose_history
from symtuner.symbolic.rules import load_rules

SCALARS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.text(max_size=12), st.sampled_from(["gp", "tpe", "default", "digits", "val_loss", "int",
                                                          "real", "cat", "log-uniform", "extend", "median"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4), max_leaves=6)

STUDY_KEYS = ["dataset", "trials", "epochs", "seed", "optimizer", "n_initial", "objective", "symbolic",
              "validation_split", "patience", "revert_after", "stop_early", "pruner", "budget_epochs", "junk"]
NETWORK_KEYS = ["function", "flip", "max_dense_layers", "max_conv_blocks", "junk"]
RULES_KEYS = ["dir", "mode", "junk"]
DIM_KEYS = ["type", "name", "low", "high", "prior", "categories", "junk"]


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    assert isinstance(value, list)
    return "[" + ", ".join(_toml_value(v) for v in value) + "]"


def _table(keys: list[str]) -> st.SearchStrategy[dict[str, object]]:
    return st.dictionaries(st.sampled_from(keys), VALUES, max_size=6)


DOCUMENTS = st.fixed_dictionaries({}, optional={
    "study": _table(STUDY_KEYS), "network": _table(NETWORK_KEYS), "rules": _table(RULES_KEYS),
    "space": st.lists(_table(DIM_KEYS), max_size=4),
})


def _toml(doc: dict[str, object]) -> str:
    parts = []
    for section in ("study", "network", "rules"):
        if section in doc:
            table = doc[section]
            assert isinstance(table, dict)
            parts.append(f"[{section}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in table.items()))
    for dim in doc.get("space", []):  # type: ignore[attr-defined]
        parts.append("[[space]]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in dim.items()))
    return "\n".join(parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=DOCUMENTS)
def test_any_config_is_read_or_refused_with_a_config_error(doc, tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(_toml(doc), encoding="utf-8")
    try:
        config = load_config(path)
        StudySettings.from_dict(config.settings)
    except ConfigError as exc:
        assert str(exc)
        assert "\n" not in str(exc).strip() or "TOML" in str(exc)


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=200))
def test_any_bytes_as_a_config_are_read_or_refused(data, tmp_path_factory):
    path = Path(tmp_path_factory.mktemp("cfg")) / "c.toml"
    path.write_bytes(data)
    try:
        load_config(path)
    except ConfigError:
        pass


NUMBERISH = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 1000), st.none(),
                      st.text(max_size=5), st.booleans(), st.lists(st.floats(), max_size=2),
                      st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
SERIES = st.lists(NUMBERISH, max_size=8)
HISTORY_KEYS = st.sampled_from(["loss", "val_loss", "accuracy", "val_accuracy", "acc", "val_acc",
                                "sparse_categorical_accuracy", "lr", "learning_rate", "n_classes", "history",
                                "epoch", "other"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=st.dictionaries(HISTORY_KEYS, st.one_of(SERIES, NUMBERISH), max_size=6))
def test_any_json_history_is_diagnosed_or_refused(doc, tmp_path, engine):
    path = tmp_path / "h.json"
    path.write_text(json.dumps(doc, allow_nan=True, default=str), encoding="utf-8")
    try:
        history = read_history(path)
        diagnosis = diagnose_history(history.series, history.n_classes, engine)
    except ConfigError as exc:
        assert str(exc)
        return
    assert isinstance(diagnosis.problems, tuple)


CELLS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-5, 50).map(str),
                  st.sampled_from(["", "NA", "nan", "inf", "x", "1e309", "--", '"1.0"']))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.lists(st.sampled_from(["epoch", "loss", "val_loss", "accuracy", "val_accuracy", "lr", "x"]),
                       min_size=1, max_size=5),
       rows=st.lists(st.lists(CELLS, min_size=0, max_size=6), max_size=6))
def test_any_csv_history_is_diagnosed_or_refused(header, rows, tmp_path, engine):
    path = tmp_path / "h.csv"
    path.write_text("\n".join([",".join(header)] + [",".join(row) for row in rows]) + "\n", encoding="utf-8")
    try:
        history = read_history(path)
        diagnose_history(history.series, history.n_classes, engine)
    except ConfigError:
        return


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".json", ".csv"]))
def test_any_bytes_as_a_history_are_read_or_refused(data, suffix, tmp_path_factory):
    path = Path(tmp_path_factory.mktemp("hist")) / f"h{suffix}"
    path.write_bytes(data)
    try:
        read_history(path)
    except SymtunerError:
        pass


@pytest.fixture(scope="module")
def engine() -> SymbolicEngine:
    return SymbolicEngine(load_rules())
