"""``symtuner compare --suite FILE``: one comparison per entry of a suite file, then one table of all.

A suite file is TOML with one ``[[entry]]`` table per task::

    [[entry]]
    name = "low-lr"                 # the entry's output directory OUT/low-lr (letters, digits, - and _)
    space = "low_lr.toml"           # a file of [[space]] tables, relative to the suite file
    dataset = "digits-small"        # a bundled data set, or 'module:function'
    description = "learning rate 100x too low"   # optional: shown in suite.md
    trials = 15                     # optional: trials per run (default: --trials, else 10)
    epochs = 5                      # optional: epochs per trial (default: --epochs, else 3)

Every entry is an ordinary comparison (``compare --space``) in ``OUT/<name>``,
with its own ``results.md``, per-run studies under ``OUT/<name>/runs`` and
the same resuming: rerunning the same command skips finished runs and
resumes unfinished ones. The strategies (``symtuner,gp,tpe-hyperband``
unless ``--strategies`` names others) run at equal trials, except those that
prune trials (``tpe-hyperband``, ``tpe-median``): they run at an equal epoch
budget of ``trials x epochs`` epochs per run, what a run at equal trials may
use at most (the whole budget of a ``gp`` run; symtuner's own early stopping
makes it use less), so a pruner's savings buy it more trials. The budget is a
constant of the entry, so a resumed run gets the same one.

Every entry is checked before anything trains: an unknown key, a missing or
bad space file, an unknown data set, a bad value or a repeated name is a
:class:`~symtuner.core.errors.ConfigError` naming it, and so is an existing
output directory that holds an entry with other settings.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from symtuner.app.compare.runner import Comparison, ComparisonSpec, check_spec, run_comparison
from symtuner.app.compare.strategies import STRATEGIES, prunes
from symtuner.core.errors import ConfigError, StudyError
from symtuner.core.textfile import read_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

#: The suite's own record in its output directory.
SUITE_MANIFEST = "compare-suite.json"
#: The keys an ``[[entry]]`` table may have; name, space and dataset are required.
ENTRY_KEYS = ("name", "space", "dataset", "description", "trials", "epochs")
_REQUIRED = ("name", "space", "dataset")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")
#: The defaults of an entry without trials or epochs, when the command line gives none either.
DEFAULT_TRIALS = 10
DEFAULT_EPOCHS = 3


@dataclass(frozen=True)
class SuiteEntry:
    """One task of the suite: an initial search space on a data set, with optional trials and epochs."""

    name: str
    space: Path
    dataset: str
    description: str = ""
    trials: int | None = None
    epochs: int | None = None


def load_suite(path: Path) -> tuple[SuiteEntry, ...]:
    """The entries of a suite file; every bad key or value is a ConfigError naming the file, entry and value."""
    path = Path(path)
    text = read_text(path, "suite file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"suite file {path} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"entry"})
    if unknown:
        raise ConfigError(f"suite file {path}: unknown key {unknown[0]!r}; a suite holds only [[entry]] tables")
    tables = data.get("entry", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(f"suite file {path}: 'entry' must be [[entry]] tables")
    if not tables:
        raise ConfigError(f"suite file {path} has no [[entry]] tables")
    entries: list[SuiteEntry] = []
    for number, table in enumerate(tables, start=1):
        entry = _entry(path, number, table)
        if any(e.name == entry.name for e in entries):
            raise ConfigError(f"suite file {path}: entry name {entry.name!r} is given more than once")
        entries.append(entry)
    return tuple(entries)


def _entry(path: Path, number: int, table: dict[str, Any]) -> SuiteEntry:
    label = f"suite file {path}: entry {number}" + (f" ({table['name']!r})" if isinstance(table.get("name"), str)
                                                     else "")
    unknown = sorted(set(table) - set(ENTRY_KEYS))
    if unknown:
        raise ConfigError(f"{label}: unknown key {unknown[0]!r}; the keys are {', '.join(ENTRY_KEYS)}")
    missing = [key for key in _REQUIRED if key not in table]
    if missing:
        raise ConfigError(f"{label}: no {missing[0]!r} given")
    for key in ("name", "space", "dataset", "description"):
        if key in table and (not isinstance(table[key], str) or (key != "description" and not table[key].strip())):
            raise ConfigError(f"{label}: {key} {table[key]!r} must be a non-empty string")
    name = table["name"]
    if not _NAME.match(name):
        raise ConfigError(f"{label}: name {name!r} must be letters, digits, '-' and '_' (it names the entry's "
                          "output directory)")
    for key in ("trials", "epochs"):
        value = table.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ConfigError(f"{label}: {key} {value!r} is not a positive integer")
    space = (path.parent / table["space"]).resolve()
    if not space.is_file():
        raise ConfigError(f"{label}: space file {table['space']!r} does not exist (looked for {space})")
    from symtuner.data.loaders import check_dataset_name

    try:
        check_dataset_name(table["dataset"])
    except ConfigError as exc:
        raise ConfigError(f"{label}: {exc}") from None
    return SuiteEntry(name, space, table["dataset"], table.get("description", ""), table.get("trials"),
                      table.get("epochs"))


@dataclass(frozen=True)
class SuiteSpec:
    """A suite run: its entries, the strategies and seeds they all share, and the command line's defaults."""

    path: Path
    entries: tuple[SuiteEntry, ...]
    strategies: tuple[str, ...]
    seeds: tuple[int, ...]
    out: Path
    trials: int | None = None
    epochs: int | None = None
    simulate: bool = False
    limits: dict[str, float] = field(default_factory=dict)
    #: every trial in a fresh worker process (:attr:`ComparisonSpec.isolate`)
    isolate: bool = False

    def comparison(self, entry: SuiteEntry) -> ComparisonSpec:
        """The comparison of one entry (a bad value raises ConfigError naming the entry)."""
        try:
            return ComparisonSpec(
                dataset=entry.dataset, strategies=self.strategies, seeds=self.seeds,
                trials=entry.trials or self.trials or DEFAULT_TRIALS,
                epochs=entry.epochs or self.epochs or DEFAULT_EPOCHS, out=Path(self.out) / entry.name,
                simulate=self.simulate, space_file=entry.space, limits=dict(self.limits),
                epoch_matched=tuple(s for s in self.strategies if prunes(s)), isolate=self.isolate)
        except ConfigError as exc:
            raise ConfigError(f"suite entry {entry.name!r}: {exc}") from None

    def comparisons(self) -> list[ComparisonSpec]:
        return [self.comparison(entry) for entry in self.entries]

    def manifest(self) -> dict[str, Any]:
        return {"suite": str(self.path), "simulate": self.simulate, "strategies": list(self.strategies),
                "seeds": list(self.seeds), "entries": [e.name for e in self.entries]}


@dataclass(frozen=True)
class Suite:
    """The outcome: each entry with its comparison, in suite order."""

    spec: SuiteSpec
    results: tuple[tuple[SuiteEntry, Comparison], ...]


def load_spec(path: Path, strategies: Sequence[str], seeds: Sequence[int], out: Path, trials: int | None = None,
              epochs: int | None = None, simulate: bool = False,
              limits: dict[str, float] | None = None, isolate: bool = False) -> SuiteSpec:
    """Read the suite file and check every entry's comparison (nothing is run or written)."""
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown:
        raise ConfigError(f"unknown strategy {unknown[0]!r}; choose from {', '.join(STRATEGIES)}")
    spec = SuiteSpec(Path(path), load_suite(Path(path)), tuple(strategies), tuple(seeds), Path(out), trials,
                     epochs, simulate, dict(limits or {}), isolate)
    spec.comparisons()
    return spec


def check_suite(spec: SuiteSpec) -> list[ComparisonSpec]:
    """Everything that can fail before training, for every entry: the output directory, each entry's
    data set, strategies and existing runs. Nothing is written."""
    out = Path(spec.out)
    if out.exists() and not out.is_dir():
        raise StudyError(f"suite output {out} is a file, not a directory")
    manifest = out / SUITE_MANIFEST
    if manifest.is_file():
        try:
            stored = json.loads(manifest.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise StudyError(f"{manifest} is not valid JSON: {exc}") from None
        if stored.get("simulate") is not None and stored["simulate"] != spec.simulate:
            raise ConfigError(f"{out} holds a suite with simulate={stored['simulate']!r}; cannot continue it "
                              f"with simulate={spec.simulate!r} (choose another --out)")
    elif out.is_dir() and any(out.iterdir()):
        raise StudyError(f"{out} is not empty and holds no suite; choose another --out")
    from symtuner.study.setup import check_space_values

    specs = spec.comparisons()
    for entry, comparison in zip(spec.entries, specs):
        try:
            check_spec(comparison)
            space = comparison.space()
            if space is not None:  # optimizer and activation names the default network cannot use
                check_space_values(space.apply())
        except ConfigError as exc:
            raise ConfigError(f"suite entry {entry.name!r}: {exc}") from None
    return specs


def run_suite(spec: SuiteSpec, stream: TextIO | None = None) -> Suite:
    """Check every entry, then run (or resume) each entry's comparison and write its outputs."""
    from symtuner.app.compare.report import write_outputs

    specs = check_suite(spec)
    out = Path(spec.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / SUITE_MANIFEST).write_text(json.dumps(spec.manifest(), indent=2) + "\n", encoding="utf-8")
    results = []
    for number, (entry, comparison_spec) in enumerate(zip(spec.entries, specs), start=1):
        if stream is not None:
            print(f"\n== suite entry {number}/{len(spec.entries)}: {entry.name} ({entry.dataset}, "
                  f"{entry.space.name}) -> {comparison_spec.out}", file=stream, flush=True)
        comparison = run_comparison(comparison_spec, stream=stream)
        write_outputs(comparison)
        results.append((entry, comparison))
    return Suite(spec, tuple(results))


__all__ = ["DEFAULT_EPOCHS", "DEFAULT_TRIALS", "ENTRY_KEYS", "SUITE_MANIFEST", "Suite", "SuiteEntry", "SuiteSpec",
           "check_suite", "load_spec", "load_suite", "run_suite"]
