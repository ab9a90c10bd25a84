"""Record real golden learning curves of regressions: tiny Keras MLPs on scikit-learn's diabetes set.

A one-off script like make_curves.py, not run by the tests (about half a
minute on two CPU cores). Features and target are standardised on the
training split, the loss is the mean squared error, as symtuner trains a
regression; each file carries ``loss_scale`` 1.0, the MSE of always
predicting the training mean (the baseline the rules measure losses
against). ``expected`` lists what an engineer reads off the printed curves,
``acceptable`` what they would also accept; the labels were written from the
curves, before the rules were run on them.

    .venv/bin/python tests/data/curves/make_regression_curves.py [case ...]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_curves import Case, write  # noqa: E402 - the sibling script, found through the path set above

CASES = [
    Case("diabetes_healthy_adam", "16 units, Adam 3e-3, 10 epochs: the MSE falls from ~1 and levels off, "
         "val with it", [], [16], "adam", 3e-3, 10, 16),
    Case("diabetes_overfitting_long_adam", "64 units, Adam 1e-3, 40 epochs: train MSE keeps falling, val MSE "
         "rises from epoch 5 on", ["overfitting"], [64], "adam", 1e-3, 40, 16),
    Case("diabetes_overfitting_small_data", "60 training rows, 2 x 512 units, 150 epochs: train MSE to ~0, "
         "val MSE rising", ["overfitting"], [512, 512], "adam", 1e-3, 150, 16, n_train=60,
         acceptable=["fluctuating_loss"]),
    Case("diabetes_high_lr_sgd", "SGD lr 0.5 on 2 x 256 units: the loss blows up",
         ["high_lr"], [256, 256], "sgd", 0.5, 10, 16, acceptable=["increasing_loss", "fluctuating_loss"]),
    Case("diabetes_low_lr_sgd", "SGD lr 1e-4: the MSE creeps down in a straight line from its start",
         ["low_lr"], [64], "sgd", 1e-4, 20, 16, acceptable=["underfitting"]),
    Case("diabetes_underfitting_strong_l2", "64 units under an L2 penalty of 1: the weights are held at 0, "
         "the MSE stays at the mean's", ["underfitting"], [64], "adam", 1e-2, 30, 16, l2=1.0,
         acceptable=["increasing_loss"]),
    Case("diabetes_fluctuating_sgd", "SGD lr 0.1, batch 2: the training loss bounces up and down",
         ["fluctuating_loss"], [64], "sgd", 0.1, 20, 2, acceptable=["high_lr"]),
]


def _data() -> list:
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split

    bunch = load_diabetes()
    x_train, x_val, y_train, y_val = train_test_split(bunch.data, bunch.target, test_size=0.2, random_state=0)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    y_mean, y_std = y_train.mean(), y_train.std()
    return [((x - mean) / std).astype("float32") for x in (x_train, x_val)] + \
        [((y - y_mean) / y_std).astype("float32") for y in (y_train, y_val)]


def record(case: Case) -> dict:
    import keras

    keras.utils.set_random_seed(0)
    x_train, x_val, y_train, y_val = _data()
    if case.n_train is not None:
        x_train, y_train = x_train[:case.n_train], y_train[:case.n_train]
    layers: list = [keras.Input((10,))]
    for units in case.units:
        layers.append(keras.layers.Dense(units, activation=case.activation,
                                         kernel_regularizer=keras.regularizers.L2(case.l2) if case.l2 else None))
    layers.append(keras.layers.Dense(1, kernel_regularizer=keras.regularizers.L2(case.l2) if case.l2 else None))
    model = keras.Sequential(layers)
    optimizer = keras.optimizers.Adam(case.lr) if case.optimizer == "adam" else keras.optimizers.SGD(case.lr)
    # the loss recorded is the squared error alone, as symtuner records it (Keras's loss adds the L2 penalty)
    model.compile(optimizer=optimizer, loss="mean_squared_error",
                  metrics=["mae", keras.metrics.MeanSquaredError(name="data_loss")])
    history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=case.epochs,
                        batch_size=case.batch, verbose=0).history

    def series(key: str) -> list[float | None]:
        return [round(float(v), 6) if v == v and abs(float(v)) < 1e30 else None for v in history[key]]

    return {
        "description": case.description,
        "source": f"real: keras {keras.__version__}, sklearn diabetes (standardised), seed 0, "
                  f"{case.optimizer} lr {case.lr}",
        "loss_scale": 1.0,
        "expected": case.expected,
        "acceptable": case.acceptable,
        "loss": series("data_loss"),
        "val_loss": series("val_data_loss"),
        "mae": series("mae"),
        "val_mae": series("val_mae"),
    }


def main(names: list[str]) -> None:
    write(CASES, record, names, lambda data: f"\n  loss {data['loss']}\n  val  {data['val_loss']}")


if __name__ == "__main__":
    main(sys.argv[1:])
