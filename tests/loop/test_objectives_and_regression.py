"""Beyond accuracy: regression studies end to end, any logged metric as the objective, models compiled
by their author."""

import math

import keras
import numpy as np
import pytest

from symtuner.app.cli import main
from symtuner.core.errors import ConfigError
from symtuner.core.metrics import check_task, objective_direction
from symtuner.core.settings import StudySettings, stored_settings
from symtuner.data import load_dataset
from symtuner.storage import StudyStore
from symtuner.tuner import Tuner

pytestmark = pytest.mark.keras


# -- objectives and their direction (no Keras) ---------------------------------------------------------------

@pytest.mark.parametrize("objective, maximize", [
    ("val_accuracy", True), ("val_auc", True), ("val_top5_accuracy", True), ("val_r2", True),
    ("val_loss", False), ("val_mae", False), ("val_rmse", False), ("val_mean_squared_error", False),
])
def test_the_direction_is_read_from_the_objectives_name(objective, maximize):
    assert objective_direction(objective) is maximize
    assert objective_direction(objective, "min" if maximize else "max") is not maximize  # a given one wins


@pytest.mark.parametrize("settings, message", [
    ({"objective": "accuracy"}, "must name a metric logged on the validation set"),
    ({"objective": "val_"}, "must name a metric logged on the validation set"),
    ({"objective": "val_widgets"}, "cannot tell whether objective 'val_widgets' is better high or low"),
    ({"objective": "val_auc", "direction": "up"}, r"direction 'up' is not one of \['auto', 'max', 'min'\]"),
    ({"metrics": ["f1"]}, "unknown metric 'f1'"),
    ({"metrics": "auc"}, "metrics must be a list of names"),
])
def test_bad_objectives_and_metrics_are_named(settings, message):
    with pytest.raises(ConfigError, match=message):
        StudySettings(**settings)


def test_an_unknown_metric_name_with_a_direction_is_accepted():
    assert StudySettings(objective="val_widgets", direction="max").maximize


def test_an_extra_metric_objective_logs_its_metric_and_auto_resolves_per_task():
    assert StudySettings(objective="val_auc").metrics == ("auc",)
    auto = StudySettings()
    assert auto.objective == "auto" and auto.for_task(True).objective == "val_loss"
    assert auto.for_task(False).objective == "val_accuracy" and not auto.for_task(True).maximize


@pytest.mark.parametrize("objective, metrics, message", [
    ("val_accuracy", (), "needs a classification, and this data set is a regression"),
    ("val_loss", ("auc",), "metric 'auc' is for classification, and this is a regression task"),
])
def test_objectives_and_metrics_must_fit_a_regression(objective, metrics, message):
    with pytest.raises(ConfigError, match=message):
        check_task(objective, metrics, regression=True)
    with pytest.raises(ConfigError, match="'mae' is for regression"):
        check_task("val_accuracy", ("mae",), regression=False)


# -- the bundled tabular sets ---------------------------------------------------------------------------

def test_diabetes_is_a_standardised_regression():
    data = load_dataset("diabetes")
    assert data.is_regression and data.n_classes == 0 and data.n_outputs == 1
    assert data.input_shape == (10,) and data.n_train + data.n_test == 442
    assert data.y_train.shape == (data.n_train, 1) and data.y_train.dtype == np.float32
    assert abs(float(data.y_train.mean())) < 1e-5 and data.loss_baseline == pytest.approx(1.0, rel=1e-4)
    assert "regression of 1 target(s)" in data.describe()


def test_regression_targets_are_checked():
    from symtuner.core.errors import DataError
    from symtuner.data.dataset import validate_dataset

    x = np.zeros((10, 3))
    with pytest.raises(DataError, match=r"y_train holds NaN or infinite values \(first in sample 2\)"):
        validate_dataset(x, x, np.array([0, 1, np.nan] + [0] * 7), np.zeros(10), 0)
    with pytest.raises(DataError, match="y_train has 2 target column"):
        validate_dataset(x, x, np.zeros((10, 2)), np.zeros(10), 0)
    with pytest.raises(DataError, match="must hold numbers"):
        validate_dataset(x, x, np.array(["a"] * 10), np.zeros(10), 0)


# -- real studies ----------------------------------------------------------------------------------------------

def test_a_regression_study_runs_end_to_end_with_a_diagnosis_on_the_baseline_scale(tmp_path, capsys):
    study = tmp_path / "diabetes"
    assert main(["run", "--dataset", "diabetes", "--trials", "2", "--epochs", "4", "--study-dir", str(study),
                 "--workers", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "best trial #" in out and "val_loss" in out and "test loss" in out and "test accuracy" not in out
    with StudyStore.open(study, readonly=True) as store:
        settings = stored_settings(store)
        trials = store.trials()
        info = store.data_info()
    assert settings.objective == "val_loss" and not settings.maximize  # "auto" resolved for a regression
    assert info["task"] == "regression" and info["n_outputs"] == 1
    assert len(trials) == 2 and all(t.is_complete for t in trials)
    for trial in trials:
        assert trial.curve.accuracy == () and len(trial.curve.series("val_mae")) == len(trial.curve.loss)
        assert trial.objective == pytest.approx(trial.extra["val_metrics"]["loss"])
        assert "mae" in trial.extra["test_metrics"] and trial.test_accuracy is None
        facts = trial.diagnosis.facts
        assert facts["has_accuracy"] == 0 and facts["n_classes"] == 0
        assert facts["loss_scale"] == pytest.approx(load_dataset("diabetes").loss_baseline)  # not ln(classes)
        assert "accuracy" not in trial.diagnosis.explanation
    assert main(["status", str(study)]) == 0
    status = capsys.readouterr().out
    assert "test_loss" in status and "test_acc" not in status
    assert main(["run", "--dataset", "diabetes", "--trials", "3", "--epochs", "4", "--study-dir", str(study),
                 "--workers", "1", "--quiet"]) == 0  # the auto objective continues the stored val_loss


def test_val_auc_as_the_objective_of_a_classification(tmp_path):
    tuner = Tuner(tmp_path / "auc", dataset="breast-cancer", settings=StudySettings(
        epochs=3, objective="val_auc", n_initial=2), quiet=True)
    best = tuner.run(2)
    assert best is not None
    with StudyStore.open(tmp_path / "auc", readonly=True) as store:
        trials = store.trials()
        assert stored_settings(store).metrics == ("auc",) and stored_settings(store).maximize
    for trial in trials:
        assert 0.0 <= trial.objective <= 1.0
        assert trial.objective == pytest.approx(trial.extra["val_metrics"]["auc"])
        assert len(trial.curve.series("val_auc")) == len(trial.curve.loss) == trial.extra.get("epochs_run",
                                                                                               len(trial.curve.loss))
    model = tuner.best_model()  # compiled as trained: the AUC metric class loads
    data = load_dataset("breast-cancer")
    scores = model.evaluate(data.x_test, data.y_test, verbose=0, return_dict=True)
    assert 0.5 <= scores["auc"] <= 1.0 and math.isfinite(scores["data_loss"])


def test_an_objective_the_trials_do_not_log_fails_before_anything_is_stored(tmp_path):
    with pytest.raises(ConfigError, match="objective 'val_precision' is not logged by the trials; they log "
                                          "val_accuracy, val_loss"):
        Tuner(tmp_path / "s", dataset="breast-cancer",
              settings=StudySettings(epochs=1, objective="val_precision"), quiet=True).run(1)
    assert not (tmp_path / "s" / "study.db").exists()


def huber_regressor(params, arch, input_shape, n_outputs):
    """A regression network its author compiled with a Huber loss and an RMSE metric."""
    inputs = keras.Input(input_shape)
    x = keras.layers.Dense(8, activation="relu")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(n_outputs)(x))
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=keras.losses.Huber(delta=0.5),
                  metrics=[keras.metrics.RootMeanSquaredError(name="rmse")])
    return model


def test_a_regression_compiled_by_its_author_trains_with_its_loss_and_the_objective_it_logs(tmp_path):
    from symtuner.core.space import Categorical, Integer, Real, SearchSpace

    space = SearchSpace((Real("learning_rate", 1e-3, 1e-2, "log-uniform"), Integer("batch_size", 16, 32),
                         Categorical("optimizer", ("Adam",))))
    tuner = Tuner(tmp_path / "huber", dataset="diabetes", network=huber_regressor, space=space,
                  settings=StudySettings(epochs=3, objective="val_rmse", n_initial=2), quiet=True)
    tuner.run(2)
    with StudyStore.open(tmp_path / "huber", readonly=True) as store:
        trials = store.trials()
    for trial in trials:
        assert trial.is_complete and trial.objective == pytest.approx(trial.extra["val_metrics"]["rmse"])
        # the diagnosis measures the user's loss against its own first epoch (its scale is not the MSE's)
        assert trial.diagnosis.facts["loss_scale"] == pytest.approx(max(trial.curve.loss[0],
                                                                        trial.curve.val_loss[0]), rel=1e-5)
    assert all(trial.extra["own_loss"] is False for trial in trials)  # kept for a resume's first trial
    model = tuner.best_model()
    assert type(model.loss).__name__ == "Huber" and type(model.optimizer).__name__ == "Adam"
