"""How the loop scales with workers: local pool and Ray, simulated and real trainings.

    python benchmarks/parallel.py [--out parallel.md] [--skip-ray] [--skip-keras]

1. Fixed-length simulated trials (each epoch sleeps, ``--trial-seconds`` per
   trial; early stopping off, so that every study does the same work
   whichever trials run side by side: with it on, which trials stop early
   depends on what the others have shown by then): the wall time of a study of ``--trials`` trials at 1, 2 and 4
   workers, with the local pool and with a private Ray instance, and the
   speed-up against 1 worker of the same executor; both for the whole run and
   for the loop alone (from the first trial's start to the last one's end,
   as stored: the set-up before it, loading the data set, building the rule
   engine and starting Ray, and stopping Ray after it, take about the same
   time at any number of workers; the workers' own start is part of the
   loop where it is not hidden behind the loading of the data set). The trials sleep, so this
   is the loop's own scaling (proposals, the symbolic step, the store, the
   workers' start-up), not the machine's.
2. The driver's overhead at 16 simulated workers with 10 s trials: wall time
   minus the ideal ``ceil(trials / 16) x 10 s``, per trial, as a share of a trial.
3. Real tiny Keras trials (digits-small, 3 epochs): wall time at 1 and 2
   workers (local pool), as measured on this machine.

Every study has the symbolic layer on (the default settings; the simulated
ones without early stopping, see 1.).
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import platform
import tempfile
import time
from pathlib import Path

from symtuner.core.settings import StudySettings
from symtuner.execution import ExecutionSettings
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.tuner import Tuner

EPOCHS = 4


def simulated_study(root: Path, workers: int, trials: int, trial_seconds: float, ray: str | None
                    ) -> tuple[float, float]:
    """Wall seconds of one simulated study, and the seconds from its first trial's start to its last trial's
    end, stored (the loop alone: without loading the data set, building the rule engine, starting the
    executor and stopping it)."""
    from symtuner.storage import StudyStore

    factory = functools.partial(SimulatedExecutor, epoch_seconds=trial_seconds / EPOCHS)
    directory = Path(tempfile.mkdtemp(dir=root))
    start = time.perf_counter()
    Tuner(directory / "study", dataset="digits-small", settings=StudySettings(epochs=EPOCHS, stop_early=False),
          executor_factory=factory, execution=ExecutionSettings(workers=workers, ray=ray), quiet=True).run(trials)
    wall = time.perf_counter() - start
    with StudyStore.open(directory / "study", readonly=True) as store:
        trials = store.trials()
    first = min(t.started_at for t in trials if t.started_at is not None)
    last = max(t.finished_at for t in trials if t.finished_at is not None)
    return wall, last - first


def keras_study(root: Path, workers: int, trials: int) -> float:
    directory = Path(tempfile.mkdtemp(dir=root))
    start = time.perf_counter()
    Tuner(directory / "study", dataset="digits-small", settings=StudySettings(epochs=3),
          execution=ExecutionSettings(workers=workers, threads_per_trial=max(1, (os.cpu_count() or 2) // workers)),
          quiet=True).run(trials)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--trial-seconds", type=float, default=2.0)
    parser.add_argument("--keras-trials", type=int, default=4)
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--skip-keras", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    lines = [f"Machine: {os.cpu_count()} CPU(s), {platform.platform()}, Python {platform.python_version()}.", ""]
    executors: list[tuple[str, str | None]] = [("pool", None)] + ([] if args.skip_ray else [("ray", "local")])
    with tempfile.TemporaryDirectory(prefix="symtuner-parallel-") as tmp:
        root = Path(tmp)
        lines += [f"## Simulated trials of {args.trial_seconds:g} s, {args.trials} trials per study", "",
                  "| executor | workers | wall (s) | ideal (s) | speed-up vs 1 worker | loop (s) | loop speed-up |",
                  "|---|---|---|---|---|---|---|"]
        for name, ray in executors:
            base: tuple[float, float] | None = None
            for workers in (1, 2, 4):
                # one worker with ray=None is the in-process loop; the pool starts at 2
                wall, loop = simulated_study(root, workers, args.trials, args.trial_seconds, ray)
                base = base or (wall, loop)
                ideal = math.ceil(args.trials / workers) * args.trial_seconds
                label = name if workers > 1 or ray else "in-process"
                lines.append(f"| {label} | {workers} | {wall:.1f} | {ideal:.1f} | {base[0] / wall:.2f}x | "
                             f"{loop:.1f} | {base[1] / loop:.2f}x |")
                print(lines[-1], flush=True)
        lines += ["", "## Driver overhead at 16 workers, 10 s trials", "",
                  "| executor | trials | wall (s) | ideal (s) | overhead per trial (s) | share of a trial |",
                  "|---|---|---|---|---|---|"]
        for name, ray in executors:
            trials = 32
            wall, _ = simulated_study(root, 16, trials, 10.0, ray)
            ideal = math.ceil(trials / 16) * 10.0
            per = (wall - ideal) / trials
            lines.append(f"| {name} | {trials} | {wall:.1f} | {ideal:.1f} | {per:.2f} | {per / 10.0:.1%} |")
            print(lines[-1], flush=True)
        if not args.skip_keras:
            lines += ["", f"## Real Keras trials (digits-small, 3 epochs), {args.keras_trials} trials", "",
                      "| workers | wall (s) | speed-up |", "|---|---|---|"]
            one = keras_study(root, 1, args.keras_trials)
            two = keras_study(root, 2, args.keras_trials)
            lines += [f"| 1 (in-process) | {one:.1f} | 1.00x |", f"| 2 (pool) | {two:.1f} | {one / two:.2f}x |"]
            print("\n".join(lines[-2:]), flush=True)
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

