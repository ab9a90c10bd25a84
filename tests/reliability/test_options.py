"""Options a run takes: the config takes what the command line takes, options that do not apply are
warned about once the study starts, objectives that cannot vary and ranges no training uses are refused."""

from __future__ import annotations

import pytest

import symtuner.study.tuner as tuner_module
from symtuner.app.cli import main
from symtuner.core.errors import ConfigError
from symtuner.core.execution import ExecutionSettings
from symtuner.core.metrics import check_task
from symtuner.core.settings import StudySettings, keep_models_value, load_config
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.storage import StudyStore

from .bad_inputs import DATA_PY


@pytest.mark.parametrize("given, kept", [('"all"', 0), ('"best"', 1), ("3", 3)])
def test_the_config_takes_keep_models_as_the_command_line_does(tmp_path, given, kept):
    (tmp_path / "c.toml").write_text(f"[study]\nkeep_models = {given}\n")
    settings = StudySettings.from_dict(load_config(tmp_path / "c.toml").settings)
    assert settings.keep_models == kept == keep_models_value(given.strip('"') if '"' in given else int(given))


@pytest.fixture
def simulated(monkeypatch):
    """``symtuner run`` with simulated trainings."""
    original = tuner_module.Tuner.__init__

    def init(self, *args, **kwargs):
        kwargs["executor_factory"] = SimulatedExecutor
        original(self, *args, **kwargs)

    monkeypatch.setattr(tuner_module.Tuner, "__init__", init)


def test_execution_options_that_do_not_apply_are_warned_about(tmp_path, monkeypatch, simulated, capfd):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.py").write_text(DATA_PY)
    assert main(["run", "--study-dir", "s", "--dataset", "data.py:tiny", "--trials", "1", "--epochs", "1",
                 "--gpus-per-trial", "1", "--threads-per-trial", "2", "--retries", "1", "--quiet"]) == 0
    err = capfd.readouterr().err
    assert "gpus_per_trial (--gpus-per-trial) applies to Ray tasks only" in err
    assert "threads_per_trial (--threads-per-trial) applies to worker processes only" in err
    assert "retries (--retries) applies to worker processes only" in err
    assert all(line.startswith("symtuner: warning:") for line in err.splitlines() if line.strip())
    # a run refused for another reason prints its one error line, no warning
    assert main(["run", "--study-dir", "t", "--dataset", "imagenet", "--gpus-per-trial", "1"]) == 2
    err = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "imagenet" in err[0]


def test_which_execution_settings_apply():
    given = ("workers", "threads_per_trial", "cpus_per_trial", "gpus_per_trial", "spare_workers", "retries",
             "reproducible")
    assert [line.split()[0] for line in ExecutionSettings().unused(given)] == [
        "threads_per_trial", "cpus_per_trial", "gpus_per_trial", "spare_workers", "retries", "reproducible"]
    assert [line.split()[0] for line in ExecutionSettings(workers=2).unused(given)] == [
        "cpus_per_trial", "gpus_per_trial"]
    assert [line.split()[0] for line in ExecutionSettings(workers=2, ray="auto").unused(given)] == ["spare_workers"]
    # isolate: one worker, but in worker processes, so their settings apply
    assert [line.split()[0] for line in ExecutionSettings(isolate=True).unused(given)] == [
        "cpus_per_trial", "gpus_per_trial", "reproducible"]
    assert [line.split()[0] for line in ExecutionSettings(ray="auto", isolate=True).unused(("isolate",))] == [
        "isolate"]


def test_an_objective_that_cannot_vary_is_refused_where_it_cannot():
    with pytest.raises(ConfigError, match="val_top5_accuracy.* 5 classes"):
        check_task("val_top5_accuracy", ("top5_accuracy",), False, 5)
    check_task("val_top5_accuracy", ("top5_accuracy",), False, 6)


def test_a_kept_study_resumes_with_keep_models_all_from_a_config(tmp_path, monkeypatch, simulated):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.py").write_text(DATA_PY)
    (tmp_path / "c.toml").write_text('[study]\ndataset = "data.py:tiny"\ntrials = 2\nepochs = 1\nkeep_models = "all"\n')
    assert main(["run", "--study-dir", "s", "--config", "c.toml", "--quiet"]) == 0
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        assert store.settings()["keep_models"] == 0
