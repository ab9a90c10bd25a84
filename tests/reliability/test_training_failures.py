"""Failures that only show once a trial trains: one clear line on stderr, never an exit with nothing said.

The user's own errors (a callback that raises, a streamed batch past the first one that breaks the
checks the first passed) stop the study as bad input (exit 2); a set that never ends is refused before
the study exists; trials that all fail for other reasons end with the last one's reason (exit 1).
"""

from __future__ import annotations

import pytest

import symtuner.study.tuner as tuner_module
from symtuner.app.cli import main
from symtuner.core.errors import TrialFailed
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.storage import StudyStore

STREAMS_PY = '''
import keras
import numpy as np
import tensorflow as tf

SIGNATURE = (tf.TensorSpec((None, None, None, 1), tf.float32), tf.TensorSpec((None,), tf.int64))


def _sets(bad_label=False, bad_shape=False, n=64):
    rng = np.random.default_rng(0)
    x = rng.random((n, 12, 12, 1), dtype=np.float32)
    y = np.arange(n) % 3
    if bad_label:
        y[40] = 7
    def batches():
        for i in range(0, n, 16):
            yield (x[i:i + 16, :10, :10] if bad_shape and i >= 32 else x[i:i + 16]), y[i:i + 16]
    train = tf.data.Dataset.from_generator(batches, output_signature=SIGNATURE)
    test = tf.data.Dataset.from_tensor_slices((x[:16], y[:16])).batch(8)
    return train, test, 3


def bad_label():
    return _sets(bad_label=True)


def bad_shape():
    return _sets(bad_shape=True)


def endless():
    rng = np.random.default_rng(0)
    def batches():
        while True:
            yield rng.random((8, 12, 12, 1), dtype=np.float32), np.arange(8) % 3
    train = tf.data.Dataset.from_generator(batches, output_signature=SIGNATURE)
    x = rng.random((16, 12, 12, 1), dtype=np.float32)
    return train, tf.data.Dataset.from_tensor_slices((x, np.arange(16) % 3)).batch(8), 3


class Batches(keras.utils.PyDataset):
    def __init__(self, label):
        super().__init__()
        rng = np.random.default_rng(0)
        self.x = rng.random((4, 16, 12, 12, 1), dtype=np.float32)
        self.y = np.arange(64).reshape(4, 16) % 3
        self.y[2, 5] = label

    def __len__(self):
        return 4

    def __getitem__(self, index):
        return self.x[index], self.y[index]


def py_bad_label():
    return Batches(9), Batches(0), 3


class Boom(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        raise ValueError("boom at the end of an epoch")


def boom():
    return [Boom()]
'''

SPACE = '''[[space]]
type = "int"
name = "unit_c1"
low = 4
high = 8
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
'''


def _run(tmp_path, capfd, *argv: str) -> tuple[int, list[str]]:
    (tmp_path / "streams.py").write_text(STREAMS_PY)
    (tmp_path / "small.toml").write_text(SPACE)
    code = main(["run", "--study-dir", str(tmp_path / "s"), "--config", str(tmp_path / "small.toml"),
                 "--trials", "2", "--epochs", "1", "--quiet", *argv])
    return code, [line for line in capfd.readouterr().err.splitlines() if line.strip()]


@pytest.mark.parametrize("function, named", [
    ("bad_label", "the training set has a batch with a class label above 2"),
    ("bad_shape", "the training set has a batch with samples of another shape"),
    ("py_bad_label", "has a label 9 outside 0..2"),
])
def test_a_streamed_batch_past_the_first_that_breaks_the_checks_is_the_users_error(tmp_path, capfd, function,
                                                                                     named):
    code, err = _run(tmp_path, capfd, "--dataset", f"{tmp_path / 'streams.py'}:{function}")
    assert code == 2 and len(err) == 1, err
    assert named in err[0] and "Traceback" not in err[0]
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        assert [t.state for t in store.trials()] == ["failed"]  # the study stops at the first trial


def test_a_callback_that_raises_while_training_is_the_users_error(tmp_path, capfd):
    code, err = _run(tmp_path, capfd, "--dataset", "digits-small", "--callbacks",
                     f"{tmp_path / 'streams.py'}:boom")
    assert code == 2 and len(err) == 1, err
    assert "your callback Boom raised during training: ValueError: boom at the end of an epoch" in err[0]


def test_a_set_that_never_ends_is_refused_before_the_study_exists(tmp_path, capfd, monkeypatch):
    from symtuner.data import stream_checks

    monkeypatch.setattr(stream_checks, "ENDLESS_SECONDS", 1.0)
    code, err = _run(tmp_path, capfd, "--dataset", f"{tmp_path / 'streams.py'}:endless")
    assert code == 2 and len(err) == 1, err
    assert "the training set (tf.data of unknown size)" in err[0] and "without ending" in err[0]
    assert not (tmp_path / "s").exists()


class _AlwaysFails(SimulatedExecutor):
    def run(self, spec, on_epoch=None):
        raise TrialFailed(f"trial {spec.number}: training failed: ResourceExhaustedError: out of memory")


def test_trials_that_all_fail_end_with_the_reason_on_stderr(tmp_path, capfd, monkeypatch):
    original = tuner_module.Tuner.__init__

    def failing(self, *args, **kwargs):
        kwargs["executor_factory"] = _AlwaysFails
        original(self, *args, **kwargs)

    monkeypatch.setattr(tuner_module.Tuner, "__init__", failing)
    code = main(["run", "--study-dir", str(tmp_path / "s"), "--dataset", "digits-small", "--trials", "2",
                 "--epochs", "1", "--quiet"])
    err = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert code == 1 and len(err) == 1, err
    assert "no trial completed (2 failed, the last with: trial 2: training failed: ResourceExhaustedError" in err[0]
