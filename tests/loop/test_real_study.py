"""Real (tiny) Keras studies end to end: files on disk, actions that reach the saved model."""

import os

import keras
import numpy as np
import pytest

from symtuner.app.cli import main
from symtuner.core.records import TrialState
from symtuner.core.settings import StudySettings
from symtuner.storage import StudyStore
from symtuner.tuner import Tuner

pytestmark = pytest.mark.keras

SMALL_SPACE = """
[[space]]
type = "int"
name = "unit_c1"
low = 4
high = 8
[[space]]
type = "real"
name = "dr1_2"
low = 0.0
high = 0.2
[[space]]
type = "int"
name = "unit_c2"
low = 4
high = 8
[[space]]
type = "int"
name = "unit_d"
low = 8
high = 16
[[space]]
type = "real"
name = "dr_f"
low = 0.0
high = 0.2
[[space]]
type = "real"
name = "learning_rate"
low = 0.001
high = 0.01
prior = "log-uniform"
[[space]]
type = "int"
name = "batch_size"
low = 16
high = 32
[[space]]
type = "cat"
name = "optimizer"
categories = ["Adam"]
[[space]]
type = "cat"
name = "activation"
categories = ["relu", "elu"]
"""


def test_cli_study_on_a_user_data_function(tmp_path, capsys):
    data = tmp_path / "mydata.py"
    data.write_text(
        "import numpy as np\n"
        "def load():\n"
        "    rng = np.random.default_rng(1)\n"
        "    x = rng.random((80, 16, 16), dtype=np.float32)\n"
        "    y = np.arange(80) % 4\n"
        "    x[np.arange(80), y * 4, y * 4] = 4.0  # a learnable mark per class\n"
        "    return x[:64], x[64:], y[:64], y[64:], 4\n")
    config = tmp_path / "study.toml"
    config.write_text("[study]\nepochs = 2\nn_initial = 2\n" + SMALL_SPACE)
    study = tmp_path / "study"
    code = main(["run", "--study-dir", str(study), "--config", str(config), "--dataset", f"{data}:load",
                 "--trials", "2"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "trial 1/2 (#1)" in out and "epoch 2/2" in out and "diagnosis:" in out
    assert "best trial #" in out
    with StudyStore.open(study, readonly=True) as store:
        trials = store.trials()
        assert [t.state for t in trials] == [TrialState.COMPLETE] * 2
        for trial in trials:
            assert os.path.isfile(trial.model_path)
            assert any(files for _, _, files in os.walk(trial.log_dir)), "TensorBoard logs written"
            assert 0.0 <= trial.test_accuracy <= 1.0
            assert trial.curve.n_epochs >= 1
    model = keras.models.load_model(trials[0].model_path, compile=False)
    assert model.output_shape == (None, 4)
    # the best model back: exported by the CLI, or from the API ready to use
    capsys.readouterr()
    assert main(["export", str(study), "-o", str(tmp_path / "best.keras")]) == 0
    best = max((t for t in trials), key=lambda t: (t.objective, -t.number))
    assert f"model of trial #{best.number} (the best, objective" in capsys.readouterr().out
    exported = keras.saving.load_model(tmp_path / "best.keras", compile=False)
    ready = Tuner(study).best_model()
    sample = np.random.default_rng(0).random((3, 16, 16, 1), dtype=np.float32)
    np.testing.assert_allclose(exported.predict(sample, verbose=0), ready.predict(sample, verbose=0), rtol=1e-6)
    assert set(ready.evaluate(sample, np.array([0, 1, 2]), verbose=0, return_dict=True)) >= {"accuracy"}
    assert main(["export", str(study), "-o", str(tmp_path / "best.keras")]) == 2  # never overwritten silently
    assert "best.keras" in capsys.readouterr().err
    assert main(["export", str(study), "--trial", "1", "-o", str(tmp_path / "best.keras"), "--overwrite"]) == 0


def test_rerunning_the_command_continues_the_study_and_a_different_one_says_what_differs(tmp_path, capsys):
    config = tmp_path / "study.toml"
    config.write_text("[study]\nepochs = 1\nn_initial = 1\n" + SMALL_SPACE)
    command = ["run", "--study-dir", str(tmp_path / "s"), "--config", str(config), "--dataset", "digits-small",
               "--quiet"]
    assert main(command + ["--trials", "1"]) == 0
    assert main(command + ["--trials", "2"]) == 0  # the same command, a higher target: continued
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        assert len(store.trials()) == 2
    capsys.readouterr()
    config.write_text("[study]\nepochs = 2\nn_initial = 1\n" + SMALL_SPACE.replace("high = 16\n", "high = 24\n", 1))
    assert main(command + ["--trials", "3"]) == 2
    err = capsys.readouterr().err
    assert "stored -> given: epochs 1 -> 2; search space: unit_d 8..16 -> unit_d 8..24)" in err
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        assert len(store.trials()) == 2


def test_overfitting_diagnosis_puts_l2_in_the_next_saved_model_and_guards_batch_norm(tmp_path, tiny_dataset):
    # Overriding the thresholds makes every one-epoch curve "overfit" and nothing else: the test is about
    # what follows.
    overfit_only = {"acc_gap": -2.0, "loss_gap": -100.0, "min_epochs": 1, "low_skill": -1.0, "still_move": -1.0,
                    "stuck_acc": -1.0}
    settings = StudySettings(epochs=1, n_initial=2, thresholds=overfit_only)
    from symtuner.core.settings import load_config

    (tmp_path / "space.toml").write_text(SMALL_SPACE)
    space = load_config(tmp_path / "space.toml").space
    Tuner(tmp_path / "s", dataset=tiny_dataset, space=space, settings=settings).run(2)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        first, second = store.trials()
        assert "overfitting" in first.diagnosis.problems
        records = {a.name: a for a in store.actions() if a.trial == 1}
        assert records["reg_l2"].applied and "batch_norm" not in records
        # 38 images in batches of 8 or more for one epoch: a handful of steps, far too few for
        # BatchNormalization's moving statistics, so it is passed over with the reason
        (skipped,) = [s for s in first.diagnosis.skipped if s.startswith("batch_norm")]
        assert "optimizer steps" in skipped
        assert store.tuning(second.tuning_version).architecture.l2
        assert not store.tuning(second.tuning_version).architecture.batch_norm
        assert "l2" in second.params
    before = keras.models.load_model(first.model_path)
    after = keras.models.load_model(second.model_path)
    kinds = lambda m: [type(layer).__name__ for layer in m.layers]  # noqa: E731
    assert "BatchNormalization" not in kinds(before) + kinds(after)
    regularised = [layer for layer in after.layers if getattr(layer, "kernel_regularizer", None) is not None]
    assert len(regularised) >= 4
    assert float(sum(after.losses)) > 0
    assert float(sum(before.losses)) == 0


CALLBACKS_PY = '''
import keras

SEEN = []


class Recorder(keras.callbacks.Callback):
    """Records every epoch it sees and adds its own entry to the logs."""

    def on_epoch_end(self, epoch, logs=None):
        SEEN.append(epoch)
        logs["lr_seen"] = 0.5


def make():
    return [Recorder()]


def wrong():
    return ["not a callback"]
'''


def test_user_callbacks_run_in_every_trial_and_bad_ones_are_refused_up_front(tmp_path, capsys, monkeypatch):
    import sys

    (tmp_path / "mycallbacks.py").write_text(CALLBACKS_PY)
    monkeypatch.syspath_prepend(str(tmp_path))
    import mycallbacks

    config = tmp_path / "study.toml"
    config.write_text("[study]\nepochs = 2\nn_initial = 1\n[network]\ncallbacks = 'mycallbacks:make'\n" + SMALL_SPACE)
    study = tmp_path / "s"
    assert main(["run", "--study-dir", str(study), "--config", str(config), "--dataset", "digits-small",
                 "--trials", "2", "--quiet"]) == 0
    assert mycallbacks.SEEN == [0, 1, 0, 1]  # fresh callbacks for each trial, every epoch
    with StudyStore.open(study, readonly=True) as store:
        assert [t.state for t in store.trials()] == [TrialState.COMPLETE] * 2
    assert main(["run", "--study-dir", str(tmp_path / "bad"), "--dataset", "digits-small", "--trials", "1",
                 "--callbacks", "mycallbacks:wrong"]) == 2
    err = capsys.readouterr().err
    assert "the callbacks function 'wrong' gave 'not a callback' (str), which is not a keras.callbacks.Callback" in err
    assert not (tmp_path / "bad").exists()
    del sys.modules["mycallbacks"]


def test_callbacks_that_cannot_reach_worker_processes_are_refused(tmp_path):
    from symtuner.core.errors import ConfigError
    from symtuner.execution import ExecutionSettings

    with pytest.raises(ConfigError, match="the callbacks .* cannot be sent to worker processes"):
        Tuner(tmp_path / "s", dataset="digits-small", callbacks=lambda: [],
              execution=ExecutionSettings(workers=2), quiet=True).run(1)
    assert not (tmp_path / "s").exists()
