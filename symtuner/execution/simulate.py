"""A simulated trainer: synthetic learning curves instead of real training.

It has the executor interface (``run(spec, on_epoch) -> TrainResult``) and
reacts to hyper-parameters and architecture changes the way real networks
tend to (a learning rate far from a sweet spot trains slowly or diverges; no
regularisation overfits; more capacity helps a little), so the tuning loop,
the symbolic layer and the benchmarks can be exercised in milliseconds.
It is not a model of any real data set.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from symtuner.core.records import LearningCurve


class SimulatedExecutor:
    """Drop-in for ``InProcessExecutor``; ``(dataset, network_fn, config)`` are accepted and mostly ignored."""

    def __init__(self, dataset: Any = None, network_fn: Any = None, config: Any = None,
                 epochs: int | None = None, n_classes: int = 10, sweet_lr: float = 5e-4,
                 write_files: bool = False, epoch_seconds: float = 0.0) -> None:
        self.epochs = epochs or (getattr(config, "epochs", None) or 4)
        self.n_classes = getattr(dataset, "n_classes", n_classes)
        self.sweet_lr = sweet_lr
        self.write_files = write_files
        #: Seconds each epoch takes (a sleep), to exercise parallel and interrupted runs.
        self.epoch_seconds = epoch_seconds

    def run(self, spec: Any, on_epoch: Callable[[int, dict[str, float]], None] | None = None) -> Any:
        from symtuner.core.contract import TrainResult

        started = time.perf_counter()
        curve = simulate_curve(spec.params, spec.architecture, self.epochs, spec.seed, self.n_classes,
                               self.sweet_lr)
        stopped = ""
        for epoch in range(curve.n_epochs):
            if self.epoch_seconds:
                time.sleep(self.epoch_seconds)
            if on_epoch is not None:
                stopped = on_epoch(epoch, {k: getattr(curve, k)[epoch] for k in
                                           ("loss", "accuracy", "val_loss", "val_accuracy")}) or ""
                if stopped:
                    curve = curve.truncated(epoch + 1)
                    break
        finite = [i for i, v in enumerate(curve.val_loss) if math.isfinite(v)]
        best = min(finite, key=lambda i: curve.val_loss[i]) if finite else 0
        val_acc = curve.val_accuracy[best] if finite else 1.0 / self.n_classes
        val_loss = curve.val_loss[best] if finite else math.nan
        if self.write_files and spec.model_path is not None:  # a stand-in file where a model would be saved
            Path(spec.model_path).parent.mkdir(parents=True, exist_ok=True)
            Path(spec.model_path).write_bytes(b"simulated model of trial %d" % spec.number)
        rng = np.random.default_rng(spec.seed + 7)
        return TrainResult(curve=curve, val_loss=val_loss, val_accuracy=val_acc, test_loss=val_loss,
                           test_accuracy=float(np.clip(val_acc + rng.normal(0, 0.01), 0, 1)),
                           train_seconds=time.perf_counter() - started, epochs_run=curve.n_epochs,
                           model_path=spec.model_path, log_dir=spec.log_dir, params_count=0, stopped=stopped,
                           costs=simulated_costs(spec.params, spec.architecture))


def simulated_costs(params: dict[str, Any], arch: Any, classes: int = 10) -> dict[str, float]:
    """What the default network of ``params`` and ``arch`` would cost on 28x28x1 images (parameters and
    FLOPs counted as :mod:`symtuner.training.costs` counts them, without activations; a file of 4 bytes a
    parameter; a latency of 0.3 ms plus 5 GFLOP/s), so that limits and their rules can be exercised."""
    c1, c2 = int(params.get("unit_c1", 40)), int(params.get("unit_c2", 96))
    convs = [(28, 1, c1), (26, c1, c1), (13, c1, c2), (11, c2, c2)]  # (output side, inputs, filters)
    side, width = 5, c2
    if getattr(arch, "extra_conv", 0):
        c3 = int(params.get("unit_c3", 128))
        convs += [(5, c2, c3), (3, c3, c3)]
        side, width = 1, c3
    weights = sum(9 * n_in * n_out + n_out for _, n_in, n_out in convs)
    macs = sum(out * out * 9 * n_in * n_out for out, n_in, n_out in convs)
    units = [side * side * width, int(params.get("unit_d", 384))]
    units += [int(params.get(f"unit_fc{i}", 128)) for i in range(1, getattr(arch, "extra_dense", 0) + 1)]
    units.append(classes)
    dense = sum(a * b + b for a, b in zip(units, units[1:]))
    total = weights + dense
    flops = 2.0 * (macs + dense)
    return {"params": float(total), "flops": flops, "model_mb": 4 * total / 1e6 + 0.02,
            "latency_ms": 0.3 + flops / 5e6}


def simulate_curve(params: dict[str, Any], arch: Any, epochs: int, seed: int, n_classes: int = 10,
                   sweet_lr: float = 5e-4) -> LearningCurve:
    """Synthetic per-epoch curves for ``params`` and architecture ``arch``."""
    rng = np.random.default_rng(seed)
    lr = float(params.get("learning_rate", sweet_lr))
    if params.get("optimizer") == "Adadelta":
        lr /= 30  # Adadelta at these rates barely moves
    distance = math.log10(lr / sweet_lr)  # 0 at the sweet spot
    speed = 0.9 * math.exp(-max(0.0, -distance) * 1.5)  # slow when lr is too low
    diverges = distance > 1.6
    units = float(params.get("unit_d", 384)) / 512 + float(params.get("unit_c1", 40)) / 64
    dropout = float(params.get("dr_f", 0.2)) + float(params.get("dr1_2", 0.1))
    regularised = sum(bool(getattr(arch, name, False)) for name in ("l2", "batch_norm", "augmentation"))
    capacity = 0.78 + 0.04 * units + 0.02 * getattr(arch, "extra_dense", 0) + 0.03 * getattr(arch, "extra_conv", 0)
    overfit = max(0.0, 0.28 - 0.25 * dropout - 0.08 * regularised)
    chance_loss = math.log(n_classes)
    ceiling = min(0.995, capacity + 0.05 * regularised)
    loss, acc, val_loss, val_acc = [], [], [], []
    for epoch in range(epochs):
        progress = 1 - math.exp(-speed * (epoch + 1))
        if diverges and epoch >= 1:
            loss.append(math.nan)
            acc.append(1.0 / n_classes)
            val_loss.append(math.nan)
            val_acc.append(1.0 / n_classes)
            continue
        bumpy = rng.normal(0, 0.08 if distance > 0.8 else 0.01)
        train_acc = 1 / n_classes + (min(0.995, ceiling + overfit) - 1 / n_classes) * progress
        v_acc = 1 / n_classes + (ceiling - 1 / n_classes) * progress - overfit * progress ** 2
        acc.append(float(np.clip(train_acc + bumpy / 4, 0, 1)))
        val_acc.append(float(np.clip(v_acc + rng.normal(0, 0.01), 0, 1)))
        loss.append(float(max(0.01, chance_loss * (1 - acc[-1]) ** 1.2 + abs(bumpy))))
        val_loss.append(float(max(0.01, chance_loss * (1 - val_acc[-1]) ** 1.2 + overfit * progress * 1.5)))
    return LearningCurve(tuple(loss), tuple(acc), tuple(val_loss), tuple(val_acc))
