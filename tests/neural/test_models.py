"""Saved models: small files that load and predict as trained; loading, ranking, exporting, pruning a study's."""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

from symtuner.core.architecture import Architecture
from symtuner.core.errors import ConfigError, StudyError, TrialFailed
from symtuner.core.records import TrialState
from symtuner.core.settings import StudySettings
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.storage import StudyStore
from symtuner.storage.models import (
    best_models,
    export_model,
    load_model,
    model_file,
    prune_models,
    rank_trials,
)
from symtuner.training import TrainingConfig, TrialSpec, train_trial
from symtuner.training.training import DATA_LOSS, compile_model, save_model
from symtuner.tuner import Tuner
from symtuner.tuning.advisor import best_trial

N_TRIALS = 6
FAILED = 3


class FailsThird(SimulatedExecutor):
    """The simulated trainer, with trial 3 failing (a trial without a model)."""

    def run(self, spec, on_epoch=None):
        if spec.number == FAILED:
            raise TrialFailed(f"trial {FAILED}: training failed: simulated")
        return super().run(spec, on_epoch)


def marked_model(number: int, input_shape: tuple[int, ...], n_classes: int) -> keras.Model:
    """A tiny softmax model whose output bias holds ``number``, to tell which trial's file was loaded."""
    inputs = keras.Input(input_shape)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="out", kernel_initializer="zeros",
                                 bias_initializer=keras.initializers.Constant([number] + [0] * (n_classes - 1)))(
        keras.layers.Flatten()(inputs))
    return keras.Model(inputs, outputs)


def mark(model: keras.Model) -> int:
    return int(round(float(model.get_layer("out").get_weights()[1][0])))


def build_study(directory: Path, dataset, objective: str = "val_accuracy") -> Path:
    """A simulated study, with a small real .keras file at every complete trial's model path."""
    Tuner(directory, dataset=dataset, settings=StudySettings(epochs=3, n_initial=2, symbolic=False,
                                                              objective=objective),
          executor_factory=FailsThird).run(N_TRIALS)
    with StudyStore.open(directory, readonly=True) as store:
        for trial in store.trials():
            if trial.is_complete:
                save_model(marked_model(trial.number, dataset.input_shape, dataset.n_classes),
                           Path(trial.model_path), trial.params)
    return directory


@pytest.fixture(scope="module")
def original(tmp_path_factory, tiny_dataset) -> Path:
    return build_study(tmp_path_factory.mktemp("models") / "study", tiny_dataset)


@pytest.fixture
def study(original, tmp_path) -> Path:
    """A copy of the study, for the tests that delete files (its paths are stored relative to it)."""
    return Path(shutil.copytree(original, tmp_path / "study"))


def trials_of(directory: Path) -> list:
    with StudyStore.open(directory, readonly=True) as store:
        return store.trials(with_curves=False)


# -- the saved file ------------------------------------------------------------------------------------------

@pytest.mark.keras
def test_save_model_drops_the_optimizer_state_and_keeps_the_weights(tmp_path, tiny_dataset):
    params = {"optimizer": "Adam", "learning_rate": 1e-3}
    inputs = keras.Input(tiny_dataset.input_shape)
    hidden = keras.layers.Dense(64, activation="relu")(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(hidden))
    compile_model(model, params)
    model.fit(tiny_dataset.x_train, tiny_dataset.y_train, epochs=1, verbose=0)
    model.save(tmp_path / "full.keras")  # Keras's default: Adam's two moments per weight as well
    save_model(model, tmp_path / "sub" / "small.keras", params)
    weights_bytes = 4 * model.count_params()
    full, small = (tmp_path / "full.keras").stat().st_size, (tmp_path / "sub" / "small.keras").stat().st_size
    assert small < full - 1.8 * weights_bytes
    assert small < 1.3 * weights_bytes + 40_000  # weights, config and the file structure only
    with zipfile.ZipFile(tmp_path / "sub" / "small.keras") as archive, \
            archive.open("model.weights.h5") as raw, h5py.File(raw) as weights:
        assert len(weights["optimizer/vars"]) <= 2  # the unbuilt optimizer: iteration count and learning rate


@pytest.mark.keras
def test_a_trained_trial_saves_a_small_file_that_predicts_as_the_trained_model(tmp_path, tiny_dataset):
    built: list[keras.Model] = []

    def network(params, arch, input_shape, n_classes):
        built.append(marked_model(0, input_shape, n_classes))
        return built[-1]

    spec = TrialSpec(number=1, params={"optimizer": "Adamax", "learning_rate": 1e-2, "batch_size": 16},
                     architecture=Architecture(), seed=0, model_path=tmp_path / "m.keras", log_dir=tmp_path / "logs")
    result = train_trial(spec, tiny_dataset, network, TrainingConfig(epochs=2, tensorboard=False))
    loaded = keras.saving.load_model(result.model_path, compile=False)
    x = tiny_dataset.x_test
    assert np.array_equal(loaded.predict(x, verbose=0), built[0].predict(x, verbose=0))
    assert np.abs(loaded.get_layer("out").get_weights()[0]).max() > 0  # trained, not the zeros it began as
    with zipfile.ZipFile(result.model_path) as archive, archive.open("model.weights.h5") as raw, \
            h5py.File(raw) as weights:
        assert len(weights["optimizer/vars"]) <= 2


# -- loading -------------------------------------------------------------------------------------------------

@pytest.mark.keras
def test_load_model_gives_the_best_trial_compiled_for_evaluate(original, tiny_dataset):
    trials = trials_of(original)
    best = best_trial(trials, maximize=True)
    model = load_model(original)
    assert mark(model) == best.number
    scores = model.evaluate(tiny_dataset.x_test, tiny_dataset.y_test, verbose=0, return_dict=True)
    assert set(scores) == {"loss", "accuracy", DATA_LOSS}
    assert type(model.optimizer).__name__ == best.params["optimizer"]
    assert model.predict(tiny_dataset.x_test[:2], verbose=0).shape == (2, 3)


@pytest.mark.keras
def test_load_model_by_number_from_a_copied_study(study):
    for number in (1, 2, N_TRIALS):
        assert mark(load_model(study, number)) == number
    first = trials_of(study)[0]
    assert model_file(study, first) == study / "models" / "trial_0001.keras"
    relative = replace(first, model_path="models/trial_0001.keras")  # as a reader of the raw row sees it
    assert model_file(study, relative) == study / "models" / "trial_0001.keras"


@pytest.mark.keras
def test_a_path_from_where_the_study_was_first_run_falls_back_to_its_models_folder(study, tmp_path):
    """Studies written before paths were stored relative hold absolute paths of where they ran."""
    gone = tmp_path / "where-it-ran" / "models" / "trial_0002.keras"
    with StudyStore.open(study) as store:
        store.set_model_files(2, str(gone), str(gone.parent.parent / "logs" / "trial_0002"))
    (second,) = [t for t in trials_of(study) if t.number == 2]
    assert Path(second.model_path) == gone
    assert model_file(study, second) == study / "models" / "trial_0002.keras"
    assert mark(load_model(study, 2)) == 2


@pytest.mark.keras
def test_the_direction_of_the_objective_picks_the_best(tmp_path, tiny_dataset):
    directory = build_study(tmp_path / "loss-study", tiny_dataset, objective="val_loss")
    trials = trials_of(directory)
    lowest = min((t for t in trials if t.is_complete), key=lambda t: t.objective)
    assert mark(load_model(directory)) == lowest.number == best_trial(trials, maximize=False).number
    assert [t.number for t, _ in best_models(directory, 2)] == [t.number for t in rank_trials(trials, False)[:2]]


@pytest.mark.parametrize("number, message", [
    (99, r"has no trial 99 \(its trials are 1\.\.6\)"),
    (FAILED, f"trial {FAILED} of study .* is failed, not complete"),
])
def test_a_trial_without_a_model_is_a_study_error_naming_it(original, number, message):
    with pytest.raises(StudyError, match=message):
        load_model(original, number)
    with pytest.raises(StudyError, match=message):
        export_model(original, original.parent / "out.keras", number)


def test_a_deleted_model_file_is_a_study_error_naming_the_trial(study):
    (study / "models" / "trial_0002.keras").unlink()
    with pytest.raises(StudyError, match=r"trial 2 of study .* has no model file \(.*trial_0002.keras is missing"):
        load_model(study, 2)
    with pytest.raises(StudyError, match="trial 2 .* has no model file"):
        export_model(study, study.parent / "out.keras", 2)


def test_a_study_without_complete_trials_has_no_best_model(tmp_path):
    empty = tmp_path / "empty"
    StudyStore.create(empty, StudySettings().to_dict()).close()
    with pytest.raises(StudyError, match="no complete trial"):
        load_model(empty)


# -- ranking -------------------------------------------------------------------------------------------------

@pytest.mark.keras
def test_best_models_come_best_first_and_pass_over_deleted_files(study):
    trials = trials_of(study)
    ranked = rank_trials(trials, maximize=True)
    assert ranked[0] == best_trial(trials, maximize=True)
    objectives = [t.objective for t in ranked]
    assert objectives == sorted(objectives, reverse=True)
    assert {t.number for t in ranked} == {t.number for t in trials if t.is_complete}
    pairs = best_models(study, 3)
    assert [t.number for t, _ in pairs] == [t.number for t in ranked[:3]]
    assert all(mark(model) == trial.number for trial, model in pairs)
    (study / "models" / f"trial_{ranked[0].number:04d}.keras").unlink()
    assert [t.number for t, _ in best_models(study, 3)] == [t.number for t in ranked[1:4]]
    assert len(best_models(study, 50)) == len(ranked) - 1
    with pytest.raises(ConfigError, match="k must be a positive integer, got 0"):
        best_models(study, 0)


def test_ties_go_to_the_earlier_trial(original):
    trials = [replace(t, objective=0.5) if t.is_complete else t for t in trials_of(original)]
    assert [t.number for t in rank_trials(trials, maximize=True)] == [1, 2, 4, 5, 6]
    assert [t.number for t in rank_trials(trials, maximize=False)] == [1, 2, 4, 5, 6]
    nan = [replace(t, objective=float("nan")) if t.number == 1 else t for t in trials]
    assert 1 not in [t.number for t in rank_trials(nan, maximize=True)]


# -- exporting -----------------------------------------------------------------------------------------------

@pytest.mark.keras
def test_export_copies_the_best_model_and_refuses_to_overwrite(study, tmp_path):
    best = best_trial(trials_of(study), maximize=True)
    out = tmp_path / "exported" / "best.keras"
    assert export_model(study, out) == out
    assert out.read_bytes() == (study / "models" / f"trial_{best.number:04d}.keras").read_bytes()
    assert mark(keras.saving.load_model(out, compile=False)) == best.number
    with pytest.raises(ConfigError, match=f"{out} already exists; pass overwrite=True"):
        export_model(study, out, 1)
    assert mark(keras.saving.load_model(out, compile=False)) == best.number  # unchanged
    assert export_model(study, out, 1, overwrite=True) == out
    assert mark(keras.saving.load_model(out, compile=False)) == 1
    assert export_model(study, tmp_path / "exported", 2) == tmp_path / "exported" / "trial_0002.keras"
    assert sorted(p.name for p in (tmp_path / "exported").iterdir()) == ["best.keras", "trial_0002.keras"]


def test_export_paths_that_cannot_work_are_refused(study, tmp_path):
    with pytest.raises(ConfigError, match="must end in .keras"):
        export_model(study, tmp_path / "model.h5")
    own = study / "models" / "trial_0001.keras"
    with pytest.raises(ConfigError, match="trial 1's own model file"):
        export_model(study, own, 1, overwrite=True)
    assert own.is_file()


# -- pruning -------------------------------------------------------------------------------------------------

def test_prune_keeps_the_best_and_the_latest(study):
    trials = trials_of(study)
    ranked = rank_trials(trials, maximize=True)
    files = {t.number: study / "models" / f"trial_{t.number:04d}.keras" for t in trials if t.is_complete}
    keep = {ranked[0].number, ranked[1].number, N_TRIALS}
    deleted = prune_models(study, trials, keep=2, maximize=True)
    assert sorted(deleted) == sorted(path for number, path in files.items() if number not in keep)
    assert deleted and all(not path.exists() for path in deleted)
    assert all(files[number].is_file() for number in keep)
    assert prune_models(study, trials, keep=2, maximize=True) == []  # nothing left to delete
    assert {mark(load_model(study, number)) for number in keep} == keep


def test_prune_by_the_objective_direction_and_keep_zero_keeps_all(study):
    trials = trials_of(study)
    assert prune_models(study, trials, keep=0, maximize=True) == []
    assert prune_models(study, trials, keep=-1, maximize=True) == []
    worst_first = rank_trials(trials, maximize=False)
    deleted = prune_models(study, trials, keep=1, maximize=False)
    kept = {worst_first[0].number, N_TRIALS}
    assert {int(p.stem.split("_")[1]) for p in deleted} == {t.number for t in worst_first} - kept
    with pytest.raises(ConfigError, match="to keep must be an integer, got '2'"):
        prune_models(study, trials, keep="2", maximize=True)  # type: ignore[arg-type]


def test_prune_never_touches_running_trials_or_files_outside_the_study(study, original, tmp_path):
    trials = trials_of(study)
    ranked = rank_trials(trials, maximize=True)
    running = ranked[-1]
    outside = tmp_path / "elsewhere" / "trial_0099.keras"
    outside.parent.mkdir()
    shutil.copyfile(study / "models" / "trial_0001.keras", outside)
    changed = [replace(t, state=TrialState.RUNNING) if t.number == running.number else t for t in trials]
    changed.append(replace(trials[0], number=99, model_path=str(outside)))
    changed.append(replace(trials[0], number=100, model_path=None))
    deleted = prune_models(study, changed, keep=1, maximize=True)
    assert (study / "models" / f"trial_{running.number:04d}.keras").is_file()
    assert outside.is_file() and outside not in deleted
    assert all(study.resolve() in path.resolve().parents for path in deleted)
    assert all(p.is_file() for p in (original / "models").iterdir())  # the study it was copied from
