"""An executor for the pool's worker processes (importable there through PYTHONPATH): simulated epochs,
then a slow "evaluation and saving" after the last one, and one trial whose epochs never end."""

from __future__ import annotations

import time

from symtuner.execution.simulate import SimulatedExecutor

#: Seconds a trial spends after its last epoch, as evaluating and saving a real network does.
AFTER_TRAINING_SECONDS = 4.0


class SlowToSaveExecutor(SimulatedExecutor):
    """Trial 1 trains two quick epochs and then takes AFTER_TRAINING_SECONDS to finish; trial 2's epochs
    take a minute each (it is still training when the study is stopped)."""

    def __init__(self, dataset=None, network_fn=None, config=None, **kwargs):
        super().__init__(dataset, network_fn, config, **kwargs)

    def run(self, spec, on_epoch=None):
        self.epoch_seconds = 0.1 if spec.number == 1 else 60.0
        result = super().run(spec, on_epoch)
        time.sleep(AFTER_TRAINING_SECONDS)
        return result
