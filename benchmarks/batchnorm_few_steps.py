"""Batch normalisation after a handful of optimizer steps: validation accuracy with and without it.

The digits-small comparison (240 images to fit, 3 epochs, batch 64: 12
optimizer steps) showed trials collapsing after ``batch_norm`` was applied.
This script trains the default network with the same params with and without
batch normalisation, for a few learning rates and seeds, and prints the final
validation accuracy and loss of each, so the effect can be measured apart
from the tuner.

    python benchmarks/batchnorm_few_steps.py [--epochs 3] [--batch-size 64] [--seeds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from symtuner.core.architecture import Architecture  # noqa: E402
from symtuner.data import load_dataset  # noqa: E402
from symtuner.training import build_default_network, split_validation  # noqa: E402
from symtuner.training.training import make_optimizer  # noqa: E402

PARAMS = {"unit_c1": 62, "dr1_2": 0.165, "unit_c2": 65, "unit_d": 343, "dr_f": 0.316, "optimizer": "Adam",
          "activation": "relu", "l2": 1e-4}


def train(dataset: str, batch_norm: bool, learning_rate: float, epochs: int, batch_size: int,
          seed: int) -> tuple[float, float]:
    import keras

    data = load_dataset(dataset, seed=0)
    split = split_validation(data, 0.2, 0)
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    params = {**PARAMS, "learning_rate": learning_rate}
    model = build_default_network(params, Architecture(batch_norm=batch_norm, l2=True), data.input_shape,
                                  data.n_classes)
    model.compile(make_optimizer(params), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(split.x_fit, split.y_fit, validation_data=(split.x_val, split.y_val), epochs=epochs,
                        batch_size=batch_size, verbose=0)
    return history.history["val_accuracy"][-1], history.history["val_loss"][-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits-small")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rates", default="0.00025,0.001,0.002")
    args = parser.parse_args()
    print(f"{args.dataset}, {args.epochs} epochs, batch {args.batch_size}, Adam, {args.seeds} seeds\n")
    print("| learning rate | batch norm | val accuracy (mean ± std) | val loss (mean) |")
    print("|---|---|---|---|")
    for rate in (float(r) for r in args.rates.split(",")):
        for batch_norm in (False, True):
            results = [train(args.dataset, batch_norm, rate, args.epochs, args.batch_size, seed)
                       for seed in range(args.seeds)]
            accs = [a for a, _ in results]
            spread = statistics.stdev(accs) if len(accs) > 1 else 0.0
            print(f"| {rate:g} | {'on' if batch_norm else 'off'} | {statistics.fmean(accs):.3f} ± {spread:.3f} | "
                  f"{statistics.fmean(loss for _, loss in results):.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
