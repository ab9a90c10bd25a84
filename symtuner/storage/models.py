"""The saved models of a study: load, rank, export and prune them.

Every trial saves its trained network as a ``.keras`` file, without the
optimizer's state (:func:`symtuner.training.training.save_model`). This
module finds those files from the study store, so a study's models can be
used without knowing where they lie or which trial was best, and keeps a
long study's disk use bounded (:func:`prune_models`). The store is only
read; Keras is imported when a model is loaded.

A trial's model path may be absolute or relative to the study directory
(the store keeps them relative and gives them back inside the study).
When the file is not where the path says (a study written before paths
were stored relative, then moved or copied; a path relative to where the
run started), the file of the same name in the study's ``models`` folder
is used.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from symtuner.core.errors import ConfigError, StudyError
from symtuner.core.records import Trial, TrialState
from symtuner.storage.layout import MODELS_DIR

if TYPE_CHECKING:
    import keras

#: The study's folder of model files.


def load_model(study_dir: Path | str, trial_number: int | None = None, *,
               custom_objects: Mapping[str, Any] | None = None) -> keras.Model:
    """The trained model of one trial, compiled and ready for ``predict`` and ``evaluate``.

    ``trial_number`` None: the best complete trial by the study's objective
    and direction (:func:`symtuner.tuning.advisor.best_trial`). The model is
    compiled as the trials train (:func:`symtuner.training.training.compile_model`):
    sparse categorical cross-entropy, ``accuracy`` and ``data_loss`` (the
    cross-entropy without the L2 term), with a fresh optimizer from the
    trial's optimizer and learning rate, as the saved file holds no
    optimizer state. ``custom_objects`` is passed to Keras for the custom
    layers of a network of one's own. Raises StudyError naming the trial
    when it does not exist, is not complete, or its model file is missing.
    """
    study = Path(study_dir)
    trials, maximize = read_trials(study)
    trial = select_trial(study, trials, trial_number, maximize)
    return _load(study, trial, custom_objects)


def best_models(study_dir: Path | str, k: int, *,
                custom_objects: Mapping[str, Any] | None = None) -> list[tuple[Trial, keras.Model]]:
    """The ``k`` best complete trials that still have their model file, best first, with their models.

    Ranked as :func:`rank_trials` does (ties: the earlier trial first).
    Trials whose file was deleted (:func:`prune_models`) are passed over,
    so fewer than ``k`` pairs come back when fewer models are saved. The
    models are compiled as :func:`load_model`'s are.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError(f"the number of models k must be a positive integer, got {k!r}")
    study = Path(study_dir)
    trials, maximize = read_trials(study)
    saved = [trial for trial in rank_trials(trials, maximize) if _existing(study, trial) is not None]
    return [(trial, _load(study, trial, custom_objects)) for trial in saved[:k]]


def export_model(study_dir: Path | str, out_path: Path | str, trial_number: int | None = None, *,
                 overwrite: bool = False) -> Path:
    """Copy a trial's model file (default: the best trial's) to ``out_path``; returns the file written.

    ``out_path`` is a ``.keras`` file, or an existing directory to copy
    into under the model's own name. An existing file is replaced only with
    ``overwrite=True``. The copy is written under a temporary name and
    renamed, so ``out_path`` never holds half a file.
    """
    study = Path(study_dir)
    trials, maximize = read_trials(study)
    trial = select_trial(study, trials, trial_number, maximize)
    target = Path(out_path)
    if not target.is_dir() and target.suffix != ".keras":
        raise ConfigError(f"the export path {target} must end in .keras (Keras loads only such files)")
    source = _required_file(study, trial)
    if target.is_dir():
        target = target / source.name
    if target.exists() and target.resolve() == source.resolve():
        raise ConfigError(f"the export path {target} is trial {trial.number}'s own model file")
    if target.exists() and not overwrite:
        raise ConfigError(f"{target} already exists; pass overwrite=True to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    try:
        shutil.copyfile(source, partial)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return target


def prune_models(study_dir: Path | str, trials: Sequence[Trial], keep: int, maximize: bool) -> list[Path]:
    """Delete the model files of all trials but the ``keep`` best complete ones and the latest one.

    ``keep`` <= 0 keeps every file. The best are ranked as
    :func:`rank_trials` does; the latest is the trial with the highest
    number (the one a reader of a running study looks at). A running
    trial's file is never deleted (it may be written right now), nor a file
    outside the study directory (a path from a study this one was copied
    from). Returns the files deleted; a file already gone is not an error.
    """
    if isinstance(keep, bool) or not isinstance(keep, int):
        raise ConfigError(f"the number of models to keep must be an integer, got {keep!r}")
    if keep <= 0 or not trials:
        return []
    study = Path(study_dir)
    kept = {trial.number for trial in rank_trials(trials, maximize)[:keep]}
    kept.add(max(trial.number for trial in trials))
    deleted: list[Path] = []
    for trial in trials:
        if trial.number in kept or trial.state == TrialState.RUNNING:
            continue
        path = _existing(study, trial)
        if path is None or not _inside(study, path):
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        deleted.append(path)
    return deleted


def read_trials(study_dir: Path) -> tuple[list[Trial], bool]:
    """A study's trials (without their curves) and whether its objective is maximised."""
    from symtuner.core.settings import stored_settings
    from symtuner.storage import StudyStore

    with StudyStore.open(study_dir, readonly=True) as store:
        return store.trials(with_curves=False), stored_settings(store).maximize


def rank_trials(trials: Sequence[Trial], maximize: bool) -> list[Trial]:
    """Complete trials with a finite objective within the study's hard limits, best first (ties: the
    earlier trial first).

    The first is :func:`symtuner.tuning.advisor.best_trial`'s choice.
    """
    done = [t for t in trials if t.is_complete and t.objective is not None and math.isfinite(t.objective)
            and not t.infeasible]
    sign = 1.0 if maximize else -1.0
    return sorted(done, key=lambda t: (-sign * float(t.objective), t.number))  # type: ignore[arg-type]


def select_trial(study_dir: Path, trials: Sequence[Trial], trial_number: int | None, maximize: bool) -> Trial:
    """The trial asked for (default: the best), which must be complete (StudyError otherwise)."""
    if trial_number is None:
        ranked = rank_trials(trials, maximize)
        if not ranked:
            over = " within its limits" if any(t.infeasible for t in trials) else ""
            raise StudyError(f"study {study_dir} has no complete trial with a finite objective{over} yet, "
                             "so it has no best model")
        return ranked[0]
    if isinstance(trial_number, bool) or not isinstance(trial_number, int):
        raise ConfigError(f"a trial number must be an integer, got {trial_number!r}")
    found = next((trial for trial in trials if trial.number == trial_number), None)
    if found is None:
        numbers = [trial.number for trial in trials]
        have = f"its trials are {numbers[0]}..{numbers[-1]}" if numbers else "it has no trials"
        raise StudyError(f"study {study_dir} has no trial {trial_number} ({have})")
    if not found.is_complete:
        raise StudyError(f"trial {trial_number} of study {study_dir} is {found.state}, not complete: "
                         "it has no trained model")
    return found


def model_file(study_dir: Path, trial: Trial) -> Path | None:
    """Where ``trial``'s model file is, or would be (None: the trial has no model path).

    Of the stored path (the store gives it inside the study directory) and the
    file of that name in the study's ``models`` folder, the first that
    exists, preferring one inside the study directory; the stored path when
    neither exists.
    """
    if not trial.model_path:
        return None
    stored = Path(trial.model_path)  # the store gives it inside the study directory, usable from here
    candidates = sorted([stored, Path(study_dir) / MODELS_DIR / stored.name],
                        key=lambda path: not _inside(Path(study_dir), path))
    return next((path for path in candidates if path.is_file()), stored)


def _existing(study_dir: Path, trial: Trial) -> Path | None:
    path = model_file(study_dir, trial)
    return path if path is not None and path.is_file() else None


def _required_file(study_dir: Path, trial: Trial) -> Path:
    """``trial``'s model file, which must exist (StudyError naming the trial otherwise)."""
    path = _existing(study_dir, trial)
    if path is None:
        where = model_file(study_dir, trial)
        raise StudyError(f"trial {trial.number} of study {study_dir} has no model file"
                         + (f" ({where} is missing: it was deleted to keep only the best models, or moved)"
                            if where is not None else ""))
    return path


def _load(study_dir: Path, trial: Trial, custom_objects: Mapping[str, Any] | None) -> keras.Model:
    """Load ``trial``'s model compiled as it trained (the file holds the compile settings and a fresh
    optimizer, no optimizer state: Keras's warning about that is silenced)."""
    import keras

    import symtuner.training.keras_metrics  # noqa: F401 (registers symtuner's metric classes for loading)

    path = _required_file(study_dir, trial)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*optimizer.*", category=UserWarning)
            model = keras.saving.load_model(path, custom_objects=dict(custom_objects or {}), compile=True)
    except Exception as exc:
        raise StudyError(f"the model file of trial {trial.number} ({path}) cannot be loaded: "
                         f"{type(exc).__name__}: {exc}") from None
    return model


#: Most bytes of a ``.keras`` file's ``config.json`` that are read (a real network's is kilobytes).
MAX_CONFIG_BYTES = 16 * 2**20


def read_keras_config(path: Path) -> dict[str, Any]:
    """The ``config.json`` of the ``.keras`` archive at ``path``, read without Keras and without trusting
    it: StudyError naming the file when it is missing, not a Keras archive, larger than
    :data:`MAX_CONFIG_BYTES` once uncompressed, or nested too deeply to decode."""
    import json
    import zipfile

    path = Path(path)
    if not path.is_file():
        raise StudyError(f"model file {path} does not exist")
    try:
        with zipfile.ZipFile(path) as archive, archive.open("config.json") as member:
            data = member.read(MAX_CONFIG_BYTES + 1)
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError, EOFError) as exc:
        raise StudyError(f"model file {path} is not a Keras archive: {exc}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise StudyError(f"model file {path} has a config.json of more than {MAX_CONFIG_BYTES // 2**20} MB; "
                         "a network's is kilobytes: it is not read")
    try:
        config = json.loads(data)
    except RecursionError:
        raise StudyError(f"model file {path} has a config.json nested too deeply to read") from None
    except ValueError as exc:
        raise StudyError(f"model file {path} is not a Keras archive: {exc}") from None
    if not isinstance(config, dict):
        raise StudyError(f"model file {path} has a config.json that is not an object")
    return config


def _inside(study_dir: Path, path: Path) -> bool:
    """Whether ``path`` resolves to somewhere inside ``study_dir``."""
    root = Path(study_dir).resolve()
    return root in path.resolve().parents
