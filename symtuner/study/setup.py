"""Everything a study checks and prepares before its first trial: the user's arguments, the resume
check, the data set, the rules and the new store. Nothing here trains or proposes."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

from symtuner.core.architecture import Architecture
from symtuner.core.errors import ConfigError, StudyError
from symtuner.core.execution import ExecutionSettings
from symtuner.core.fields import positive_int
from symtuner.core.metrics import check_task as check_metrics_for_task
from symtuner.core.settings import AUTO_OBJECTIVE, RESUME_MAY_CHANGE, StudySettings
from symtuner.core.space import Categorical, SearchSpace, SpaceOverrides, default_space, space_differences
from symtuner.data import Dataset, load_dataset
from symtuner.data.loaders import check_dataset_name, dataset_from_values
from symtuner.search.optimizers import make_optimizer
from symtuner.search.pruners import STOPPERS_REGISTRY
from symtuner.storage import INITIAL_WEIGHTS_TRIAL, StudyStore
from symtuner.storage.layout import LOCK_NAME, PARTIAL_DB
from symtuner.study.task import majority_share, validation_samples
from symtuner.symbolic.engine import SymbolicEngine
from symtuner.training.builder import check_default_space
from symtuner.training.callbacks import user_callbacks
from symtuner.training.hparams import activation_name
from symtuner.training.training import OPTIMIZERS, TrainingConfig
from symtuner.tuning.rulebase import rules_engine

DatasetArg = str | Dataset | Callable[[], Sequence[Any]]


@dataclass(frozen=True)
class StudyInputs:
    """What the user gave for a study, checked (:func:`check_inputs`); ``settings`` has the dataset and
    network names applied."""

    study_dir: Path
    settings: StudySettings
    dataset: Any = None
    space: SearchSpace | SpaceOverrides | None = None
    network: str | Callable[..., Any] | None = None
    settings_given: bool = False
    callbacks: Any = None


def check_inputs(study_dir: Any, dataset: Any, space: Any, network: Any, settings: Any, execution: Any,
                 callbacks: Any = None) -> StudyInputs:
    """Check the types of a study's arguments; every error names the bad value."""
    if not isinstance(study_dir, (str, os.PathLike)) or not str(study_dir):
        raise ConfigError(f"the study directory must be a path, got {study_dir!r}")
    for name, value, kind in (("space", space, (SearchSpace, SpaceOverrides)), ("settings", settings, StudySettings),
                              ("execution", execution, ExecutionSettings)):
        if value is not None and not isinstance(value, kind):
            kinds = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise ConfigError(f"{name} must be a {kinds}, got {type(value).__name__}: {value!r:.60}")
    if dataset is not None and not (isinstance(dataset, (str, Dataset)) or callable(dataset)
                                    or getattr(dataset, "streamed", False)):
        raise ConfigError(f"dataset must be a name, a spec, a Dataset or a function, got {dataset!r:.60}")
    if network is not None and not (isinstance(network, str) or callable(network)):
        raise ConfigError(f"network must be 'default', a spec or a function, got {network!r:.60}")
    changes: dict[str, Any] = {}
    if dataset is not None:
        changes["dataset"] = dataset if isinstance(dataset, str) else describe(dataset)
    if network is not None:
        changes["network"] = network if isinstance(network, str) else describe(network)
    return StudyInputs(Path(study_dir), replace(settings or StudySettings(), **changes), dataset, space, network,
                       settings is not None, callbacks)


def check_target(n_trials: Any, budget_epochs: Any) -> None:
    """A run needs a number of trials, an epoch budget or both, each a positive integer."""
    if n_trials is None and budget_epochs is None:
        raise ConfigError("give the number of trials, an epoch budget, or both")
    for name, value in (("the number of trials", n_trials), ("the epoch budget", budget_epochs)):
        if value is not None:
            positive_int(value, name)


def check_new_directory(study_dir: Path) -> None:
    """A new study needs an empty directory (or none); a killed creation's leftovers are allowed."""
    if study_dir.exists() and (not study_dir.is_dir() or any(
            p.name != LOCK_NAME and not p.name.startswith(PARTIAL_DB) for p in study_dir.iterdir())):
        raise StudyError(f"{study_dir} is not an empty directory and holds no study; choose a new directory")


def initial_space(inputs: StudyInputs, input_shape: tuple[int, ...] | None) -> SearchSpace:
    """The space a new study starts in: the one given, the given dimensions applied to the default
    space of this data, or that default space."""
    if isinstance(inputs.space, SearchSpace):
        return inputs.space
    if isinstance(inputs.space, SpaceOverrides):
        return inputs.space.apply(input_shape)
    return default_space(input_shape)


def resumed_settings(inputs: StudyInputs, stored: StudySettings, stored_space: SearchSpace,
                     input_shape: tuple[int, ...] | None) -> StudySettings:
    """The settings a run on an existing study continues it with; a ConfigError listing every
    difference when what is given is not what is stored.

    Given settings are compared field by field (a setting that does not
    change what is computed, such as ``keep_models``, takes the given value);
    a given space is compared with the study's initial space (before any
    action changed it).
    """
    if inputs.settings_given:
        given = inputs.settings
    else:
        given = replace(stored, **{key: getattr(inputs.settings, key) for key, arg in
                                   (("dataset", inputs.dataset), ("network", inputs.network)) if arg is not None})
    if given.objective == AUTO_OBJECTIVE:  # not chosen: the stored one
        given = replace(given, objective=stored.objective)
    differences = stored.differences(given)
    if inputs.space is not None:
        differences += [f"search space: {d}" for d in
                        space_differences(stored_space, initial_space(inputs, input_shape))]
    if differences:
        raise ConfigError(
            f"study {inputs.study_dir} was created with other settings (stored -> given: "
            f"{'; '.join(differences)}); give what it was created with to continue it, or continue it with "
            f"'symtuner resume {inputs.study_dir}', or choose a new directory")
    return replace(stored, **{key: getattr(given, key) for key in RESUME_MAY_CHANGE})


def load_engine(settings: StudySettings) -> SymbolicEngine:
    """The rules of ``settings`` (shipped or the user's directory), every action they name known."""
    return rules_engine(settings.rules_dir or None, mode=settings.rules_mode, thresholds=settings.thresholds)


def load_data(inputs: StudyInputs, settings: StudySettings) -> Dataset:
    """The study's data set: the one given, the values a given function returns, or the named one."""
    arg = inputs.dataset
    if isinstance(arg, Dataset) or getattr(arg, "streamed", False):
        return cast(Dataset, arg)  # a StreamedDataset offers what the loop reads of a Dataset
    if arg is not None and not isinstance(arg, str):
        return dataset_from_values(arg(), describe(arg))
    return load_dataset(settings.dataset, seed=settings.seed)


def training_config(settings: StudySettings, callbacks: Any) -> TrainingConfig:
    """How every trial of the study trains."""
    return TrainingConfig(epochs=settings.epochs, validation_split=settings.validation_split,
                          patience=settings.patience, split_seed=settings.seed, callbacks=callbacks,
                          metrics=settings.metrics, objective=settings.objective)


def create_store(study_dir: Path, settings: StudySettings, engine: SymbolicEngine | None, dataset: Dataset,
                 space: SearchSpace) -> StudyStore:
    """A new study's store, with its data facts, initial space and initial rule weights."""
    def init(store: StudyStore) -> None:
        store.set_data_info({"name": dataset.name, "n_classes": dataset.n_classes,
                             "task": "regression" if dataset.is_regression else "classification",
                             "n_outputs": dataset.n_outputs, "input_shape": list(dataset.input_shape),
                             "n_train": dataset.n_train, "n_test": dataset.n_test,
                             "streamed": bool(getattr(dataset, "streamed", False)),
                             # the study's noise (symtuner.tuning.noise), read by views of the stored study
                             "n_val": validation_samples(dataset, settings.validation_split),
                             "majority": majority_share(dataset)})
        store.add_tuning_version(space, Architecture(flip=settings.flip), None, "initial search space")
        if engine is not None:
            store.save_weights(INITIAL_WEIGHTS_TRIAL, engine.rules.initial_weights)
        store.log_event("study_created", f"study created with settings {settings.to_dict()}")

    return StudyStore.create(study_dir, settings.to_dict(), init)


def check_names(settings: StudySettings) -> None:
    """The optimizer and the pruner ``settings`` name must be registered (errors list the names)."""
    make_optimizer(settings.optimizer, settings.n_initial)
    STOPPERS_REGISTRY.get(settings.pruner)


def check_dataset(inputs: StudyInputs, settings: StudySettings) -> None:
    """A data set given by name must be known (checked before anything imports Keras)."""
    if inputs.dataset is None or isinstance(inputs.dataset, str):
        check_dataset_name(settings.dataset)


def check_task(settings: StudySettings, dataset: Dataset) -> None:
    """The objective and the metrics must suit the task (classification or regression)."""
    check_metrics_for_task(settings.objective, settings.metrics, dataset.is_regression, dataset.n_classes)


def check_callbacks_spec(callbacks: Any) -> None:
    """Callbacks given as a ``module:function`` spec must name a function (checked before Keras is
    imported; what the function gives is checked by :func:`check_callbacks`, once it is)."""
    if isinstance(callbacks, str):
        from symtuner.core.plugins import load_callable

        load_callable(callbacks, "callbacks function")


def check_callbacks(callbacks: Any) -> None:
    """The user's Keras callbacks (a spec, a function or a list) must load and be callbacks."""
    if callbacks is not None:
        user_callbacks(callbacks)


def check_trials_can_run(settings: StudySettings, space: SearchSpace, dataset: Dataset) -> None:
    """Before a study is created: the space's values, and the default network built from them, must work."""
    if settings.network == "default":
        check_space_values(space)
        check_default_space(space, dataset.input_shape)


def check_space_values(space: SearchSpace) -> None:
    """Categorical optimizer and activation values the default network cannot use fail up front."""
    for name in ("optimizer", "activation"):
        dimension = space[name] if name in space else None
        if not isinstance(dimension, Categorical):
            continue
        for value in dimension.categories:
            try:
                if name == "optimizer":
                    if not isinstance(value, str) or value.lower() not in OPTIMIZERS:
                        raise ConfigError(f"unknown optimizer {value!r}; choose one of {sorted(OPTIMIZERS.values())}")
                else:
                    activation_name(value)
            except ConfigError as exc:
                raise ConfigError(f"search space dimension {name!r}: {exc}") from None


def describe(obj: Any) -> str:
    """``module:qualname`` of a user's function or object (what the store records of it)."""
    module = getattr(obj, "__module__", None) or "?"
    name = getattr(obj, "__qualname__", None) or type(obj).__name__
    return f"{module}:{name}"
