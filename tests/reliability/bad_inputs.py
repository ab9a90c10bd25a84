"""The bad-input corpus: every case is a command a user could type, with the files it reads.

Each case must end with exit status 2, exactly one line on stderr that
contains ``names`` (the bad value or the name of the bad setting), no
traceback, every file that existed before unchanged and no new file (the
study directory ``new`` of a ``run`` is never created).

``study`` names the study the case starts from: ``None`` (none), ``"good"``
(a finished study copied to ``study/``) or a damage applied to that copy
(see ``DAMAGES``). Paths are relative to a fresh working directory.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Case:
    family: str
    id: str
    argv: tuple[str, ...]
    names: str
    files: dict[str, str | bytes] = field(default_factory=dict)
    study: str | None = None


RUN = ("run", "--study-dir", "new", "--trials", "1", "--epochs", "1", "--dataset", "data.py:tiny")

#: A small valid data set (28x28 grey images, 3 classes) and helpers the cases name.
DATA_PY = '''
import numpy as np

def _xy(n=36, shape=(28, 28, 1)):
    rng = np.random.default_rng(0)
    return rng.random((n,) + shape, dtype=np.float32), np.arange(n) % 3

def tiny():
    x, y = _xy()
    return x[:30], x[30:], y[:30], y[30:], 3

def none():
    return None

def three():
    x, y = _xy()
    return x, x, y

def raises():
    raise RuntimeError("no data today")

def features_4d():
    x, y = _xy(shape=(4, 5, 6, 1))
    return x[:30], x[30:], y[:30], y[30:], 3

def images_2x2():
    x, y = _xy(shape=(2, 2, 1))
    return x[:30], x[30:], y[:30], y[30:], 3

def labels_out_of_range():
    x, y = _xy()
    return x[:30], x[30:], y[:30] + 5, y[30:], 3

def labels_fractional():
    x, y = _xy()
    return x[:30], x[30:], y[:30] + 0.5, y[30:], 3

def one_class():
    x, y = _xy()
    return x[:30], x[30:], y[:30] * 0, y[30:] * 0, 1

def classes_as_text():
    x, y = _xy()
    return x[:30], x[30:], y[:30], y[30:], "3"

def lengths_differ():
    x, y = _xy()
    return x[:30], x[30:], y[:20], y[30:], 3

def nan_features():
    x, y = _xy()
    x[3, 0, 0, 0] = float("nan")
    return x[:30], x[30:], y[:30], y[30:], 3

def empty_train():
    x, y = _xy()
    return x[:0], x[30:], y[:0], y[30:], 3

def text_features():
    x, y = _xy()
    return np.array([["a"] * 4] * 30), x[30:], y[:30], y[30:], 3

def shapes_differ():
    x, y = _xy()
    return x[:30], x[30:, :20, :20], y[:30], y[30:], 3

def too_few_to_validate():
    x, y = _xy()
    return x[:1], x[30:], y[:1], y[30:], 3

def huge_class_count():
    x, y = _xy()
    return x[:30], x[30:], y[:30], y[30:], 10**12

def net_none(params, arch, shape, n_classes):
    return None

def net_layer(params, arch, shape, n_classes):
    import keras
    return keras.layers.Dense(n_classes)

def net_raises(params, arch, shape, n_classes):
    raise ValueError("cannot build today")

def net_wrong_width(params, arch, shape, n_classes):
    import keras
    inputs = keras.Input(shape)
    return keras.Model(inputs, keras.layers.Dense(n_classes + 4, activation="softmax")(keras.layers.Flatten()(inputs)))

def net_two_outputs(params, arch, shape, n_classes):
    import keras
    inputs = keras.Input(shape)
    flat = keras.layers.Flatten()(inputs)
    return keras.Model(inputs, [keras.layers.Dense(n_classes, activation="softmax")(flat),
                                keras.layers.Dense(n_classes, activation="softmax")(flat)])

def net_needs_hp(params, arch, shape, n_classes):
    import keras
    inputs = keras.Input(shape)
    width = params["missing_hp"]
    return keras.Model(inputs, keras.layers.Dense(width)(inputs))

not_callable = 5
'''

BROKEN_PY = "def tiny(:\n    return 1\n"

GOOD_RULE = "problem(too_slow) :- last_val_acc(V), V < 0.0.\n"


def _cfg(text: str) -> dict[str, str | bytes]:
    return {"data.py": DATA_PY, "c.toml": text}


def _space(body: str) -> str:
    return "[[space]]\n" + body + "\n"


def config_cases() -> list[Case]:
    run = ("run", "--study-dir", "new", "--config", "c.toml")
    study = '[study]\ndataset = "data.py:tiny"\ntrials = 1\nepochs = 1\n'
    tables = [
        # (id, toml, names)
        ("not-toml", "[study\ntrials = 1", "not valid TOML"),
        ("unknown-section", study + "[training]\nx = 1\n", "training"),
        ("unknown-key", study + "colour = 'red'\n", "colour"),
        ("study-not-table", "study = 5\n", "[study]"),
        ("network-not-table", study + "network = 'x'\n", "network"),
        ("trials-zero", study.replace("trials = 1", "trials = 0"), "trials"),
        ("trials-negative", study.replace("trials = 1", "trials = -3"), "trials"),
        ("trials-string", study.replace("trials = 1", "trials = '5'"), "trials"),
        ("trials-bool", study.replace("trials = 1", "trials = true"), "trials"),
        ("trials-float", study.replace("trials = 1", "trials = 2.5"), "trials"),
        ("budget-zero", study + "budget_epochs = 0\n", "budget_epochs"),
        ("epochs-zero", study.replace("epochs = 1", "epochs = 0"), "epochs"),
        ("epochs-string", study.replace("epochs = 1", "epochs = '3'"), "epochs"),
        ("epochs-float", study.replace("epochs = 1", "epochs = 1.5"), "epochs"),
        ("seed-negative", study + "seed = -1\n", "seed"),
        ("seed-huge", study + "seed = 4294967296\n", "seed"),
        ("seed-string", study + "seed = 'x'\n", "seed"),
        ("optimizer-unknown", study + "optimizer = 'adam'\n", "adam"),
        ("optimizer-number", study + "optimizer = 5\n", "optimizer"),
        ("objective-unknown", study + "objective = 'accuracy'\n", "accuracy"),
        ("symbolic-string", study + "symbolic = 'no'\n", "symbolic"),
        ("symbolic-int", study + "symbolic = 1\n", "symbolic"),
        ("stop-early-string", study + "stop_early = 'yes'\n", "stop_early"),
        ("pruner-unknown", study + "pruner = 'asha'\n", "hyperband"),
        ("revert-negative", study + "revert_after = -1\n", "revert_after"),
        ("split-zero", study + "validation_split = 0\n", "validation_split"),
        ("split-one", study + "validation_split = 1\n", "validation_split"),
        ("split-bool", study + "validation_split = true\n", "validation_split"),
        ("split-string", study + "validation_split = '0.2'\n", "validation_split"),
        ("patience-zero", study + "patience = 0\n", "patience"),
        ("n-initial-zero", study + "n_initial = 0\n", "n_initial"),
        ("dataset-number", study.replace('dataset = "data.py:tiny"', "dataset = 5"), "dataset"),
        ("dataset-empty", study.replace('dataset = "data.py:tiny"', "dataset = ''"), "dataset"),
        ("dataset-unknown", study.replace('dataset = "data.py:tiny"', "dataset = 'imagenet'"), "imagenet"),
        ("dataset-no-module", study.replace("data.py:tiny", "nomodule_xyz:load"), "nomodule_xyz"),
        ("dataset-no-function", study.replace("data.py:tiny", "data.py:nothing"), "nothing"),
        ("dataset-two-colons", study.replace("data.py:tiny", "a:b:c"), "a:b:c"),
        ("function-number", study + "[network]\nfunction = 5\n", "network"),
        ("function-no-module", study + "[network]\nfunction = 'nomodule_xyz:build'\n", "nomodule_xyz"),
        ("flip-string", study + "[network]\nflip = 'yes'\n", "flip"),
        ("max-dense-negative", study + "[network]\nmax_dense_layers = -1\n", "max_dense_layers"),
        ("max-conv-string", study + "[network]\nmax_conv_blocks = '1'\n", "max_conv_blocks"),
        ("network-unknown-key", study + "[network]\nlayers = 3\n", "layers"),
        ("rules-dir-number", study + "[rules]\ndir = 5\n", "dir"),
        ("rules-dir-missing", study + "[rules]\ndir = 'no_such_rules'\n", "no_such_rules"),
        ("rules-mode-unknown", study + "[rules]\nmode = 'merge'\n", "merge"),
        ("thresholds-number", study + "[rules]\nthresholds = 5\n", "thresholds"),
        ("threshold-string", study + "[rules.thresholds]\nacc_gap = 'x'\n", "acc_gap"),
        ("threshold-unknown", study + "[rules.thresholds]\nno_such_threshold = 0.1\n", "no_such_threshold"),
        ("threshold-bool", study + "[rules.thresholds]\nacc_gap = true\n", "acc_gap"),
        ("space-not-array", study + "space = 5\n", "space"),
        ("space-no-type", study + _space("name = 'unit_c1'\nlow = 1\nhigh = 4"), "type"),
        ("space-type-unknown", study + _space("type = 'float'\nname = 'x'\nlow = 1\nhigh = 4"), "float"),
        ("space-no-name", study + _space("type = 'int'\nlow = 1\nhigh = 4"), "name"),
        ("space-name-number", study + _space("type = 'int'\nname = 5\nlow = 1\nhigh = 4"), "name"),
        ("space-name-bad", study + _space("type = 'int'\nname = '1x'\nlow = 1\nhigh = 4"), "1x"),
        ("space-low-above-high", study + _space("type = 'int'\nname = 'unit_c1'\nlow = 9\nhigh = 4"), "unit_c1"),
        ("space-low-equals-high", study + _space("type = 'real'\nname = 'dr_f'\nlow = 0.2\nhigh = 0.2"), "dr_f"),
        ("space-low-string", study + _space("type = 'int'\nname = 'unit_c1'\nlow = 'a'\nhigh = 4"), "unit_c1"),
        ("space-high-missing", study + _space("type = 'int'\nname = 'unit_c1'\nlow = 1"), "high"),
        ("space-int-float-bound", study + _space("type = 'int'\nname = 'unit_c1'\nlow = 1.5\nhigh = 4"), "1.5"),
        ("space-int64", study + _space("type = 'int'\nname = 'unit_c1'\nlow = 1\nhigh = 99999999999999999999"),
         "99999999999999999999"),
        ("space-int64-range", study + _space("type = 'int'\nname = 'b'\nlow = -9223372036854775808\n"
                                             "high = 9223372036854775807"), "'b'"),
        ("space-real-nan", study + _space("type = 'real'\nname = 'dr_f'\nlow = nan\nhigh = 0.4"), "nan"),
        ("space-real-inf", study + _space("type = 'real'\nname = 'dr_f'\nlow = 0.1\nhigh = inf"), "inf"),
        ("space-categories-string", study + _space("type = 'cat'\nname = 'optimizer'\ncategories = 'Adam'"),
         "Adam"),
        ("space-categories-number", study + _space("type = 'cat'\nname = 'optimizer'\ncategories = 5"), "5"),
        ("space-categories-empty", study + _space("type = 'cat'\nname = 'optimizer'\ncategories = []"),
         "optimizer"),
        ("space-categories-nested", study + _space("type = 'cat'\nname = 'optimizer'\ncategories = [['Adam']]"),
         "Adam"),
        ("space-categories-table", study + _space("type = 'cat'\nname = 'optimizer'\n"
                                                  "categories = [{name = 'Adam'}]"), "Adam"),
        ("space-categories-repeat", study + _space("type = 'cat'\nname = 'optimizer'\n"
                                                   "categories = ['Adam', 'Adam']"), "Adam"),
        ("space-categories-missing", study + _space("type = 'cat'\nname = 'optimizer'"), "categories"),
        ("space-prior-unknown", study + _space("type = 'real'\nname = 'learning_rate'\nlow = 0.001\nhigh = 0.01\n"
                                               "prior = 'normal'"), "normal"),
        ("space-prior-number", study + _space("type = 'real'\nname = 'learning_rate'\nlow = 0.001\n"
                                              "high = 0.01\nprior = 5"), "prior"),
        ("space-log-zero", study + _space("type = 'real'\nname = 'learning_rate'\nlow = 0.0\nhigh = 0.01\n"
                                          "prior = 'log-uniform'"), "learning_rate"),
        ("space-unknown-key", study + _space("type = 'int'\nname = 'unit_c1'\nlow = 1\nhigh = 4\nstep = 2"),
         "step"),
        ("space-cat-with-bounds", study + _space("type = 'cat'\nname = 'optimizer'\ncategories = ['Adam']\n"
                                                 "low = 1"), "low"),
        ("space-duplicate", study + _space("type = 'int'\nname = 'unit_c1'\nlow = 1\nhigh = 4") +
         _space("type = 'int'\nname = 'unit_c1'\nlow = 1\nhigh = 4"), "unit_c1"),
    ]
    # spaces that parse but that the default network (or the training) cannot use
    full = {
        "unit_c1": "type = 'int'\nname = 'unit_c1'\nlow = 16\nhigh = 32",
        "dr1_2": "type = 'real'\nname = 'dr1_2'\nlow = 0.0\nhigh = 0.3",
        "unit_c2": "type = 'int'\nname = 'unit_c2'\nlow = 16\nhigh = 32",
        "unit_d": "type = 'int'\nname = 'unit_d'\nlow = 16\nhigh = 32",
        "dr_f": "type = 'real'\nname = 'dr_f'\nlow = 0.0\nhigh = 0.3",
        "activation": "type = 'cat'\nname = 'activation'\ncategories = ['relu']",
    }

    def space_with(**changes: str) -> str:
        dims = {**full, **changes}
        return study + "".join(_space(body) for body in dims.values() if body)

    tables += [
        # [[space]] entries merge into the default space; a whole space of one's own must be complete
        ("space-partial-replace", study + "[space]\nmode = 'replace'\n[[space.dimensions]]\n" + full["unit_c1"]
         + "\n", "dr1_2"),
        ("space-mode-unknown", study + "[space]\nmode = 'swap'\n", "swap"),
        ("space-units-negative", space_with(unit_d="type = 'int'\nname = 'unit_d'\nlow = -8\nhigh = 32"),
         "unit_d"),
        ("space-units-zero", space_with(unit_c1="type = 'int'\nname = 'unit_c1'\nlow = 0\nhigh = 32"), "unit_c1"),
        ("space-units-huge", space_with(unit_d="type = 'int'\nname = 'unit_d'\nlow = 16\nhigh = 100000000"),
         "unit_d"),
        ("space-dropout-above-one", space_with(dr_f="type = 'real'\nname = 'dr_f'\nlow = 0.1\nhigh = 1.5"),
         "dr_f"),
        ("space-dropout-negative", space_with(dr1_2="type = 'real'\nname = 'dr1_2'\nlow = -0.5\nhigh = 0.3"),
         "dr1_2"),
        ("space-activation-unknown", space_with(activation="type = 'cat'\nname = 'activation'\n"
                                                           "categories = ['relu', 'sparkle']"), "sparkle"),
        ("space-activation-number", space_with(activation="type = 'cat'\nname = 'activation'\n"
                                                          "categories = [1, 2]"), "1"),
        ("space-lr-negative", space_with() + _space("type = 'real'\nname = 'learning_rate'\nlow = -0.1\n"
                                                    "high = 0.01"), "learning_rate"),
        ("space-lr-zero", space_with() + _space("type = 'real'\nname = 'learning_rate'\nlow = 0.0\nhigh = 0.01"),
         "learning_rate"),
        ("space-batch-zero", space_with() + _space("type = 'int'\nname = 'batch_size'\nlow = 0\nhigh = 64"),
         "batch_size"),
        ("space-batch-negative", space_with() + _space("type = 'int'\nname = 'batch_size'\nlow = -64\nhigh = 8"),
         "batch_size"),
        ("space-optimizer-unknown", space_with() + _space("type = 'cat'\nname = 'optimizer'\n"
                                                          "categories = ['Adam', 'Lion9']"), "Lion9"),
        ("space-optimizer-number", space_with() + _space("type = 'cat'\nname = 'optimizer'\n"
                                                         "categories = [3]"), "3"),
    ]
    cases = [Case("config", id, run, names, _cfg(text)) for id, text, names in tables]
    cases += [
        Case("config", "not-utf8", run, "UTF-8", {"data.py": DATA_PY, "c.toml": b"[study]\ntrials = \xff\xfe\n"}),
        Case("config", "is-directory", ("run", "--study-dir", "new", "--config", "."), "directory"),
        Case("config", "missing-file", ("run", "--study-dir", "new", "--config", "nope.toml"), "nope.toml"),
        Case("config", "empty-binary", run, "UTF-8", {"c.toml": bytes(range(256))}),
    ]
    return cases


def cli_cases() -> list[Case]:
    base = {"data.py": DATA_PY}
    rows: list[tuple[str, tuple[str, ...], str]] = [
        ("trials-zero", ("run", "--study-dir", "new", "--trials", "0"), "trials"),
        ("trials-negative", ("run", "--study-dir", "new", "--trials", "-2"), "-2"),
        ("trials-text", ("run", "--study-dir", "new", "--trials", "many"), "many"),
        ("trials-float", ("run", "--study-dir", "new", "--trials", "1.5"), "1.5"),
        ("epochs-zero", ("run", "--study-dir", "new", "--epochs", "0"), "epochs"),
        ("seed-negative", ("run", "--study-dir", "new", "--seed", "-1"), "-1"),
        ("seed-huge", ("run", "--study-dir", "new", "--seed", "4294967296"), "4294967296"),
        ("seed-text", ("run", "--study-dir", "new", "--seed", "x"), "'x'"),
        ("optimizer-unknown", ("run", "--study-dir", "new", "--optimizer", "bohb"), "bohb"),
        ("budget-zero", ("run", "--study-dir", "new", "--budget-epochs", "0"), "budget"),
        ("unknown-option", ("run", "--study-dir", "new", "--colour", "red"), "--colour"),
        ("unknown-command", ("tune", "x"), "tune"),
        ("dataset-unknown", ("run", "--study-dir", "new", "--dataset", "imagenet", "--trials", "1"), "imagenet"),
        ("dataset-bad-spec", ("run", "--study-dir", "new", "--dataset", "x:y:z", "--trials", "1"), "x:y:z"),
        ("dataset-missing-file", ("run", "--study-dir", "new", "--dataset", "gone.py:load"), "gone.py"),
        ("dataset-syntax-error", ("run", "--study-dir", "new", "--dataset", "broken.py:tiny"), "broken.py"),
        ("dataset-module-syntax-error", ("run", "--study-dir", "new", "--dataset", "broken:tiny"), "broken"),
        ("dataset-not-callable", ("run", "--study-dir", "new", "--dataset", "data.py:not_callable"),
         "not_callable"),
        ("network-unknown", ("run", "--study-dir", "new", "--dataset", "data.py:tiny", "--network", "resnet"),
         "resnet"),
        ("network-no-function", RUN + ("--network", "data.py:no_such_net"), "no_such_net"),
        ("rules-missing", ("run", "--study-dir", "new", "--rules", "no_rules_here"), "no_rules_here"),
        ("rules-file", ("run", "--study-dir", "new", "--rules", "data.py"), "data.py"),
        ("study-dir-is-file", ("run", "--study-dir", "data.py", "--trials", "1"), "data.py"),
        ("study-dir-not-empty", ("run", "--study-dir", "full", "--dataset", "data.py:tiny", "--trials", "1"),
         "full"),
        ("resume-missing", ("resume", "nowhere"), "nowhere"),
        ("resume-not-study", ("resume", "full"), "full"),
        ("resume-trials-zero", ("resume", "study", "--trials", "0"), "trials"),
        ("status-missing", ("status", "nowhere"), "nowhere"),
        ("status-file", ("status", "data.py"), "data.py"),
        ("report-missing", ("report", "nowhere"), "nowhere"),
        ("diagnose-missing", ("diagnose", "nowhere.json"), "nowhere.json"),
        ("diagnose-epochs-zero", ("diagnose", "h.json", "--epochs", "0"), "epochs"),
        ("diagnose-classes-zero", ("diagnose", "h.json", "--n-classes", "0"), "n-classes"),
        ("doctor-missing", ("doctor", "nowhere"), "nowhere"),
        ("compare-seeds-zero", ("compare", "--seeds", "0", "--simulate", "--out", "cmp"), "seed count '0'"),
        ("compare-strategy-unknown", ("compare", "--strategies", "magic", "--simulate", "--out", "cmp"), "magic"),
        ("compare-trials-zero", ("compare", "--trials", "0", "--simulate", "--out", "cmp"), "trials"),
        ("compare-dataset-unknown", ("compare", "--dataset", "imagenet", "--simulate", "--out", "cmp"),
         "imagenet"),
        ("compare-space-missing", ("compare", "--space", "nope.toml", "--simulate", "--out", "cmp"), "nope.toml"),
        ("compare-seed-list-bad", ("compare", "--seeds", "1,x", "--simulate", "--out", "cmp"), "1,x"),
    ]
    files = {**base, "broken.py": BROKEN_PY, "full/notes.txt": "not a study",
             "h.json": '{"loss": [2.0, 1.5, 1.2, 1.0], "val_loss": [2.1, 1.7, 1.5, 1.4]}'}
    cases = [Case("cli", id, argv, names, files) for id, argv, names in rows]
    study_rows = [
        ("run-other-dataset", ("run", "--study-dir", "study", "--dataset", "digits-small"), "-> 'digits-small'"),
        ("run-other-epochs", ("run", "--study-dir", "study", "--epochs", "7"), "epochs 4 -> 7"),
        ("report-over-db", ("report", "study", "-o", "study/study.db"), "study.db"),
        ("export-over-db", ("export", "study", "-o", "study/study.db"), "study.db"),
        ("export-unknown-trial", ("export", "study", "--trial", "99", "-o", "best.keras"), "99"),
        ("export-trial-zero", ("export", "study", "--trial", "0", "-o", "best.keras"), "0"),
        ("export-not-keras", ("export", "study", "-o", "best.txt"), "best.txt"),
        ("export-model-missing", ("export", "study", "-o", "best.keras"), "trial"),
        ("keep-models-zero", ("run", "--study-dir", "new", "--keep-models", "0"), "'0'"),
        ("keep-models-word", ("run", "--study-dir", "new", "--keep-models", "most"), "most"),
        ("report-over-log", ("report", "study", "-o", "study/study.log"), "study.log"),
        ("report-into-models", ("report", "study", "-o", "study/models/r.html"), "models"),
        ("report-over-dir", ("report", "study", "-o", "study"), "study"),
        ("doctor-export-over-db", ("doctor", "study", "--export", "study/study.db"), "study.db"),
        ("resume-budget-zero", ("resume", "study", "--budget-epochs", "0"), "budget"),
    ]
    cases += [Case("cli", id, argv, names, files, study="good") for id, argv, names in study_rows]
    return cases


def data_cases() -> list[Case]:
    functions = {
        "none": "NoneType", "three": "3 values", "raises": "no data today", "features_4d": "shape",
        "images_2x2": "2x2", "labels_out_of_range": "class", "labels_fractional": "0.5", "one_class": "n_classes",
        "classes_as_text": "n_classes", "lengths_differ": "labels", "nan_features": "NaN", "empty_train": "empty",
        "text_features": "dtype", "shapes_differ": "shape", "too_few_to_validate": "validation", "huge_class_count": "1000000000000",
    }
    return [Case("data", name, ("run", "--study-dir", "new", "--trials", "1", "--epochs", "1",
                                "--dataset", f"data.py:{name}"), names, {"data.py": DATA_PY})
            for name, names in functions.items()]


def network_cases() -> list[Case]:
    functions = {
        "net_none": "NoneType", "net_layer": "Dense", "net_raises": "cannot build today",
        "net_wrong_width": "units", "net_two_outputs": "one output", "net_needs_hp": "missing_hp",
        "not_callable": "not_callable",
    }
    cases = [Case("network", name, RUN + ("--network", f"data.py:{name}"), names, {"data.py": DATA_PY})
             for name, names in functions.items()]
    cases += [
        Case("network", "spec-no-colon", RUN + ("--network", "data.py"), "data.py", {"data.py": DATA_PY}),
        Case("network", "syntax-error", RUN + ("--network", "broken.py:build"), "broken.py",
             {"data.py": DATA_PY, "broken.py": BROKEN_PY}),
        Case("network", "bad-name", RUN + ("--network", "data.py:1net"), "1net", {"data.py": DATA_PY}),
    ]
    return cases


def rules_cases() -> list[Case]:
    rows: list[tuple[str, dict[str, str | bytes], str]] = [
        ("empty-dir", {"rules/README": "no rules"}, "no .pl"),
        ("syntax-error", {"rules/bad.pl": "problem(x) :- .\n"}, "bad.pl"),
        ("not-utf8", {"rules/bad.pl": b"problem(\xff).\n"}, "UTF-8"),
        ("unknown-action", {"rules/act.pl": "0.5::action(teleport, overfitting) :- problem(overfitting).\n"},
         "teleport"),
        ("pl-is-directory", {"rules/dir.pl/x": "x", "rules/ok.pl": GOOD_RULE}, "dir.pl"),
    ]
    cases = []
    for id, files, names in rows:
        cases.append(Case("rules", f"run-{id}", RUN + ("--rules", "rules"), names, {"data.py": DATA_PY, **files}))
        cases.append(Case("rules", f"diagnose-{id}", ("diagnose", "h.json", "--rules", "rules"), names,
                          {"h.json": '{"loss": [2.0, 1.5, 1.2, 1.0]}', **files}))
    replace = {"data.py": DATA_PY, "rules/only.pl": GOOD_RULE,
               "c.toml": '[study]\ndataset = "data.py:tiny"\n[rules]\ndir = "rules"\nmode = "replace"\n'}
    cases.append(Case("rules", "replace-missing-files", ("run", "--study-dir", "new", "--config", "c.toml"),
                      "replace", replace))
    cases.append(Case("rules", "diagnose-rules-missing", ("diagnose", "h.json", "--rules", "nope"), "nope",
                      {"h.json": '{"loss": [2.0, 1.5, 1.2, 1.0]}'}))
    return cases


def history_cases() -> list[Case]:
    rows: list[tuple[str, str, str | bytes, str]] = [
        ("not-json", "h.json", "{loss: [1, 2]", "not valid JSON"),
        ("not-utf8", "h.json", b'{"loss": [1.0, \xff]}', "UTF-8"),
        ("json-list", "h.json", "[1, 2, 3]", "list"),
        ("json-number", "h.json", "5", "int"),
        ("no-loss", "h.json", '{"val_loss": [1.0, 0.9]}', "loss"),
        ("loss-string", "h.json", '{"loss": "1.0, 0.9"}', "loss"),
        ("loss-strings", "h.json", '{"loss": ["1.0", "0.9", "0.8"]}', "'1.0'"),
        ("loss-nested", "h.json", '{"loss": [[1.0], [0.9], [0.8]]}', "[1.0]"),
        ("loss-bools", "h.json", '{"loss": [true, false, true]}', "True"),
        ("loss-empty", "h.json", '{"loss": []}', "empty"),
        ("lengths-differ", "h.json", '{"loss": [1.0, 0.9, 0.8], "val_loss": [1.0]}', "lengths"),
        ("accuracy-above-100", "h.json", '{"loss": [1.0, 0.9, 0.8], "accuracy": [0.5, 150, 0.7]}', "150"),
        ("accuracy-negative", "h.json", '{"loss": [1.0, 0.9, 0.8], "accuracy": [0.5, -0.2, 0.7]}', "-0.2"),
        ("n-classes-zero", "h.json", '{"loss": [1.0, 0.9, 0.8], "n_classes": 0}', "n_classes"),
        ("n-classes-text", "h.json", '{"loss": [1.0, 0.9, 0.8], "n_classes": "ten"}', "ten"),
        ("history-not-object", "h.json", '{"history": [1, 2]}', "history"),
        ("val-loss-object", "h.json", '{"loss": [1.0, 0.9, 0.8], "val_loss": [1.0, {"a": 1}, 0.5]}', "{'a': 1}"),
        ("csv-empty", "h.csv", "", "empty"),
        ("csv-header-only", "h.csv", "epoch,loss,val_loss\n", "no rows"),
        ("csv-ragged", "h.csv", "epoch,loss\n0,1.0\n1,0.9,0.3\n", "row 3"),
        ("csv-no-loss", "h.csv", "epoch,acc\n0,0.5\n1,0.6\n", "loss"),
        ("csv-text-cell", "h.csv", "epoch,loss\n0,1.0\n1,lots\n", "lots"),
        ("csv-bad-epoch", "h.csv", "epoch,loss\n0,1.0\nx,0.9\n", "'x'"),
        ("csv-not-utf8", "h.csv", b"epoch,loss\n0,\xff\n", "UTF-8"),
        ("binary", "h.json", bytes(range(256)) * 4, "UTF-8"),
        ("tensorboard-empty-dir", "tb/.keep", "", "tb"),
        ("unknown-extension", "h.txt", "loss\n1.0\n", "h.txt"),
    ]
    cases = []
    for id, name, content, names in rows:
        target = name.split("/")[0]
        cases.append(Case("history", id, ("diagnose", target), names, {name: content}))
    return cases


def dashboard_cases() -> list[Case]:
    rows = [
        ("port-zero", ("dashboard", "study", "--port", "0"), "0"),
        ("port-huge", ("dashboard", "study", "--port", "70000"), "70000"),
        ("port-text", ("dashboard", "study", "--port", "http"), "http"),
        ("host-unknown", ("dashboard", "study", "--host", "no-such-host.invalid"), "no-such-host.invalid"),
        ("host-not-local", ("dashboard", "study", "--host", "203.0.113.7"), "203.0.113.7"),
        ("not-a-study", ("dashboard", "full"), "full"),
        ("missing", ("dashboard", "nowhere"), "nowhere"),
    ]
    files = {"full/notes.txt": "x"}
    return [Case("dashboard", id, argv, names, files, study="good") for id, argv, names in rows]


# -- damaged stores ----------------------------------------------------------------------------------

def _sql(statement: str) -> Callable[[Path], None]:
    def damage(db: Path) -> None:
        conn = sqlite3.connect(db)
        conn.execute(statement)
        conn.commit()
        conn.close()
    return damage


def _garbage_page(db: Path) -> None:
    data = bytearray(db.read_bytes())
    page = 4096
    for i in range(2 * page, min(len(data), 2 * page + 512)):
        data[i] = 0x5A
    db.write_bytes(bytes(data))


def _truncate(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])


def _empty(db: Path) -> None:
    db.write_bytes(b"")


def _text(db: Path) -> None:
    db.write_text("this is not a database\n" * 50)


DAMAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    **{f"drop-{table}": (_sql(f"DROP TABLE {table}"), table)
       for table in ("meta", "tuning_versions", "trials", "epochs", "actions", "rule_weights", "verdicts",
                     "events")},
    "params-json": (_sql("UPDATE trials SET params='{not json' WHERE number=2"), "trial 2"),
    "params-list": (_sql("UPDATE trials SET params='[1, 2]' WHERE number=2"), "trial 2"),
    "extra-json": (_sql("UPDATE trials SET extra='{' WHERE number=1"), "trial 1"),
    "diagnosis-json": (_sql("UPDATE trials SET diagnosis='nope' WHERE number=1"), "trial 1"),
    "space-json": (_sql("UPDATE tuning_versions SET space='{' WHERE version=1"), "version 1"),
    "space-bad": (_sql("""UPDATE tuning_versions SET space='{"dimensions": [{"type": "int", "name": "x",
                       "low": 5, "high": 1}]}' WHERE version=1"""), "version 1"),
    "architecture-json": (_sql("UPDATE tuning_versions SET architecture='[' WHERE version=1"), "version 1"),
    "settings-json": (_sql("UPDATE meta SET value='{' WHERE key='settings'"), "settings"),
    "settings-missing": (_sql("DELETE FROM meta WHERE key='settings'"), "settings"),
    "schema-text": (_sql("UPDATE meta SET value='two' WHERE key='schema_version'"), "two"),
    "schema-future": (_sql("UPDATE meta SET value='99' WHERE key='schema_version'"), "99"),
    "schema-zero": (_sql("UPDATE meta SET value='0' WHERE key='schema_version'"), "0"),
    "schema-missing": (_sql("DELETE FROM meta WHERE key='schema_version'"), "schema"),
    "garbage-page": (_garbage_page, "study.db"),
    "truncated": (_truncate, "study.db"),
    "empty-file": (_empty, "study.db"),
    "text-file": (_text, "study.db"),
}


def damaged_cases() -> list[Case]:
    commands = {
        "status": ("status", "study"),
        "resume": ("resume", "study", "--trials", "6"),
        "run": ("run", "--study-dir", "study", "--trials", "6"),
        "report": ("report", "study", "-o", "r.html"),
    }
    cases = []
    for damage, (_, names) in DAMAGES.items():
        for command, argv in commands.items():
            if command in ("resume", "report") and damage.startswith("drop-") and damage not in (
                    "drop-trials", "drop-meta"):
                continue  # status and run cover the other dropped tables
            cases.append(Case("damaged", f"{damage}-{command}", argv, names, {}, study=damage))
    return cases


def all_cases() -> list[Case]:
    return (config_cases() + cli_cases() + data_cases() + network_cases() + rules_cases() + history_cases()
            + dashboard_cases() + damaged_cases())
