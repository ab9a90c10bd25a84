"""Training throughput on streamed data: a symtuner trial against a plain ``model.fit`` of the same pipeline.

A data set that does not fit in memory reaches symtuner as sets of batches
(``tf.data.Dataset`` or ``keras.utils.PyDataset``). A trial then fits on
them through symtuner's layer: each batch converted to symtuner's layout,
re-batched to the trial's (tuned) batch size and shuffled, the validation
set read in evaluation batches (:mod:`symtuner.training.splits`). This script
measures what that costs against the user's own ``model.fit`` on the same
pipeline, for both kinds of set:

* the pipeline synthesises 28x28 grey images batch by batch (a generator
  for tf.data, ``__getitem__`` for the PyDataset), so every epoch reads it
  afresh, as a set on disk would be;
* the trial runs through :class:`~symtuner.execution.inprocess.InProcessExecutor`
  with the tuner's callbacks (early stopping that cannot trigger within the
  epochs, NaN check, TensorBoard); its own measured fit seconds are used;
* the plain side builds, compiles and fits the same network (same params,
  seed, batch size, epochs) on the user's pipelines as they are:
  ``--plain-shuffle`` makes its training pipeline shuffle samples as a user
  would (``unbatch().shuffle().batch()`` for tf.data; a PyDataset is
  fitted with ``shuffle=True``, which Keras ignores for a PyDataset);
* plain and trial runs alternate (plain, trial, plain, trial, ...) after
  warm-up pairs, and the median of the pairs' ratios of samples per second
  is reported (1.000 = as fast as the plain fit).

    python benchmarks/streaming.py                       # both kinds, 5 pairs
    python benchmarks/streaming.py --kinds tf --pairs 7 --plain-shuffle
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

SIDE = 28
#: The network the trials and the plain fits train (the default convolutional network).
PARAMS: dict[str, Any] = {"unit_c1": 32, "dr1_2": 0.15, "unit_c2": 64, "unit_d": 256, "dr_f": 0.25,
                          "learning_rate": 5e-4, "batch_size": 64, "optimizer": "Adam", "activation": "relu"}


def _batch(index: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng((seed, index))
    labels = rng.integers(0, 10, size)
    x = rng.random((size, SIDE, SIDE), dtype=np.float32) * 0.5
    rows = labels[:, None] * 2 + np.arange(2)  # class c brightens rows 2c and 2c + 1
    x[np.arange(size)[:, None], rows] += 0.5
    return x, labels.astype(np.int64)


def make_sets(kind: str, n_train: int, n_val: int, batch: int) -> tuple[Any, Any, Any]:
    """Training, validation and test sets of ``kind`` (``tf`` or ``py``), made batch by batch."""
    if kind == "tf":
        import tensorflow as tf

        spec = (tf.TensorSpec((None, SIDE, SIDE), tf.float32), tf.TensorSpec((None,), tf.int64))

        def generated(n: int, seed: int) -> Any:
            return tf.data.Dataset.from_generator(
                lambda: (_batch(i, min(batch, n - i * batch), seed) for i in range(-(-n // batch))),
                output_signature=spec)

        return generated(n_train, 0), generated(n_val, 1), generated(n_val, 2)
    import keras

    class Synthetic(keras.utils.PyDataset):
        def __init__(self, n: int, seed: int) -> None:
            super().__init__()
            self.n, self.seed = n, seed

        def __len__(self) -> int:
            return -(-self.n // batch)

        def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
            return _batch(index, min(batch, self.n - index * batch), self.seed)

    return Synthetic(n_train, 0), Synthetic(n_val, 1), Synthetic(n_val, 2)


def plain_fit(kind: str, sets: tuple[Any, Any, Any], epochs: int, seed: int, shuffle: bool) -> float:
    """Seconds of the user's own ``model.fit`` on the pipelines (the network symtuner would build)."""
    import keras

    from symtuner.core.architecture import Architecture
    from symtuner.training.builder import build_default_network
    from symtuner.training.splits import END_OF_DATA_WARNING
    from symtuner.training.training import make_optimizer

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = build_default_network(dict(PARAMS), Architecture(), (SIDE, SIDE, 1), 10)
    model.compile(optimizer=make_optimizer(PARAMS), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    train, validation, _ = sets
    if shuffle and kind == "tf":
        train = train.unbatch().shuffle(10_000, seed=seed).batch(int(PARAMS["batch_size"]))
    with warnings.catch_warnings():  # a generator's end ends every epoch: Keras warns of it each time
        warnings.filterwarnings("ignore", message=END_OF_DATA_WARNING)
        start = time.perf_counter()
        model.fit(train, validation_data=validation, epochs=epochs, shuffle=shuffle, verbose=0)
        return time.perf_counter() - start


def trial_fit(executor: Any, directory: Path, number: int) -> tuple[float, int]:
    """The fit seconds and epochs of a symtuner trial on the same pipelines."""
    from symtuner.core.architecture import Architecture
    from symtuner.core.contract import TrialSpec

    spec = TrialSpec(number=number, params=dict(PARAMS), architecture=Architecture(), seed=number,
                     model_path=directory / "models" / f"trial_{number:04d}.keras",
                     log_dir=directory / "logs" / f"trial_{number:04d}")
    result = executor.run(spec)
    return float(result.train_seconds), int(result.epochs_run)


def measure(kind: str, pairs: int, warmup: int, epochs: int, n_train: int, n_val: int,
            plain_shuffle: bool) -> list[dict[str, Any]]:
    from symtuner.data.streams import streamed_dataset
    from symtuner.execution.inprocess import InProcessExecutor
    from symtuner.training.builder import build_default_network
    from symtuner.training.training import TrainingConfig

    batch = int(PARAMS["batch_size"])
    sets = make_sets(kind, n_train, n_val, batch)
    dataset = streamed_dataset((*sets, 10), f"synthetic-{kind}")
    executor = InProcessExecutor(dataset, build_default_network, TrainingConfig(epochs=epochs, patience=epochs))
    rows = []
    with tempfile.TemporaryDirectory(prefix="symtuner-streaming-") as scratch:
        for index in range(warmup + pairs):
            plain = plain_fit(kind, sets, epochs, index + 1, plain_shuffle)
            fit, epochs_run = trial_fit(executor, Path(scratch), index + 1)
            if index < warmup:
                continue
            rows.append({"kind": kind, "pair": index - warmup + 1, "plain_fit": plain, "trial_fit": fit,
                         "plain_rate": epochs * n_train / plain, "trial_rate": epochs_run * n_train / fit,
                         "ratio": (epochs_run / fit) / (epochs / plain)})
    return rows


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip() or "?"
    lines = [f"streamed-data throughput, commit {commit}, {platform.platform()}, {os.cpu_count()} CPU(s), "
             f"{args.n_train} training + {args.n_val} validation images of {SIDE}x{SIDE}, batch "
             f"{PARAMS['batch_size']}, {args.epochs} epochs, plain fit "
             f"{'shuffling its samples' if args.plain_shuffle else 'on the pipeline as it is'}", "",
             "| set | pair | plain fit s | trial fit s | plain img/s | trial img/s | ratio |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['kind']} | {row['pair']} | {row['plain_fit']:.2f} | {row['trial_fit']:.2f} | "
                     f"{row['plain_rate']:.0f} | {row['trial_rate']:.0f} | {row['ratio']:.3f} |")
    lines.append("")
    for kind in dict.fromkeys(row["kind"] for row in rows):
        ratios = [row["ratio"] for row in rows if row["kind"] == kind]
        lines.append(f"- {kind}: median throughput ratio {statistics.median(ratios):.3f} over {len(ratios)} pairs "
                     f"(min {min(ratios):.3f}, max {max(ratios):.3f}); 1.000 = as fast as plain model.fit")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default="tf,py", help="comma-separated: tf (tf.data), py (PyDataset)")
    parser.add_argument("--pairs", type=int, default=5, help="measured (plain, trial) pairs per kind")
    parser.add_argument("--warmup", type=int, default=1, help="pairs run first and left out")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--n-train", type=int, default=8192)
    parser.add_argument("--n-val", type=int, default=1024)
    parser.add_argument("--plain-shuffle", action="store_true",
                        help="the plain tf.data fit shuffles samples through a 10,000-sample buffer")
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    if not kinds or any(k not in ("tf", "py") for k in kinds) or args.pairs < 1 or args.warmup < 0:
        parser.error("--kinds takes tf and/or py; --pairs must be >= 1 and --warmup >= 0")
    rows = [row for kind in kinds for row in measure(kind, args.pairs, args.warmup, args.epochs, args.n_train,
                                                      args.n_val, args.plain_shuffle)]
    print(report(rows, args))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
