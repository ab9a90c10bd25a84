"""A user's own pieces that used to fail silently, or with a message that did not help."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from symtuner.app.cli import main
from symtuner.core.errors import ConfigError, RulesError
from symtuner.core.settings import StudySettings
from symtuner.core.space import Real, SearchSpace
from symtuner.data.loaders import dataset_from_values
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.storage import StudyStore
from symtuner.study.seeds import epochs_used
from symtuner.symbolic.rules import load_rules
from symtuner.tuner import Tuner
from symtuner.tuning.actions.describe import describe_change


def test_a_data_function_in_keras_order_is_told_the_order_expected() -> None:
    x, y = np.zeros((10, 8, 8, 1), dtype=np.float32), np.arange(10) % 2
    with pytest.raises(ConfigError, match=r"\(\(x_train, y_train\), \(x_test, y_test\)\), the order keras.datasets' "
                                          r"load_data\(\) returns; return x_train, x_test, y_train, y_test, n_classes"):
        dataset_from_values(((x, y), (x, y)), "data.py:load")


def test_a_misspelt_threshold_in_a_rules_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mine.pl").write_text("threshold(acc_gpa, 0.1).\n")
    with pytest.raises(RulesError, match=r"mine.pl:1: threshold 'acc_gpa' is read by no rule \(a misspelt name\?\)"):
        load_rules(tmp_path)
    (tmp_path / "mine.pl").write_text("threshold(acc_gap, 0.1).\n")  # spelt right: an override
    assert load_rules(tmp_path).thresholds["acc_gap"] == 0.1


def test_export_tells_a_command_line_user_the_option_to_overwrite(tmp_path: Path, tiny_dataset, capsys) -> None:
    study = tmp_path / "s"
    Tuner(study, dataset=tiny_dataset, executor_factory=lambda *a: SimulatedExecutor(*a, write_files=True),
          quiet=True).run(1)
    (tmp_path / "best.keras").write_bytes(b"mine")
    assert main(["export", str(study), "-o", str(tmp_path / "best.keras")]) == 2
    err = capsys.readouterr().err
    assert "already exists; add --overwrite to replace it" in err and "overwrite=True" not in err
    assert main(["export", str(study), "-o", str(tmp_path / "best.keras"), "--overwrite"]) == 0


def test_an_epoch_budget_is_never_exceeded(tmp_path: Path, tiny_dataset) -> None:
    settings = StudySettings(epochs=3, stop_early=False)
    Tuner(tmp_path / "s", dataset=tiny_dataset, settings=settings, executor_factory=SimulatedExecutor,
          quiet=True).run(budget_epochs=4)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        assert epochs_used(store.trials()) == 3  # one 3-epoch trial; a second would have run 6 of 4
    with pytest.raises(ConfigError, match="the epoch budget 2 is smaller than one trial's 3 epochs"):
        Tuner(tmp_path / "t", dataset=tiny_dataset, settings=settings, executor_factory=SimulatedExecutor,
              quiet=True).run(budget_epochs=2)
    assert not (tmp_path / "t").exists()


def test_a_learning_rate_reads_the_same_wherever_it_is_printed(tmp_path: Path, tiny_dataset, capsys) -> None:
    from symtuner.app.console import started_line
    from symtuner.core.architecture import Architecture

    rate = 0.000213961
    assert "learning_rate=0.000214" in started_line(1, 1, 1, {"learning_rate": rate})
    old = SearchSpace((Real("learning_rate", 1e-4, 1e-3, "log-uniform"),))
    new = old.with_bounds("learning_rate", rate, 1e-3)
    assert describe_change(old, Architecture(), new, Architecture()) == ["learning_rate low 0.0001 -> 0.000214"]
    close = old.with_bounds("learning_rate", 1.00001e-4, 1e-3)  # three digits would hide the change
    assert describe_change(old, Architecture(), close, Architecture()) == ["learning_rate low 0.0001 -> 0.000100001"]
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_the_read_recorder_counts_single_and_bulk_reads() -> None:
    from symtuner.training.hparams import ReadRecorder

    params = ReadRecorder({"units": 32, "dropout": 0.1, "l2": 1e-4})
    assert params["units"] == 32 and params.get("l2") == 1e-4
    assert params.unread() == ["dropout"]
    assert "dropout" in params and params.unread() == []
    logged = ReadRecorder({"units": 32, "dropout": 0.1})
    assert dict(logged.items()) == {"units": 32, "dropout": 0.1} and logged.unread() == []


def _network_ignoring_dropout(params, architecture, input_shape, n_classes):
    import keras

    return keras.Sequential([keras.Input(input_shape), keras.layers.Flatten(),
                             keras.layers.Dense(int(params["units"]), activation="relu"),
                             keras.layers.Dense(n_classes, activation="softmax")])


@pytest.mark.keras
def test_hyper_parameters_the_network_never_reads_are_warned_about_once(tmp_path: Path, tiny_dataset) -> None:
    import io

    from symtuner.app.display import auto_progress
    from symtuner.core.space import Integer

    space = SearchSpace((Integer("units", 8, 16), Real("dropout", 0.0, 0.5), Real("learning_rate", 1e-3, 1e-2)))
    out = io.StringIO()
    with auto_progress("val_accuracy", stream=out) as progress:
        Tuner(tmp_path / "s", dataset=tiny_dataset, space=space, network=_network_ignoring_dropout,
              settings=StudySettings(epochs=1), progress=progress).run(2)
    warnings = [line for line in out.getvalue().splitlines() if "never read" in line]
    assert warnings == ["  #1 warning: the network never read dropout: tuned for nothing (read them in the network "
                        "function, or take them out of the search space)"]
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        assert [t.extra.get("unread_params") for t in store.trials()] == [["dropout"], ["dropout"]]
    # the default network reads every HP of its default space
    Tuner(tmp_path / "d", dataset=tiny_dataset, settings=StudySettings(epochs=1), quiet=True).run(1)
    with StudyStore.open(tmp_path / "d", readonly=True) as store:
        assert "unread_params" not in store.trials()[0].extra
