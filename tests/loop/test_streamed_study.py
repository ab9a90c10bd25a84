"""Studies on data read batch by batch: tf.data pipelines and PyDatasets, through the CLI and the Python API,
one larger than the memory the process may use."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from symtuner.app.cli import main
from symtuner.core.errors import ConfigError
from symtuner.core.settings import StudySettings
from symtuner.core.space import Integer, Real, SearchSpace
from symtuner.data.streams import streamed_dataset
from symtuner.execution import ExecutionSettings
from symtuner.storage import StudyStore
from symtuner.training.splits import StreamedSplit, split_validation
from symtuner.tuner import Tuner

pytestmark = pytest.mark.keras

#: A data-set module for the CLI: three classes of 12x12 grey images, each with a bright band of its own,
#: made by a generator (a tf.data set of unknown size) or a PyDataset with its own validation set.
DATA_MODULE = textwrap.dedent('''
    import numpy as np
    import keras
    import tensorflow as tf

    SIDE = 12

    def batch(index, size, seed):
        rng = np.random.default_rng((seed, index))
        labels = (np.arange(size) + index) % 3
        x = rng.normal(0.0, 0.3, (size, SIDE, SIDE)).astype("float32")
        for i, label in enumerate(labels):
            x[i, 4 * label:4 * label + 4] += 1.0
        return x, labels.astype("int64")

    def generated(n_batches, size, seed):
        def generate():
            for index in range(n_batches):
                yield batch(index, size, seed)
        spec = (tf.TensorSpec((None, SIDE, SIDE), tf.float32), tf.TensorSpec((None,), tf.int64))
        return tf.data.Dataset.from_generator(generate, output_signature=spec)

    class Bands(keras.utils.PyDataset):
        def __init__(self, n_batches, size, seed):
            super().__init__()
            self.n_batches, self.size, self.seed = n_batches, size, seed
        def __len__(self):
            return self.n_batches
        def __getitem__(self, index):
            return batch(index, self.size, self.seed)

    def tf_data():
        return generated(12, 25, 0), generated(4, 25, 1), 3

    def py_data():
        return Bands(10, 24, 0), Bands(3, 24, 1), Bands(3, 24, 2), 3

    def wrong_classes():
        return generated(4, 25, 0), generated(2, 25, 1), 2

    class Cropped(Bands):
        def __getitem__(self, index):
            x, y = batch(index, self.size, self.seed)
            return (x[:, :6] if index == 3 else x), y

    def cropped_midway():
        return Cropped(8, 24, 0), Bands(2, 24, 1), 3
''')


@pytest.fixture
def data_module(tmp_path):
    path = tmp_path / "bands.py"
    path.write_text(DATA_MODULE, encoding="utf-8")
    return path


def _bands(n_batches, size, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, (n_batches * size, 6)).astype("float32")
    y = (x @ np.arange(1, 7, dtype="float32") / 6.0 + 0.1 * rng.normal(size=len(x))).astype("float32")
    return [(x[i:i + size], y[i:i + size]) for i in range(0, len(x), size)]


class Batches(keras.utils.PyDataset):
    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        return self.batches[index]


def test_a_tf_data_study_of_unknown_size_runs_resumes_and_reports(tmp_path, data_module, capsys):
    study = tmp_path / "tf"
    spec = f"{data_module}:tf_data"
    assert main(["run", "--dataset", spec, "--trials", "2", "--epochs", "3", "--study-dir", str(study),
                 "--quiet"]) == 0
    out = capsys.readouterr()
    assert "best trial #" in out.out and "ran out of data" not in out.err + out.out
    with StudyStore.open(study, readonly=True) as store:
        info = store.data_info()
        trials = store.trials()
    assert info["streamed"] and info["n_train"] is None and info["input_shape"] == [12, 12, 1]
    assert len(trials) == 2 and all(t.is_complete for t in trials)
    for trial in trials:
        assert len(trial.curve.val_accuracy) == trial.extra.get("epochs_run", len(trial.curve.loss)) >= 1
        assert 0.0 <= trial.objective <= 1.0 and trial.test_accuracy is not None
    assert max(t.objective for t in trials) > 0.5  # three bands: learnable within three epochs
    assert main(["run", "--dataset", spec, "--trials", "3", "--epochs", "3", "--study-dir", str(study),
                 "--quiet"]) == 0
    with StudyStore.open(study, readonly=True) as store:
        assert len([t for t in store.trials() if t.is_complete]) == 3
    assert main(["status", str(study)]) == 0


def test_a_py_dataset_with_its_own_validation_set_validates_on_it(data_module):
    from symtuner.core.plugins import load_callable

    data = streamed_dataset(load_callable(f"{data_module}:py_data", "data")(), "bands")
    split = split_validation(data, 0.2, seed=0)
    assert isinstance(split, StreamedSplit) and split.n_fit == 240  # nothing carved: all 10 batches fit
    assert split.validation is data.validation and split.sample()[0].shape == (8, 12, 12, 1)


def test_a_regression_pydataset_study_through_the_python_api(tmp_path):
    def data():
        return Batches(_bands(12, 20, 0)), Batches(_bands(3, 20, 1)), 0

    def network(params, architecture, input_shape, n_outputs):
        return keras.Sequential([keras.Input(input_shape), keras.layers.Dense(int(params["units"]), "relu"),
                                 keras.layers.Dense(n_outputs)])

    space = SearchSpace([Integer("units", 4, 16), Real("learning_rate", 1e-3, 3e-2, prior="log-uniform"),
                         Integer("batch_size", 8, 64)])
    tuner = Tuner(tmp_path / "reg", dataset=data, network=network, space=space,
                  settings=StudySettings(epochs=4, n_initial=2), quiet=True)
    best = tuner.run(2)
    assert best is not None and best.objective < 1.0  # targets have variance ~1.6: the net learns them
    with StudyStore.open(tmp_path / "reg", readonly=True) as store:
        trials = store.trials()
        assert store.data_info()["task"] == "regression" and store.data_info()["n_train"] == 240
    for trial in trials:
        assert trial.curve.accuracy == () and "mae" in trial.extra["test_metrics"]
        assert trial.diagnosis.facts["has_accuracy"] == 0  # diagnosed on the first epoch's scale
    model = tuner.best_model()
    assert model.predict(_bands(1, 5, 3)[0][0], verbose=0).shape == (5, 1)


def test_the_trial_batch_size_is_served_whatever_the_pipelines(data_module):
    import tensorflow as tf

    from symtuner.core.plugins import load_callable

    data = streamed_dataset(load_callable(f"{data_module}:tf_data", "data")(), "bands")
    split = split_validation(data, 0.25, seed=3)
    fit = split.fit_inputs(40, seed=7)["x"]
    sizes = [len(y) for _, y in fit.as_numpy_iterator()]
    assert isinstance(fit, tf.data.Dataset) and sizes[:-1] == [40] * (len(sizes) - 1)
    assert 200 <= sum(sizes) <= 250  # 300 samples less about a quarter held out
    held = sum(len(y) for _, y in split.validation_inputs(40)["x"].as_numpy_iterator())
    assert sum(sizes) + held == 300


def test_a_streamed_set_with_workers_is_refused_before_anything_is_stored(tmp_path, data_module, capsys):
    study = tmp_path / "pool"
    assert main(["run", "--dataset", f"{data_module}:tf_data", "--trials", "2", "--epochs", "2",
                 "--study-dir", str(study), "--workers", "2", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "streamed data set" in err and "--workers 2" in err and "Traceback" not in err
    assert not (study / "study.db").exists()
    with pytest.raises(ConfigError, match="trains in this process only"):
        Tuner(tmp_path / "ray", dataset=f"{data_module}:tf_data", execution=ExecutionSettings(ray="local"),
              quiet=True).run(1)
    assert main(["run", "--dataset", f"{data_module}:tf_data", "--trials", "1", "--epochs", "1",
                 "--study-dir", str(tmp_path / "isolated"), "--isolate", "--quiet"]) == 2
    assert "run it without --isolate" in capsys.readouterr().err
    assert not (tmp_path / "isolated" / "study.db").exists()


def test_bad_streamed_values_name_the_problem(tmp_path, data_module, capsys):
    study = tmp_path / "bad"
    assert main(["run", "--dataset", f"{data_module}:wrong_classes", "--trials", "1", "--study-dir",
                 str(study), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "holds class 2, outside 0..1" in err and "Traceback" not in err
    assert not (study / "study.db").exists()
    with pytest.raises(ConfigError, match=r"got 2 values"):
        Tuner(tmp_path / "two", dataset=lambda: (1, 2), quiet=True).run(1)


def test_a_batch_that_breaks_the_checks_midway_stops_the_study_with_its_reason(tmp_path, data_module, capsys):
    """Every trial would read the same bad batch: the study stops with the reason (exit 2), the trial that met
    it is stored as failed."""
    study = tmp_path / "cropped"
    assert main(["run", "--dataset", f"{data_module}:cropped_midway", "--trials", "3", "--epochs", "2",
                 "--study-dir", str(study), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "batch 3 has x of shape (24, 6, 12, 1)" in err and "(12, 12, 1) were expected" in err
    assert "Traceback" not in err
    with StudyStore.open(study, readonly=True) as store:
        trials = store.trials()
    assert [t.state for t in trials] == ["failed"] and "batch 3" in trials[0].error


# -- a study on more data than the process may hold ------------------------------------------------------------
#: Runs in a fresh interpreter: a two-trial study on ~3 GiB of synthetic images under an address-space limit of
#: the process's size after a warm-up plus 1.5 GiB; then materialising the set under the same limit must fail.
_STUDY_UNDER_LIMIT = textwrap.dedent("""
    import json, resource, sys
    import numpy as np
    import keras
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(2)
    from symtuner.core.settings import StudySettings
    from symtuner.core.space import Integer, Real, SearchSpace
    from symtuner.storage import StudyStore
    from symtuner.tuner import Tuner

    SIDE, BATCH, N = 64, 256, 65536  # 65536 x 64 x 64 x 3 float32 = 3 GiB
    MARGIN = 3 * 2**29

    def batch(index, n=BATCH):
        labels = (np.arange(index * BATCH, index * BATCH + n) % 3).astype(np.int64)
        x = np.zeros((n, SIDE, SIDE, 3), dtype=np.float32)
        x[np.arange(n), :, :, labels] = 1.0
        return x, labels

    def generated(n_batches):
        spec = (tf.TensorSpec((None, SIDE, SIDE, 3), tf.float32), tf.TensorSpec((None,), tf.int64))
        return tf.data.Dataset.from_generator(lambda: (batch(i) for i in range(n_batches)), output_signature=spec)

    def network(params, architecture, input_shape, n_outputs):
        return keras.Sequential([keras.Input(input_shape), keras.layers.GlobalAveragePooling2D(),
                                 keras.layers.Dense(n_outputs, activation="softmax")])

    def vm_size():
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))

    space = SearchSpace([Real("learning_rate", 1e-2, 1e-1, prior="log-uniform"), Integer("batch_size", 128, 512)])
    settings = StudySettings(epochs=1, n_initial=2)
    Tuner(sys.argv[1] + "/warm", dataset=lambda: (generated(2), generated(1), 3), network=network, space=space,
          settings=settings, quiet=True).run(1)
    limit = vm_size() + MARGIN
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    Tuner(sys.argv[1] + "/big", dataset=lambda: (generated(N // BATCH), generated(4), 3), network=network,
          space=space, settings=settings, quiet=True).run(2)
    with StudyStore.open(sys.argv[1] + "/big", readonly=True) as store:
        trials = store.trials()
    result = {"data_bytes": N * SIDE * SIDE * 3 * 4, "margin": MARGIN, "complete": sum(t.is_complete for t in trials),
              "best": max(t.objective for t in trials), "vm_after": vm_size(), "limit": limit}
    try:
        whole = np.concatenate([x for x, _ in (batch(i) for i in range(N // BATCH))])
        result["materialised"] = "no MemoryError: " + str(whole.nbytes)
    except MemoryError:
        result["materialised"] = "MemoryError"
    print("RESULT " + json.dumps(result))
""")


def test_a_study_on_a_set_larger_than_its_memory_limit_completes(tmp_path):
    """See tests/data/test_streams.py for why the limit is set after a warm-up and with capped threads."""
    env = dict(os.environ, MALLOC_ARENA_MAX="2", TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    done = subprocess.run([sys.executable, "-c", _STUDY_UNDER_LIMIT, str(tmp_path)], capture_output=True,
                          text=True, timeout=300, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    result = json.loads(lines[-1][len("RESULT "):])
    assert result["data_bytes"] >= 2 * result["margin"]
    assert result["complete"] == 2 and result["best"] > 0.5  # the colour channel gives the class away
    assert result["materialised"] == "MemoryError"
