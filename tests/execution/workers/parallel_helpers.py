"""Executors the parallel tests send to worker processes (importable there through PYTHONPATH)."""

from __future__ import annotations

import os
from pathlib import Path

from symtuner.execution.simulate import SimulatedExecutor


class PidRecordingExecutor(SimulatedExecutor):
    """Simulated training that sleeps each epoch and writes its process id to PID_DIR/trial_N.pid."""

    def __init__(self, dataset=None, network_fn=None, config=None, **kwargs):
        super().__init__(dataset, network_fn, config, epoch_seconds=0.3, **kwargs)
        self.dataset = dataset

    def run(self, spec, on_epoch=None):
        directory = Path(os.environ["SYMTUNER_TEST_PID_DIR"])
        (directory / f"trial_{spec.number}.pid").write_text(str(os.getpid()))
        if self.dataset is not None:  # the data the trainer was given: size and a checksum, in order
            x = self.dataset.x_train.reshape(len(self.dataset.x_train), -1).sum(axis=1)
            (directory / f"trial_{spec.number}.data").write_text(f"{self.dataset.n_train} {x.tolist()}")
        return super().run(spec, on_epoch)


class SlowPidRecordingExecutor(PidRecordingExecutor):
    """As PidRecordingExecutor, with epochs of SYMTUNER_TEST_EPOCH_SECONDS seconds (default 30)."""

    def __init__(self, dataset=None, network_fn=None, config=None, **kwargs):
        super().__init__(dataset, network_fn, config, **kwargs)
        self.epoch_seconds = float(os.environ.get("SYMTUNER_TEST_EPOCH_SECONDS", "30"))


class JitteredExecutor(SimulatedExecutor):
    """Simulated training whose epochs last 0.05 to 0.25 s at random (not seeded): trials end in an
    order that changes from run to run."""

    def run(self, spec, on_epoch=None):
        import random
        import time

        def jittered(epoch, logs):
            time.sleep(random.uniform(0.05, 0.25))
            return on_epoch(epoch, logs) if on_epoch is not None else ""

        return super().run(spec, jittered)
