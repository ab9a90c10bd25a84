"""A tiny real study under Keras's JAX and PyTorch backends: training, diagnosis, saved model and
TensorBoard logs.

Keras fixes its backend when it is first imported, so each study runs in a
subprocess with ``KERAS_BACKEND`` set. (``make test`` installs PyTorch's CPU
build, pinned: an unpinned ``torch`` resolves to the CUDA build.)
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.keras

DATA = '''
import numpy as np

def load():
    rng = np.random.default_rng(1)
    x = rng.random((80, 16, 16), dtype=np.float32)
    y = np.arange(80) % 4
    x[np.arange(80), y * 4, y * 4] = 4.0  # a learnable mark per class
    return x[:64], x[64:], y[:64], y[64:], 4
'''

CHECK = '''
import sys
import keras
from symtuner.integrations.histories import read_history
from symtuner.core.records import TrialState
from symtuner.storage import StudyStore

assert keras.backend.backend() == sys.argv[2], keras.backend.backend()
with StudyStore.open(sys.argv[1], readonly=True) as store:
    trials = store.trials()
assert [t.state for t in trials] == [TrialState.COMPLETE] * 2, [t.state for t in trials]
for trial in trials:
    assert trial.diagnosis is not None and trial.curve.n_epochs == 3
    model = keras.saving.load_model(trial.model_path, compile=False)
    assert model.output_shape == (None, 4)
    logged = read_history(trial.log_dir)  # the epoch scalars, written without TensorFlow's callback
    assert len(logged.series["loss"]) == 3 and len(logged.series["val_loss"]) == 3, logged.series
print("ok")
'''


@pytest.mark.parametrize("backend, module", [("jax", "jax"), ("torch", "torch")])
def test_a_study_runs_under_another_backend(tmp_path, backend, module):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")
    (tmp_path / "data.py").write_text(DATA)
    (tmp_path / "check.py").write_text(CHECK)
    env = {**os.environ, "KERAS_BACKEND": backend}
    study = tmp_path / "study"
    run = subprocess.run([sys.executable, "-m", "symtuner.app.cli", "run", "--study-dir", str(study), "--dataset",
                          f"{tmp_path / 'data.py'}:load", "--trials", "2", "--epochs", "3", "--quiet"],
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    check = subprocess.run([sys.executable, str(tmp_path / "check.py"), str(study), backend], env=env,
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0 and check.stdout.strip() == "ok", check.stderr[-3000:]
