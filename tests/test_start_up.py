"""What a command says before it does heavy work: errors before TensorFlow is imported, a finished
study said to be finished, a killed run's trial not shown as running, no TensorFlow start-up notes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from symtuner.core.settings import StudySettings
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.storage import StudyStore
from symtuner.tuner import Tuner

#: Runs the CLI in a fresh interpreter and prints, last, which heavy modules it imported.
CLI = textwrap.dedent('''
    import json, sys
    from symtuner.app.cli import main
    code = main(sys.argv[1:])
    print(json.dumps({"code": code, "heavy": sorted(m for m in ("tensorflow", "keras", "torch", "ray")
                                                    if m in sys.modules)}))
''')
#: Native start-up notes of TensorFlow that must not reach the user.
NOTES = ("absl::InitializeLog", "oneDNN", "cuda", "CUDA", "cpu_feature_guard")


def _cli(*args: str, cwd: Path) -> tuple[dict, str, str]:
    done = subprocess.run([sys.executable, "-c", CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    lines = done.stdout.splitlines()
    return json.loads(lines[-1]), "\n".join(lines[:-1]), done.stderr


def _study(directory: Path, trials: int = 2) -> Path:
    Tuner(directory, dataset="digits-small", settings=StudySettings(epochs=2, dataset="digits-small"),
          executor_factory=SimulatedExecutor, quiet=True).run(trials)
    return directory


def test_an_unknown_data_set_fails_before_tensorflow_is_imported(tmp_path: Path) -> None:
    result, out, err = _cli("run", "--dataset", "nope", "--study-dir", "s", cwd=tmp_path)
    assert result == {"code": 2, "heavy": []}
    assert err.startswith("symtuner: error: unknown data set 'nope'") and err.count("\n") == 1
    assert not (tmp_path / "s").exists()


def test_a_rerun_with_other_settings_fails_before_tensorflow_is_imported(tmp_path: Path) -> None:
    _study(tmp_path / "s")
    result, _, err = _cli("run", "--study-dir", "s", "--dataset", "digits-small", "--epochs", "3", cwd=tmp_path)
    assert result == {"code": 2, "heavy": []}
    assert "(stored -> given: epochs 2 -> 3)" in err


def test_resuming_a_finished_study_says_so_and_runs_nothing(tmp_path: Path) -> None:
    _study(tmp_path / "s")
    result, out, _ = _cli("resume", "s", cwd=tmp_path)
    assert result["code"] == 0
    assert out.startswith("study s is finished (2 finished trial(s), 2 asked for): nothing to run.")
    assert out.rstrip().endswith("resume s --trials 3")
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        assert len(store.trials()) == 2


KILLED = textwrap.dedent('''
    import functools, sys
    from symtuner.core.settings import StudySettings
    from symtuner.execution.simulate import SimulatedExecutor
    from symtuner.tuner import Tuner
    Tuner(sys.argv[1], dataset="digits-small", settings=StudySettings(epochs=3, dataset="digits-small"),
          executor_factory=functools.partial(SimulatedExecutor, epoch_seconds=30), quiet=True).run(2)
''')


def test_status_after_kill_9_shows_the_trial_as_interrupted_not_running(tmp_path: Path, capsys) -> None:
    from symtuner.app.cli import main

    child = subprocess.Popen([sys.executable, "-c", KILLED, str(tmp_path / "s")])
    try:
        deadline = time.monotonic() + 120
        while not _has_running_trial(tmp_path / "s"):
            assert time.monotonic() < deadline and child.poll() is None
            time.sleep(0.2)
        assert main(["status", str(tmp_path / "s")]) == 0
        assert "1  running" in capsys.readouterr().out  # its run holds the study
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert main(["status", str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert "1  interrupted" in out and "running" not in out.replace("holds it as running", "")
    assert "#1: interrupted: the store holds it as running, but no process runs the study" in out
    from symtuner.app.dashboard.data import load_snapshot

    assert load_snapshot(tmp_path / "s").running() == ()


def _has_running_trial(directory: Path) -> bool:
    if not StudyStore.exists(directory):
        return False
    with StudyStore.open(directory, readonly=True) as store:
        return any(t.state == "running" for t in store.trials(with_curves=False))


def test_diagnose_of_tensorboard_logs_prints_no_tensorflow_notes(tmp_path: Path) -> None:
    from test_histories import write_events

    write_events(tmp_path / "run" / "train", "1", 100.0, {"epoch_loss": {0: 2.3, 1: 1.2, 2: 0.8}})
    write_events(tmp_path / "run" / "validation", "2", 100.0, {"epoch_loss": {0: 2.4, 1: 1.4, 2: 1.0}})
    done = subprocess.run([sys.executable, "-m", "symtuner", "diagnose", "run"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={k: v for k, v in os.environ.items() if k != "SYMTUNER_TF_LOGS"})
    assert done.returncode == 0 and done.stdout.startswith("problems:")
    assert not [line for line in done.stderr.splitlines() if any(note in line for note in NOTES)], done.stderr


API_RUN = textwrap.dedent('''
    import sys
    from symtuner.core.settings import StudySettings
    from symtuner.tuner import Tuner
    Tuner(sys.argv[1], dataset="digits-small", settings=StudySettings(epochs=1), quiet=True).run(1)
''')


@pytest.mark.keras
def test_a_python_api_run_prints_no_tensorflow_notes(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", API_RUN, str(tmp_path / "s")], capture_output=True, text=True,
                          timeout=600, env={k: v for k, v in os.environ.items() if k != "SYMTUNER_TF_LOGS"})
    assert done.returncode == 0, done.stderr
    assert not [line for line in done.stderr.splitlines() if any(note in line for note in NOTES)], done.stderr
