"""Study settings and the TOML config file.

A config file looks like::

    [study]
    dataset = "digits"          # or mnist, cifar10, "pkg.module:function", "path/file.py:function"
    trials = 10
    epochs = 4
    seed = 0
    optimizer = "gp"            # gp | random | tpe (needs optuna) | one added with register_optimizer
    objective = "val_auc"       # any validation metric (default: val_accuracy, or val_loss for a regression)
    direction = "auto"          # max | min | auto (from the name: a loss or error is minimised)
    metrics = ["auc"]           # extra metrics to log: auc, top5_accuracy (classification), mae, rmse
    symbolic = true             # false: plain BO, no diagnosis or actions
    keep_models = 5             # model files kept: of the 5 best trials and the latest, "best" or "all"
    revert_after = 3            # trials a change is judged on against the best before it (0: never revert)
    stop_early = true           # symbolic early stopping of hopeless trials (with symbolic = true)
    pruner = "none"             # or "median" | "hyperband": Optuna's MedianPruner | HyperbandPruner
                                # (need optuna; replace stop_early), or one added with register_stopper
    budget_epochs = 150         # optional: stop once the trials have run this many epochs in all

    [network]
    function = "default"        # or "pkg.module:build" / "file.py:build"
    flip = false                # may data augmentation flip images horizontally?
    max_dense_layers = 3
    max_conv_blocks = 1

    [execution]                 # where trials run (not stored: a resume may choose others)
    workers = 2                 # trials at once: a local pool of worker processes
    ray = "auto"                # optional: Ray tasks on a running cluster ("local" starts one)

    [limits]                    # optional: what a network may cost (see symtuner.core.costs)
    max_params = 2.5e6          # weights; also max_flops (one forward pass), max_model_mb, max_latency_ms
    mode = "hard"               # hard: a trial over a limit is never the best | soft: a penalised objective
    penalty = 1.0               # soft: objective - penalty x the summed relative excess over the limits

    [rules]
    dir = "my_rules"            # extra or replacement .pl files
    mode = "extend"             # extend | replace
    [rules.thresholds]
    acc_gap = 0.25

    [[space]]
    type = "int"
    name = "unit_c1"
    low = 16
    high = 64
"""

from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from symtuner.core.costs import LIMIT_MODES, LIMIT_SETTINGS, check_limit, limits_of
from symtuner.core.errors import ConfigError
from symtuner.core.fields import check_known_keys, positive_int
from symtuner.core.metrics import EXTRA_METRICS, check_metrics, objective_direction
from symtuner.core.space import SearchSpace, SpaceOverrides, dimension_from_dict
from symtuner.core.textfile import read_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


#: The objective that stands for "the task's usual one" until the data set is known.
AUTO_OBJECTIVE = "auto"

#: Most epochs a trial may train.
MAX_EPOCHS = 100_000

#: Settings that do not change what a study computes: a resume takes the value it is given.
RESUME_MAY_CHANGE = frozenset({"keep_models"})


@dataclass(frozen=True)
class StudySettings:
    """Everything that fixes how a study runs; stored with the study."""

    dataset: str = "digits"
    epochs: int = 4
    seed: int = 0
    #: a registered optimizer's name (``symtuner.search.optimizers``: gp, random, tpe, ...)
    optimizer: str = "gp"
    n_initial: int = 5
    #: a validation metric's log name; ``auto``: ``val_accuracy``, or ``val_loss`` for a regression
    objective: str = "auto"
    #: ``max``, ``min``, or ``auto``: read from the objective's name (see ``objective_direction``)
    direction: str = "auto"
    #: extra metrics every trial logs (see ``symtuner.core.metrics.EXTRA_METRICS``)
    metrics: tuple[str, ...] = ()
    symbolic: bool = True
    network: str = "default"
    flip: bool = False
    max_dense_layers: int = 3
    max_conv_blocks: int = 1
    validation_split: float = 0.2
    patience: int = 3
    rules_dir: str | None = None
    rules_mode: str = "extend"
    thresholds: dict[str, float] = field(default_factory=dict)
    revert_after: int = 3
    stop_early: bool = True
    #: a registered stopper's name (``symtuner.search.pruners``: none, median, hyperband, ...)
    pruner: str = "none"
    #: model files kept: those of the ``keep_models`` best trials and the latest (0: every trial's)
    keep_models: int = 5
    #: limits on what a trained network costs (None: no limit; see :mod:`symtuner.core.costs`)
    max_params: float | None = None
    max_flops: float | None = None
    max_model_mb: float | None = None
    max_latency_ms: float | None = None
    #: ``hard``: a trial over a limit is infeasible; ``soft``: its objective is penalised
    limit_mode: str = "hard"
    #: the soft mode's weight of the summed relative excess over the limits
    limit_penalty: float = 1.0

    def __post_init__(self) -> None:
        for name in ("dataset", "optimizer", "objective", "network", "rules_mode", "pruner"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{name} must be a non-empty string, got {value!r}")
        if self.rules_dir is not None and (not isinstance(self.rules_dir, str) or not self.rules_dir):
            raise ConfigError(f"rules dir must be a path string, got {self.rules_dir!r}")
        positive_int(self.epochs, "epochs")
        if self.epochs > MAX_EPOCHS:
            raise ConfigError(f"epochs must be at most {MAX_EPOCHS} (a trial of more would never end), got "
                              f"{self.epochs!r}")
        positive_int(self.n_initial, "n_initial")
        positive_int(self.patience, "patience")
        for name in ("seed", "max_dense_layers", "max_conv_blocks", "revert_after", "keep_models"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name} must be a non-negative integer, got {value!r}")
        if self.seed >= 2**32:
            raise ConfigError(f"seed must be below 2**32 = 4294967296, got {self.seed!r}")
        for name in ("symbolic", "flip", "stop_early"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, got {getattr(self, name)!r}")
        # optimizer and pruner name entries of registries above core (symtuner.search.optimizers,
        # symtuner.search.pruners): their get() checks the name and lists the registered ones.
        for name in ("optimizer", "pruner"):
            value = getattr(self, name)
            if value != value.strip():
                raise ConfigError(f"{name} {value!r} must not start or end with blanks")
        if self.objective != AUTO_OBJECTIVE or self.direction != "auto":
            objective_direction(self.objective if self.objective != AUTO_OBJECTIVE else "val_accuracy",
                                self.direction)  # a bad name or direction raises here
        metrics = check_metrics(list(self.metrics) if isinstance(self.metrics, tuple) else self.metrics)
        wanted = self.objective[len("val_"):]
        if wanted in EXTRA_METRICS and wanted not in metrics:  # an objective such as val_auc logs its metric
            metrics += (wanted,)
        object.__setattr__(self, "metrics", metrics)
        if self.rules_mode not in ("extend", "replace"):
            raise ConfigError(f"rules mode {self.rules_mode!r} is not one of ['extend', 'replace']")
        split = self.validation_split
        if isinstance(split, bool) or not isinstance(split, (int, float)) or not 0 < split < 1:
            raise ConfigError(f"validation_split must be between 0 and 1, got {split!r}")
        self._check_limits()
        if not isinstance(self.thresholds, dict):
            raise ConfigError(f"rules thresholds must be a table, got {self.thresholds!r}")
        for key, value in self.thresholds.items():
            if not isinstance(key, str) or isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value):
                raise ConfigError(f"rules threshold {key!r} must be a finite number, got {value!r}")

    def _check_limits(self) -> None:
        for name in LIMIT_SETTINGS.values():
            check_limit(name, getattr(self, name))
        if self.limit_mode not in LIMIT_MODES:
            raise ConfigError(f"limit mode {self.limit_mode!r} is not one of {list(LIMIT_MODES)}")
        penalty = self.limit_penalty
        if isinstance(penalty, bool) or not isinstance(penalty, (int, float)) or not math.isfinite(penalty) \
                or penalty < 0:
            raise ConfigError(f"limit penalty must be a non-negative number, got {penalty!r}")

    @property
    def limits(self) -> dict[str, float]:
        """Cost name -> limit for every limit set (see :mod:`symtuner.core.costs`)."""
        return limits_of(self)

    def differences(self, other: StudySettings) -> list[str]:
        """``name: this -> other`` for every field where ``other`` differs, except those a resume may change."""
        mine, theirs = self.to_dict(), other.to_dict()
        return [f"{key} {mine[key]!r} -> {theirs[key]!r}" for key in mine
                if key not in RESUME_MAY_CHANGE and mine[key] != theirs[key]]

    @property
    def maximize(self) -> bool:
        """Whether the objective is maximised (its direction, or read from its name; an ``auto``
        objective counts as ``val_accuracy`` until :meth:`for_task` resolves it)."""
        return objective_direction(self.for_task(False).objective, self.direction)

    def for_task(self, regression: bool) -> StudySettings:
        """These settings with an ``auto`` objective resolved: ``val_loss`` for a regression (which
        logs no accuracy), else ``val_accuracy``."""
        if self.objective != AUTO_OBJECTIVE:
            return self
        return replace(self, objective="val_loss" if regression else "val_accuracy")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["metrics"] = list(self.metrics)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudySettings:
        check_known_keys(cls, data, "settings")
        return cls(**data)


def stored_settings(store: Any) -> StudySettings:
    """The settings a study store holds; ones this symtuner cannot read mean a damaged store."""
    from symtuner.core.errors import DamagedStoreError

    try:
        return StudySettings.from_dict(store.settings())
    except (ConfigError, TypeError) as exc:
        raise DamagedStoreError(store.directory, f"its stored settings are not valid ({exc})") from None


#: The words ``keep_models`` takes besides a count: the best trial's model file (and the latest's), or every one.
KEEP_MODELS_WORDS = {"best": 1, "all": 0}


def keep_models_value(value: Any, what: str = "keep_models") -> int:
    """``keep_models`` as the settings hold it: ``"best"`` is 1, ``"all"`` 0 (every trial's model), a
    positive count itself; ConfigError naming ``what`` otherwise."""
    if isinstance(value, str) and value in KEEP_MODELS_WORDS:
        return KEEP_MODELS_WORDS[value]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{what} must be best, all or a positive integer, got {value!r}")
    return value


@dataclass(frozen=True)
class Config:
    """What a config file holds: settings, an optional space and trial count."""

    settings: dict[str, Any]
    #: a whole space (``mode = "replace"``), or dimensions applied to the data's default space
    space: SearchSpace | SpaceOverrides | None
    trials: int | None
    budget_epochs: int | None = None
    execution: dict[str, Any] = field(default_factory=dict)
    #: ``module:function`` giving the user's Keras callbacks (``[network] callbacks``)
    callbacks: str | None = None


_SECTIONS = {
    "study": {"dataset", "trials", "epochs", "seed", "optimizer", "n_initial", "objective", "direction",
              "metrics", "symbolic",
              "validation_split", "patience", "revert_after", "stop_early", "pruner", "budget_epochs",
              "keep_models"},
    "network": {"function", "flip", "max_dense_layers", "max_conv_blocks", "callbacks"},
    "rules": {"dir", "mode", "thresholds"},
    "limits": {"max_params", "max_flops", "max_model_mb", "max_latency_ms", "mode", "penalty"},
    "execution": {"workers", "threads_per_trial", "ray", "cpus_per_trial", "gpus_per_trial", "retries",
                  "spare_workers", "reproducible", "isolate"},
}


SPACE_MODES = ("merge", "replace")


def _config_space(entry: Any) -> SearchSpace | SpaceOverrides:
    """The search space a config's ``space`` entry gives.

    ``[[space]]`` entries override dimensions of the default space by name
    and add new ones; ``[space]`` with ``mode = "replace"`` and
    ``[[space.dimensions]]`` entries is a whole space of one's own
    (``mode = "merge"`` there is the same as ``[[space]]``).
    """
    mode = "merge"
    if isinstance(entry, dict):
        bad = sorted(set(entry) - {"mode", "dimensions"})
        if bad:
            raise ConfigError(f"unknown keys {bad} in [space] (it takes mode and [[space.dimensions]])")
        mode = entry.get("mode", "merge")
        if mode not in SPACE_MODES:
            raise ConfigError(f"[space] mode {mode!r} is not one of {list(SPACE_MODES)}")
        entry = entry.get("dimensions", [])
    if not isinstance(entry, list) or not all(isinstance(item, dict) for item in entry):
        raise ConfigError("space must be an array of tables ([[space]] or [[space.dimensions]])")
    dims = tuple(dimension_from_dict(item) for item in entry)
    if mode == "replace":
        return SearchSpace(dims)
    overrides = SpaceOverrides(dims)
    overrides.apply()  # a bad entry (a name given twice, ...) fails when the config is read
    return overrides


def _limit_settings(table: dict[str, Any]) -> dict[str, Any]:
    """The study settings a config's ``[limits]`` table gives."""
    out = {key: value for key, value in table.items() if key.startswith("max_")}
    if "mode" in table:
        out["limit_mode"] = table["mode"]
    if "penalty" in table:
        out["limit_penalty"] = table["penalty"]
    return out


def load_config(path: Path) -> Config:
    """Read a TOML config; every unknown key or bad value is an error naming it."""
    path = Path(path)
    text = read_text(path, "config file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - set(_SECTIONS) - {"space"})
    if unknown:
        raise ConfigError(f"config file {path}: unknown sections {unknown}")
    for section, keys in _SECTIONS.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"config file {path}: [{section}] must be a table")
        bad = sorted(set(table) - keys)
        if bad:
            raise ConfigError(f"config file {path}: unknown keys {bad} in [{section}]")
    study = dict(data.get("study", {}))
    if "keep_models" in study:
        study["keep_models"] = keep_models_value(study["keep_models"], f"config file {path}: keep_models")
    trials = study.pop("trials", None)
    budget = study.pop("budget_epochs", None)
    settings: dict[str, Any] = dict(study)
    network = data.get("network", {})
    if "function" in network:
        settings["network"] = network["function"]
    for key in ("flip", "max_dense_layers", "max_conv_blocks"):
        if key in network:
            settings[key] = network[key]
    rules = data.get("rules", {})
    if "dir" in rules and (not isinstance(rules["dir"], str) or not rules["dir"]):
        raise ConfigError(f"config file {path}: [rules] dir must be a path string, got {rules['dir']!r}")
    if "dir" in rules:
        rules_dir = Path(rules["dir"])
        settings["rules_dir"] = str(rules_dir if rules_dir.is_absolute() else path.parent / rules_dir)
    if "mode" in rules:
        settings["rules_mode"] = rules["mode"]
    if "thresholds" in rules:
        settings["thresholds"] = rules["thresholds"]
    settings.update(_limit_settings(data.get("limits", {})))
    try:
        space = _config_space(data["space"]) if "space" in data else None
    except ConfigError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    for name, value in (("trials", trials), ("budget_epochs", budget)):
        if value is not None:
            positive_int(value, f"config file {path}: {name}")
    execution = dict(data.get("execution", {}))
    if execution:
        from symtuner.core.execution import ExecutionSettings

        try:
            ExecutionSettings.from_dict(execution)
        except ConfigError as exc:
            raise ConfigError(f"config file {path}: [execution]: {exc}") from None
    callbacks = network.get("callbacks")
    if callbacks is not None and (not isinstance(callbacks, str) or ":" not in callbacks):
        raise ConfigError(f"config file {path}: [network] callbacks must be a 'module:function' or "
                          f"'file.py:function' string, got {callbacks!r}")
    return Config(settings, space, trials, budget, execution, callbacks)
