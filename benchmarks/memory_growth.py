"""What a one-worker study's process keeps of each trial: its resident memory after every trial, with
the trials run in that process and with ``--isolate`` (each trial in a fresh worker process).

TensorFlow keeps part of what every ``model.fit`` allocated until its process ends. This script runs
the same study twice (random search, no symbolic layer, so that both runs train the same networks) on
a space of large networks and prints the driver's resident memory (VmRSS) after each trial.

    python benchmarks/memory_growth.py [--space benchmarks/spaces/big_net.toml] [--trials 8] [--epochs 1]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from symtuner.core.settings import StudySettings, load_config  # noqa: E402
from symtuner.execution import ExecutionSettings  # noqa: E402
from symtuner.study.observer import SilentProgress  # noqa: E402
from symtuner.tuner import Tuner  # noqa: E402

HERE = Path(__file__).parent


def resident_mb() -> int:
    """This process's resident memory in MB (Linux's /proc/self/status)."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) // 1024


class _Memory(SilentProgress):
    def __init__(self) -> None:
        self.after: list[int] = []

    def trial_finished(self, trial: Any, best: Any, advice: Any) -> None:
        self.after.append(resident_mb())


def run(space_file: Path, dataset: str, trials: int, epochs: int, isolate: bool) -> list[int]:
    progress = _Memory()
    with tempfile.TemporaryDirectory() as scratch:
        Tuner(Path(scratch) / "study", dataset=dataset, space=load_config(space_file).space, progress=progress,
              settings=StudySettings(epochs=epochs, seed=0, optimizer="random", symbolic=False),
              execution=ExecutionSettings(isolate=isolate)).run(trials)
    return progress.after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", type=Path, default=HERE / "spaces" / "big_net.toml")
    parser.add_argument("--dataset", default="digits-small")
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    for isolate in (True, False):  # isolated first: the run in this process keeps what it grew
        after = run(args.space, args.dataset, args.trials, args.epochs, isolate)
        where = "each trial in a fresh worker process (--isolate)" if isolate else "trials in this process"
        print(f"{where}: resident MB after each trial: {' '.join(map(str, after))} "
              f"(+{after[-1] - after[0]} MB from trial 1 to {len(after)})", flush=True)


if __name__ == "__main__":
    main()
