"""Reading the learning curves of one Keras training from the files Keras writes.

A training's per-epoch series come in three forms: a JSON dump of ``History.history``, a
``keras.callbacks.CSVLogger`` file, or a ``keras.callbacks.TensorBoard`` log directory.
:func:`read_history` turns any of them into the same ``{name: [value per epoch]}`` mapping, and
:func:`normalise_series` maps the many names Keras gives accuracy to the four series the diagnosis
reads. Missing or non-finite values are ``None`` throughout, as they are in symtuner's JSON.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from symtuner.core.errors import ConfigError
from symtuner.core.series import (  # noqa: F401  (importable from here as before)
    ACCURACY_KEYS,
    LEARNING_RATE_KEYS,
    _number,
    _number_list,
    canonical_name,
    normalise_series,
)
from symtuner.core.textfile import read_text

#: Names Keras logs accuracy under, in order of preference.
_MISSING_CELLS = frozenset({"", "na", "n/a", "none", "null"})

_EVENT_FILE_GLOB = "events.out.tfevents.*"
_EPOCH_TAG = re.compile(r"^epoch_(.+)$")


@dataclass(frozen=True)
class History:
    """The per-epoch series of one training, as read from a file.

    ``series`` maps each logged name (``loss``, ``val_loss``, ``accuracy``, ...) to one value per
    epoch, ``None`` where the value is missing or not finite. ``n_classes`` is the JSON form's
    ``n_classes`` key where present (the other forms cannot hold it). ``source`` says which form the
    file was: ``"json"``, ``"csv"`` or ``"tensorboard"``.
    """

    series: dict[str, list[float | None]]
    n_classes: int | None
    source: str


def read_history(path: Path) -> History:
    """The learning curves in ``path``, with the format told from the path.

    A directory is a TensorBoard log directory (see :func:`_read_tensorboard`: where it holds
    several runs' files, the newest file's value wins for each epoch), a ``.csv`` file a
    ``CSVLogger`` file, anything else JSON. Raises :class:`ConfigError`, naming ``path``, if the
    path is missing or its content is not a usable history.
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"history {path}: no such file or directory")
    if path.is_dir():
        return _read_tensorboard(path)
    if path.suffix.lower() == ".csv":
        return _read_csv(path)
    return _read_json(path)


def _read_text(path: Path) -> str:
    return read_text(path, "history")


def _checked_series(path: Path, series: dict[str, list[float | None]]) -> dict[str, list[float | None]]:
    """``series`` if it has a non-empty ``loss`` and all its series are as long; else a ConfigError."""
    if "loss" not in series:
        raise ConfigError(f"history {path} has no 'loss' series (has {sorted(series)})")
    if not series["loss"]:
        raise ConfigError(f"history {path}: the 'loss' series is empty")
    lengths = {key: len(values) for key, values in series.items()}
    if len(set(lengths.values())) != 1:
        raise ConfigError(f"history {path}: series have different lengths: {lengths}")
    return series


# --- JSON -------------------------------------------------------------------------------------------


def _read_json(path: Path) -> History:
    """A ``History.history`` object, bare or under a ``"history"`` key, with an optional ``n_classes``.

    Lists are series; other values (``n_classes``, ``description``, ...) are metadata and left out
    of the series, and so are lists of names (e.g. a label ``"expected": ["overfitting"]``) under a
    key that is no Keras metric name (``loss``, ``val_*``, an accuracy). JSON ``null``, ``NaN`` and ``Infinity`` become ``None``.
    """
    text = _read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"history {path} is not valid JSON: {exc.msg} at line {exc.lineno}, "
                          f"column {exc.colno}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"history {path} must be a JSON object of series, got {type(data).__name__}")
    fields = data
    if "history" in data:
        if not isinstance(data["history"], dict):
            raise ConfigError(f"history {path}: 'history' must be an object of series, "
                              f"got {type(data['history']).__name__}")
        fields = data["history"]
    if "loss" in fields and not isinstance(fields["loss"], list):
        raise ConfigError(f"history {path}: series 'loss' must be a list of numbers, got {fields['loss']!r}")
    series = {key: _number_list(values, f"history {path}: series {key!r}")
              for key, values in fields.items() if isinstance(values, list) and not _label_list(key, values)}
    n_classes = fields.get("n_classes", data.get("n_classes"))
    return History(_checked_series(path, series), _n_classes(path, n_classes), "json")


def _label_list(key: str, values: list[Any]) -> bool:
    """A list of strings (or an empty list) under a key Keras would not log a metric as."""
    metric = key == "loss" or key.startswith("val_") or key in ACCURACY_KEYS or key in LEARNING_RATE_KEYS
    return not metric and all(isinstance(value, str) for value in values)


def _n_classes(path: Path, value: Any) -> int | None:
    """The ``n_classes`` metadata as a positive int (``None`` if absent); a ConfigError if it is not one."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"history {path}: 'n_classes' must be a positive integer, got {value!r}")
    return value


# --- CSV --------------------------------------------------------------------------------------------


def _read_csv(path: Path) -> History:
    """A ``CSVLogger`` file of Keras or Lightning: a header of series names, one row per epoch.

    The ``epoch`` column (if any) orders the rows and is dropped; rows of the same epoch are merged (a
    cell of a later row wins where it is not empty: Lightning writes training and validation metrics in
    rows of their own, and a resumed training appends to the file). Lightning's names are read as
    Keras's (``train_loss_epoch`` -> ``loss``, ``val_acc`` -> ``val_accuracy``; ``step`` and ``*_step``
    columns are left out). Empty cells, ``NA``, ``nan`` and ``inf`` become ``None``.
    """
    rows = [row for row in csv.reader(_read_text(path).splitlines()) if any(cell.strip() for cell in row)]
    if not rows:
        raise ConfigError(f"history {path} is empty: expected a CSVLogger header and one row per epoch")
    given = [name.strip() for name in rows[0]]
    keep = [i for i, name in enumerate(given) if name != "step" and not name.endswith("_step")]
    header = [given[i] if given[i] == "epoch" else canonical_name(given[i]) for i in keep]
    if "loss" not in header:
        raise ConfigError(f"history {path} has no 'loss' column (columns: {given})")
    if len(set(header)) != len(header):
        raise ConfigError(f"history {path}: columns {given} name the same series twice")
    if len(rows) == 1:
        raise ConfigError(f"history {path} has a header but no rows")
    by_epoch: dict[int, dict[str, tuple[int, str]]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(given):
            raise ConfigError(f"history {path}, row {line}: {len(row)} cells for {len(given)} columns")
        cells = dict(zip(header, (row[i] for i in keep)))
        epoch = _csv_epoch(path, line, cells.pop("epoch")) if "epoch" in cells else line
        merged = by_epoch.setdefault(epoch, {})
        merged.update({name: (line, cell) for name, cell in cells.items() if cell.strip() or name not in merged})
    names = [name for name in header if name != "epoch"]
    series: dict[str, list[float | None]] = {name: [] for name in names}
    for epoch in sorted(by_epoch):
        for name in names:
            line, cell = by_epoch[epoch].get(name, (0, ""))
            series[name].append(_csv_value(path, name, line, cell))
    return History(_checked_series(path, series), None, "csv")


def _csv_epoch(path: Path, line: int, cell: str) -> int:
    """The epoch number in an ``epoch`` cell; a ConfigError naming the row if it is not an integer."""
    try:
        return int(float(cell.strip()))
    except ValueError:
        raise ConfigError(f"history {path}, row {line}: epoch {cell!r} is not a number") from None


def _csv_value(path: Path, name: str, line: int, cell: str) -> float | None:
    """A CSV cell as a float, ``None`` if empty, ``NA`` or not finite; a ConfigError naming the cell."""
    text = cell.strip()
    if text.lower() in _MISSING_CELLS:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"history {path}, row {line}: column {name!r} has {cell!r}, not a number") from None
    return value if math.isfinite(value) else None


# --- TensorBoard ------------------------------------------------------------------------------------


def _read_tensorboard(path: Path) -> History:
    """A TensorBoard log directory of one ``model.fit`` run with ``keras.callbacks.TensorBoard``.

    Keras writes ``train/`` and ``validation/`` subdirectories; their ``epoch_<name>`` scalars
    become ``<name>`` and ``val_<name>``. A directory that holds event files itself is read as one
    run's train side. Values are ordered by step (the epoch); epochs one side lacks (validation run
    only every few epochs) are ``None``. If a directory holds the files of several runs, so a step
    appears more than once, the newest file's value wins (the value written last), so a run that
    was restarted reads as its latest values, epoch by epoch: a shorter rerun keeps the older run's
    later epochs. A truncated file is read
    up to the break; a file with no events is skipped. (The tensorboard package's reader imports
    TensorFlow itself when it is installed; this module does not.)
    """
    sides = [(path / "train", ""), (path / "validation", "val_")]
    if not any(_event_files(directory) for directory, _ in sides):
        sides = [(path, "")]
    files = {directory: _event_files(directory) for directory, _ in sides}
    if not any(files.values()):
        deeper = sorted({str(f.parent.relative_to(path)) for f in path.rglob(_EVENT_FILE_GLOB)})
        hint = f" (there are some deeper, in {deeper}: pass one run's directory)" if deeper else ""
        raise ConfigError(f"history {path}: no TensorBoard event files in it or in its train/ and "
                          f"validation/ subdirectories{hint}")
    by_step: dict[str, dict[int, float | None]] = {}
    for directory, prefix in sides:
        for name, values in _epoch_scalars(files[directory]).items():
            by_step[prefix + name] = values
    if "loss" not in by_step:
        n_files = sum(len(found) for found in files.values())
        raise ConfigError(f"history {path}: none of its {n_files} event file(s) has an 'epoch_loss' scalar "
                          f"(epoch series found: {sorted(by_step)})")
    steps = sorted({step for values in by_step.values() for step in values})
    series = {name: [values.get(step) for step in steps] for name, values in sorted(by_step.items())}
    return History(_checked_series(path, series), None, "tensorboard")


def _event_files(directory: Path) -> list[Path]:
    """The TensorBoard event files directly in ``directory`` (none if it is not a directory)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob(_EVENT_FILE_GLOB) if p.is_file())


def _epoch_scalars(files: list[Path]) -> dict[str, dict[int, float | None]]:
    """``{name: {step: value}}`` of the ``epoch_<name>`` scalars in ``files``.

    Where a step has several values (several runs' files), the one written last wins: by its
    event's wall time, then by its file's start time and name, since files of runs started in the
    same second carry the same whole-second start time.
    """
    from tensorboard.backend.event_processing import event_accumulator

    guidance = {event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0}
    loaded = []
    for file in files:
        accumulator = event_accumulator.EventAccumulator(str(file), size_guidance=guidance)
        try:
            accumulator.Reload()
            started = accumulator.FirstEventTimestamp()
        except ValueError:  # no events at all: an empty file, or one that is not an event file
            continue
        except Exception as exc:  # unreadable files surface as TensorFlow's (or its stub's) own errors
            raise ConfigError(f"history {file}: cannot read the event file ({exc})") from None
        loaded.append((started, str(file), accumulator))

    newest: dict[str, dict[int, tuple[float, int, float | None]]] = {}
    loaded.sort(key=lambda item: (item[0], item[1]))
    for order, (_, _, accumulator) in enumerate(loaded):
        for name, step, wall_time, value in _scalar_events(accumulator):
            kept = newest.setdefault(name, {}).get(step)
            if kept is None or (wall_time, order) >= kept[:2]:
                newest[name][step] = (wall_time, order, value)
    return {name: {step: kept[2] for step, kept in steps.items()} for name, steps in newest.items()}


def _scalar_events(accumulator: Any) -> list[tuple[str, int, float, float | None]]:
    """``(name, step, wall_time, value)`` of each ``epoch_<name>`` scalar an accumulator loaded.

    Old writers log scalars as ``simple_value``; Keras 3 on TensorFlow logs them as scalar
    tensors. Non-scalar or non-numeric tensors (a model config, an image) are skipped.
    """
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.util import tensor_util

    events = []
    tags = accumulator.Tags()
    for tag in tags.get(event_accumulator.SCALARS, []):
        match = _EPOCH_TAG.match(tag)
        if match:
            events += [(match[1], int(e.step), float(e.wall_time), _finite(float(e.value)))
                       for e in accumulator.Scalars(tag)]
    for tag in tags.get(event_accumulator.TENSORS, []):
        match = _EPOCH_TAG.match(tag)
        if match:
            for e in accumulator.Tensors(tag):
                array = tensor_util.make_ndarray(e.tensor_proto)
                if array.size == 1 and array.dtype.kind in "fiub":
                    events.append((match[1], int(e.step), float(e.wall_time), _finite(float(array.item()))))
    return events


def _finite(value: float) -> float | None:
    """``value``, or ``None`` if it is NaN or infinite."""
    return value if math.isfinite(value) else None
