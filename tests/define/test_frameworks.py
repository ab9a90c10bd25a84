"""Define-by-run studies around real PyTorch and Lightning training, and Lightning's logs diagnosed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from symtuner.storage import StudyStore  # noqa: E402
from symtuner.study.define import create_study  # noqa: E402

HERE = Path(__file__).parent


def test_a_plain_pytorch_study_is_diagnosed_and_a_space_action_reaches_the_next_suggestions(tmp_path):
    from .torch_objectives import slow_sgd

    study = create_study(tmp_path / "torch", n_classes=10, epochs=8, n_initial=3, seed=0, stop_early=False)
    study.optimize(slow_sgd, n_trials=3)
    with StudyStore.open(tmp_path / "torch", readonly=True) as store:
        trials, actions, versions = store.trials(), store.actions(), store.tuning_versions()
    assert [str(t.state) for t in trials] == ["complete"] * 3
    assert all(t.diagnosis is not None for t in trials)
    first = trials[0]
    assert "low_lr" in first.diagnosis.problems or "underfitting" in first.diagnosis.problems
    moved = next(a for a in actions if a.applied and a.name == "inc_lr")
    new = next(v for v in versions if v.after_trial == moved.trial and "inc_lr" in v.reason)
    assert new.space["learning_rate"].low > 1e-6  # the range moved up, towards rates that learn
    later = [t for t in trials if t.tuning_version >= new.version]
    assert later and all(new.space["learning_rate"].low <= t.params["learning_rate"] for t in later)


def test_a_lightning_study_reports_through_the_callback_and_stops_when_told(tmp_path):
    pytest.importorskip("lightning")
    import lightning.pytorch as pl

    from symtuner.lightning import SymtunerCallback
    from symtuner.torch import mlp

    from .lightning_module import Classifier
    from .torch_objectives import X_TRAIN, X_VAL, Y_TRAIN, Y_VAL

    def objective(trial):
        torch.manual_seed(trial.seed)
        lr = trial.suggest_float("learning_rate", 1e-4, 1e-1, log=True)
        model = Classifier(mlp(64, [trial.suggest_int("unit_d", 16, 64)], 10, trial.architecture),
                           lambda parameters: torch.optim.Adam(parameters, lr=lr))
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X_TRAIN, Y_TRAIN), batch_size=64,
                                             shuffle=True)
        val = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X_VAL, Y_VAL), batch_size=256)
        trainer = pl.Trainer(max_epochs=6, callbacks=[SymtunerCallback(trial)], logger=False,
                             enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
        trainer.fit(model, loader, val)

    study = create_study(tmp_path / "lit", n_classes=10, epochs=6, n_initial=2, seed=1)
    study.optimize(objective, n_trials=3)
    trials = study.trials
    assert [str(t.state) for t in trials] == ["complete"] * 3
    for trial in trials:
        assert trial.diagnosis is not None and trial.curve.n_epochs == trial.epochs_run >= 1
        assert len(trial.curve.val_accuracy) == trial.epochs_run and len(trial.curve.accuracy) == trial.epochs_run
        assert trial.objective == pytest.approx(trial.curve.val_accuracy[-1])
        assert trial.epochs_run == 6 or trial.stopped  # stopped early only with a reason


def test_lightning_csv_logs_and_the_diagnosis_callback(tmp_path, capsys):
    pytest.importorskip("lightning")
    import lightning.pytorch as pl
    from lightning.pytorch.loggers import CSVLogger

    from symtuner.app.cli import main
    from symtuner.lightning import DiagnosisCallback

    from .lightning_module import Classifier
    from .torch_objectives import X_TRAIN, X_VAL, Y_TRAIN, Y_VAL

    torch.manual_seed(0)
    diagnosis = DiagnosisCallback(n_classes=10, print_fn=lambda text: None)
    trainer = pl.Trainer(max_epochs=6, callbacks=[diagnosis], logger=CSVLogger(tmp_path, name="run"),
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    diverges = Classifier(net, lambda parameters: torch.optim.SGD(parameters, lr=5.0), log_steps=True)  # far too high
    trainer.fit(diverges, torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X_TRAIN, Y_TRAIN),
                                                        batch_size=64),
                torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X_VAL, Y_VAL), batch_size=256))
    assert diagnosis.diagnosis is not None and "high_lr" in diagnosis.diagnosis.problems
    metrics = next(tmp_path.glob("run/version_*/metrics.csv"))
    assert main(["diagnose", str(metrics), "--n-classes", "10"]) == 0
    out = capsys.readouterr().out
    assert "high_lr" in out.splitlines()[0], out


def test_a_two_worker_pool_runs_an_importable_objective(tmp_path):
    study = create_study(tmp_path / "pool", n_classes=10, epochs=6, n_initial=2, seed=2)
    study.optimize(f"{HERE / 'objectives.py'}:curve_objective", n_trials=4, workers=2)
    trials = study.trials
    assert [str(t.state) for t in trials] == ["complete"] * 4
    assert all("learning_rate" in t.params and t.diagnosis is not None for t in trials)


KILLED = '''
import os, sys, signal
sys.path.insert(0, {here!r})
from objectives import curve_objective
from symtuner.study.define import create_study

def objective(trial):
    if trial.number == 2 and os.environ.get("KILL"):
        trial.suggest_float("learning_rate", 1e-5, 1e-1, log=True)
        trial.report(0, loss=2.0, accuracy=0.1, val_loss=2.1, val_accuracy=0.1)
        os.kill(os.getpid(), signal.SIGKILL)
    return curve_objective(trial)

create_study(sys.argv[1], n_classes=10, epochs=6, n_initial=2, seed=4).optimize(objective, n_trials=3)
'''


def test_resume_after_kill_9_mid_trial_reruns_it_with_its_seed_and_params(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(KILLED.format(here=str(HERE)))
    killed = subprocess.run([sys.executable, str(script), str(tmp_path / "a")], env={**_env(), "KILL": "1"})
    assert killed.returncode == -9
    assert subprocess.run([sys.executable, str(script), str(tmp_path / "a")], env=_env()).returncode == 0
    assert subprocess.run([sys.executable, str(script), str(tmp_path / "b")], env=_env()).returncode == 0
    with StudyStore.open(tmp_path / "a", readonly=True) as store:
        resumed = store.trials()
    with StudyStore.open(tmp_path / "b", readonly=True) as store:
        straight = store.trials()
    assert [str(t.state) for t in resumed] == ["complete", "interrupted", "complete", "complete"]
    rerun = resumed[2]
    assert rerun.retry_of == 2 and rerun.seed == straight[1].seed
    assert [t.params for t in resumed if t.is_complete] == [t.params for t in straight]
    assert [t.objective for t in resumed if t.is_complete] == [t.objective for t in straight]


def _env():
    import os

    return {**os.environ, "PYTHONPATH": str(HERE.parent.parent)}


def test_a_two_worker_ray_study_runs_an_importable_objective(tmp_path):
    """In a process of its own: Ray joins a process to one cluster in its life and keeps its handlers."""
    pytest.importorskip("ray")
    script = (f"from symtuner.study.define import create_study\n"
              f"study = create_study({str(tmp_path / 'ray')!r}, n_classes=10, epochs=6, n_initial=2, seed=2)\n"
              f"study.optimize({str(HERE / 'objectives.py') + ':curve_objective'!r}, n_trials=3, workers=2, "
              f"ray='local')\n")
    run = subprocess.run([sys.executable, "-c", script], env=_env(), capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    with StudyStore.open(tmp_path / "ray", readonly=True) as store:
        assert [str(t.state) for t in store.trials()] == ["complete"] * 3


def test_an_objective_the_workers_cannot_import_is_refused_before_anything_runs(tmp_path):
    from symtuner.core.errors import ConfigError

    def local(trial):
        return 0.5

    study = create_study(tmp_path / "s", epochs=2)
    with pytest.raises(ConfigError, match="define local at the top level of a module"):
        study.optimize(local, n_trials=2, workers=2)
    assert not (tmp_path / "s").exists()
