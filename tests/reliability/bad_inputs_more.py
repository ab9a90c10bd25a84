"""More of the bad-input corpus (see ``bad_inputs.py`` for what every case must do): the user's
callbacks on new and existing studies, execution options, objectives and ranges that cannot work,
metrics, doctor, export and the model files a report reads."""

from __future__ import annotations

from pathlib import Path

from .bad_inputs import DATA_PY, RUN, Case

#: Callbacks functions a study may be given, good and bad.
CALLBACKS_PY = '''
def raises():
    raise RuntimeError("no callbacks today")

def needs_args(log_dir):
    return []

def needs_keyword(*, patience):
    return []

def number():
    return 5

def empty():
    return []
'''


def callbacks_cases() -> list[Case]:
    files = {"data.py": DATA_PY, "cb.py": CALLBACKS_PY}
    rows: list[tuple[str, tuple[str, ...], str, str | None]] = []
    for where, argv, study in (("resume", ("resume", "study"), "good"),
                               ("run-existing", ("run", "--study-dir", "study"), "good"),
                               ("run-new", RUN, None)):
        rows += [
            (f"{where}-missing-function", argv + ("--callbacks", "cb.py:nothing"), "nothing", study),
            (f"{where}-raises", argv + ("--callbacks", "cb.py:raises"), "'raises' raised", study),
            (f"{where}-needs-args", argv + ("--callbacks", "cb.py:needs_args"), "log_dir", study),
            (f"{where}-needs-keyword", argv + ("--callbacks", "cb.py:needs_keyword"), "patience", study),
            (f"{where}-not-a-list", argv + ("--callbacks", "cb.py:number"), "5", study),
            (f"{where}-no-colon", argv + ("--callbacks", "cb.py"), "cb.py", study),
            (f"{where}-missing-file", argv + ("--callbacks", "gone.py:make"), "gone.py", study),
        ]
    config = files | {"c.toml": '[study]\ndataset = "data.py:tiny"\ntrials = 1\nepochs = 1\n'
                                '[network]\ncallbacks = "cb.py:raises"\n'}
    cases = [Case("callbacks", id, argv, names, files, study=study) for id, argv, names, study in rows]
    cases.append(Case("callbacks", "config-raises", ("run", "--study-dir", "new", "--config", "c.toml"),
                      "'raises' raised", config))
    return cases


def execution_cases() -> list[Case]:
    files = {"data.py": DATA_PY, "x.toml": '[study]\ndataset = "data.py:tiny"\n[execution]\nworkers = 2\n'
                                          'reproducible = "yes"\n'}
    rows: list[tuple[str, tuple[str, ...], str, str | None]] = [
        ("ray-local-gpus", RUN + ("--ray", "local", "--gpus-per-trial", "64"), "gpus_per_trial", None),
        ("resume-ray-local-gpus", ("resume", "study", "--ray", "local", "--gpus-per-trial", "64"), "gpus_per_trial",
         "good"),
        ("ray-address-no-port", RUN + ("--ray", "somewhere"), "somewhere", None),
        ("ray-address-bad-port", RUN + ("--ray", "127.0.0.1:99999"), "127.0.0.1:99999", None),
        ("reproducible-not-bool", ("run", "--study-dir", "new", "--config", "x.toml"), "reproducible", None),
        ("reproducible-value", RUN + ("--reproducible", "yes"), "yes", None),
    ]
    return [Case("execution", id, argv, names, files, study=study) for id, argv, names, study in rows]


def doctor_cases() -> list[Case]:
    files: dict[str, str | bytes] = {"old.json": '{"trials": []}\n', "full/notes.txt": "x"}
    rows: list[tuple[str, tuple[str, ...], str, str]] = [
        ("repair-newer-schema", ("doctor", "study", "--repair"), "99", "schema-future"),
        ("export-exists", ("doctor", "study", "--export", "old.json"), "old.json", "good"),
        ("export-is-directory", ("doctor", "study", "--export", "full"), "full", "good"),
        ("export-no-directory", ("doctor", "study", "--export", "nodir/t.json"), "nodir", "good"),
        ("export-over-damaged-copy", ("doctor", "study", "--export", "study/study.db.damaged.2"),
         "study.db.damaged.2", "good"),
        ("export-then-repair-newer", ("doctor", "study", "--export", "t.json", "--repair"), "99", "schema-future"),
        ("overwrite-value", ("doctor", "study", "--export", "old.json", "--overwrite", "yes"), "yes", "good"),
    ]
    if Path("/dev/full").exists():
        rows.append(("export-device-full", ("doctor", "study", "--export", "/dev/full"), "/dev/full", "good"))
    return [Case("doctor", id, argv, names, files, study=study) for id, argv, names, study in rows]


def range_cases() -> list[Case]:
    """Objectives that cannot vary, metrics that are not names, ranges no training could use."""
    run = ("run", "--study-dir", "new", "--config", "c.toml")
    study = '[study]\ndataset = "data.py:tiny"\ntrials = 1\nepochs = 1\n'
    lr = "[[space]]\ntype = 'real'\nname = 'learning_rate'\nlow = {}\nhigh = {}\nprior = 'log-uniform'\n"
    tables = [
        ("metrics-nested-list", study + "metrics = [['auc']]\n", "metrics"),
        ("metrics-table", study + "metrics = [{name = 'auc'}]\n", "metrics"),
        ("metrics-number", study + "metrics = [5]\n", "metrics"),
        ("objective-top5-three-classes", study + "objective = 'val_top5_accuracy'\n", "val_top5_accuracy"),
        ("epochs-absurd", study.replace("epochs = 1", "epochs = 9223372036854775807"), "epochs"),
        ("lr-absurd-range", study + lr.format("1e-300", "1e308"), "learning_rate"),
        ("lr-above-ten", study + lr.format("0.001", "1000.0"), "learning_rate"),
        ("lr-far-below", study + lr.format("1e-20", "0.001"), "learning_rate"),
        ("keep-models-word", study + "keep_models = 'most'\n", "most"),
        ("keep-models-negative", study + "keep_models = -1\n", "keep_models"),
    ]
    cases = [Case("ranges", id, run, names, {"data.py": DATA_PY, "c.toml": text}) for id, text, names in tables]
    cli = [
        ("cli-objective-top5", RUN + ("--objective", "val_top5_accuracy"), "val_top5_accuracy"),
        ("cli-objective-top5-metric", RUN + ("--objective", "val_top5_accuracy", "--metrics", "top5_accuracy"),
         "val_top5_accuracy"),
        ("cli-epochs-absurd", RUN + ("--epochs", "1000000000000000000000"), "epochs"),
    ]
    cases += [Case("ranges", id, argv, names, {"data.py": DATA_PY}) for id, argv, names in cli]
    return cases


def diagnose_cases() -> list[Case]:
    """Accuracy series decided in their own unit: a stray value above 1 is named, not taken for percent."""
    rows = [
        ("stray-accuracy", '{"loss": [1.0, 0.9, 0.8], "accuracy": [0.5, 1.5, 0.7]}', "1.5"),
        ("stray-val-accuracy", '{"loss": [1.0, 0.9, 0.8], "val_accuracy": [0.3, 0.4, 2.0]}', "2.0"),
        ("percent-above-100", '{"loss": [1.0, 0.9, 0.8], "accuracy": [50, 70, 101]}', "101"),
        ("stray-in-mixed-units", '{"loss": [1.0, 0.9, 0.8], "accuracy": [0.5, 0.6, 0.7], '
                                 '"val_accuracy": [40, 0.5, 0.6]}', "40"),
    ]
    return [Case("diagnose", id, ("diagnose", "h.json"), names, {"h.json": text}) for id, text, names in rows]


#: Streamed sets (tf.data) that could never train: the test runs these with ENDLESS_SECONDS at 1 s.
STREAMS_PY = '''
import numpy as np
import tensorflow as tf

SIGNATURE = (tf.TensorSpec((None, 12, 12, 1), tf.float32), tf.TensorSpec((None,), tf.int64))
RNG = np.random.default_rng(0)


def _endless():
    def batches():
        while True:
            yield RNG.random((8, 12, 12, 1), dtype=np.float32), np.arange(8) % 3
    return tf.data.Dataset.from_generator(batches, output_signature=SIGNATURE)


def _finite():
    x = RNG.random((32, 12, 12, 1), dtype=np.float32)
    return tf.data.Dataset.from_tensor_slices((x, np.arange(32) % 3)).batch(8)


def endless_train():
    return _endless(), _finite(), 3


def endless_test():
    return _finite(), _endless(), 3


def endless_validation():
    return _finite(), _endless(), _finite(), 3


def repeated():
    return _finite().repeat(), _finite(), 3
'''


def stream_cases() -> list[Case]:
    files = {"streams.py": STREAMS_PY}
    run = ("run", "--study-dir", "new", "--trials", "1", "--epochs", "1", "--dataset")
    rows = [
        ("endless-train", run + ("streams.py:endless_train",), "the training set (tf.data of unknown size)"),
        ("endless-test", run + ("streams.py:endless_test",), "the test set (tf.data of unknown size)"),
        ("endless-validation", run + ("streams.py:endless_validation",), "the validation set (tf.data"),
        ("repeated", run + ("streams.py:repeated",), "infinite"),
        ("with-workers", run + ("streams.py:repeated", "--workers", "2"), "infinite"),
    ]
    return [Case("streams", id, argv, names, files) for id, argv, names in rows]


def more_cases() -> list[Case]:
    return (callbacks_cases() + execution_cases() + doctor_cases() + range_cases() + diagnose_cases()
            + stream_cases())
