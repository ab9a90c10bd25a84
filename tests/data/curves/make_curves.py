"""Record the real golden learning curves from tiny Keras runs on sklearn's digits.

A one-off script, not run by the tests (it trains networks: about a minute
on two CPU cores). Each case sets up a classic failure (or a healthy run) the
way an engineer would provoke it; ``expected`` lists what such an engineer
reads off the plot, ``acceptable`` what they would also accept. The labels
were written from the printed curves, before and independently of the rules.

    .venv/bin/python tests/data/curves/make_curves.py [case ...]
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

OUT = Path(__file__).resolve().parent


@dataclass
class Case:
    name: str
    description: str
    expected: list[str]
    units: list[int]
    optimizer: str
    lr: float
    epochs: int
    batch: int
    acceptable: list[str] = field(default_factory=list)
    momentum: float = 0.0
    n_train: int | None = None
    dropout: float = 0.0
    binary: bool = False
    activation: str = "relu"
    l2: float = 0.0


CASES = [
    Case("digits_healthy_adam", "64-unit dense net, Adam 1e-3: smooth, converging, train and val together",
         [], [64], "adam", 1e-3, 12, 32),
    Case("digits_healthy_dropout", "128 units + dropout 0.5, Adam 1e-3: val at or above train (dropout), converging",
         [], [128], "adam", 1e-3, 15, 32, dropout=0.5),
    Case("digits_healthy_binary", "0 vs 1 digits (2 classes), Adam 1e-3: fast, clean convergence",
         [], [16], "adam", 1e-3, 8, 32, binary=True),
    Case("digits_high_lr_adam", "Adam lr 1.0: the loss explodes in epoch 1 and then sits at chance level",
         ["high_lr"], [64], "adam", 1.0, 10, 32, acceptable=["increasing_loss"]),
    Case("digits_high_lr_sgd", "SGD lr 3.0: dead network, loss flat at chance level, accuracy below chance",
         ["high_lr"], [64], "sgd", 3.0, 10, 32),
    Case("digits_diverged_sgd", "linear activations, SGD lr 5.0: the loss becomes NaN",
         ["high_lr"], [256, 256], "sgd", 5.0, 6, 32, acceptable=["increasing_loss"], activation="linear"),
    Case("digits_low_lr_sgd", "SGD lr 1e-3: the loss creeps down in a straight line from chance level",
         ["low_lr"], [64], "sgd", 1e-3, 10, 32, acceptable=["underfitting"]),
    Case("digits_low_lr_adam", "Adam lr 1e-5: the loss creeps down in a straight line from chance level",
         ["low_lr"], [64], "adam", 1e-5, 10, 32, acceptable=["underfitting"]),
    Case("digits_slow_start_sgd", "SGD lr 0.02 on 300 images: the loss falls in a straight line from chance "
         "level and the val accuracy climbs from 0.09 to about 0.6 in 12 epochs (a slow start that learns)",
         ["low_lr"], [64], "sgd", 0.02, 12, 32, n_train=300, acceptable=["underfitting"]),
    Case("digits_overfitting_small_data", "60 training images, 2 x 512 units, 40 epochs: train 100%, "
         "train loss to ~0, val loss flat then rising", ["overfitting"], [512, 512], "adam", 1e-3, 40, 16,
         n_train=60),
    Case("digits_overfitting_tiny_data", "20 training images, 2 x 512 units: train 100%, val far below",
         ["overfitting"], [512, 512], "adam", 1e-3, 40, 8, n_train=20, acceptable=["underfitting"]),
    Case("digits_underfitting_2_units", "a 2-unit bottleneck: both accuracies stuck near 30%",
         ["underfitting"], [2], "adam", 1e-2, 12, 32),
    Case("digits_fluctuating_sgd", "SGD lr 0.5, batch 4: the training loss keeps bouncing up",
         ["fluctuating_loss"], [64], "sgd", 0.5, 12, 4, acceptable=["high_lr"]),
    Case("digits_fluctuating_adam", "Adam lr 0.02, batch 4: training loss bounces by a third of its level",
         ["fluctuating_loss"], [64], "adam", 0.02, 12, 4, acceptable=["high_lr"]),
    Case("digits_increasing_momentum", "SGD lr 0.3, momentum 0.95: unstable, the loss climbs back at the end",
         ["increasing_loss", "fluctuating_loss"], [64], "sgd", 0.3, 12, 32, momentum=0.95,
         acceptable=["high_lr"]),
]


def _data(binary: bool) -> list:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    y = digits.target
    if binary:
        keep = y < 2
        x, y = x[keep], y[keep]
    return train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)


def record(case: Case) -> dict:
    import keras

    keras.utils.set_random_seed(0)
    x_train, x_val, y_train, y_val = _data(case.binary)
    if case.n_train is not None:
        x_train, y_train = x_train[:case.n_train], y_train[:case.n_train]
    n_classes = 2 if case.binary else 10
    layers: list = [keras.Input((64,))]
    for units in case.units:
        layers.append(keras.layers.Dense(units, activation=case.activation))
        if case.dropout:
            layers.append(keras.layers.Dropout(case.dropout))
    layers.append(keras.layers.Dense(n_classes, activation="softmax"))
    model = keras.Sequential(layers)
    optimizer = (keras.optimizers.Adam(case.lr) if case.optimizer == "adam"
                 else keras.optimizers.SGD(case.lr, momentum=case.momentum))
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=case.epochs,
                        batch_size=case.batch, verbose=0).history

    def series(key: str) -> list[float | None]:
        return [round(float(v), 6) if v == v and abs(float(v)) != float("inf") else None for v in history[key]]

    return {
        "description": case.description,
        "source": f"real: keras {keras.__version__}, sklearn digits, seed 0, {case.optimizer} lr {case.lr}",
        "n_classes": n_classes,
        "expected": case.expected,
        "acceptable": case.acceptable,
        "loss": series("loss"),
        "accuracy": series("accuracy"),
        "val_loss": series("val_loss"),
        "val_accuracy": series("val_accuracy"),
    }


def write(cases: list[Case], record: Callable[[Case], dict], names: list[str],
          show: Callable[[dict], str]) -> None:
    """Record the cases named in ``names`` (all when empty), one JSON file each, and print ``show`` of each."""
    for case in cases:
        if names and case.name not in names:
            continue
        data = record(case)
        path = OUT / f"{case.name}.json"
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        print(f"{path.name}: {show(data)}")


def main(names: list[str]) -> None:
    write(CASES, record, names, lambda data: f"loss {data['loss']}")


if __name__ == "__main__":
    main(sys.argv[1:])
