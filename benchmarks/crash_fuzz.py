"""Kill a running study with SIGKILL at random moments, resume it, and check that nothing was lost.

Each run starts a study (simulated training, so that a trial lasts a fraction
of a second and the kills land everywhere: while the study is being
created, while a trial trains, while its results are committed), kills the
process after a random delay, resumes it to the end, and compares it with
the same study run without interruption:

- every trial that was complete before the kill is unchanged after the resume;
- every trial left interrupted was rerun exactly once with the same params and training seed;
- the study ends with exactly the number of finished trials asked for;
- the params, seeds and objectives of the finished trials equal those of the
  uninterrupted study, seed by seed (a resumed study is the study it would have been);
- ``PRAGMA integrity_check`` is ok.

With ``--workers N`` the trials run in a local pool of N worker processes,
and a run kills either the driver (as above) or one of the pool's worker
processes while it trains, chosen at random; a killed worker's trial is run
again by the driver itself, which then finishes the study (the resume after
it has nothing left to do). After a driver's kill, its orphaned workers must
be gone within a few seconds. The studies run with ``reproducible = true``
(finished trials handled in the order they started, nothing proposed ahead):
without it a parallel study depends on which trial ends first, so two
uninterrupted runs differ and there is nothing to compare a resumed one
with (``--any-order`` runs them so: everything but the comparison holds).

    python benchmarks/crash_fuzz.py --runs 30 [--workers 2 [--any-order]] [--trials 6] [--seed 0] [--out crash.json]

The worker is the same :class:`symtuner.tuner.Tuner` that ``symtuner run``
drives, on a small synthetic image set written to a file the study names.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DATA_PY = '''
import numpy as np

def tiny():
    rng = np.random.default_rng(0)
    x = rng.random((48, 28, 28, 1), dtype=np.float32)
    y = np.arange(48) % 3
    return x[:40], x[40:], y[:40], y[40:], 3
'''

#: Seconds each simulated epoch lasts, so that kills can land inside trials (in a pool, where the
#: start of a worker process dominates short trials, longer: kills of workers must find them training).
EPOCH_SECONDS, POOL_EPOCH_SECONDS = 0.04, 0.25


def worker(study: Path, data: Path, trials: int, workers: int, reproducible: bool) -> None:
    """Run (or resume) the study to ``trials`` finished trials on ``workers`` workers."""
    import functools

    import symtuner.training.builder  # noqa: F401 (imported before "ready", like the rest)
    from symtuner.execution import ExecutionSettings
    from symtuner.execution.simulate import SimulatedExecutor
    from symtuner.tuner import Tuner

    print("ready", flush=True)
    # a partial of an importable class: the pool's worker processes receive it pickled
    slow = functools.partial(SimulatedExecutor, epoch_seconds=EPOCH_SECONDS if workers == 1 else POOL_EPOCH_SECONDS)
    Tuner(study, dataset=f"{data}:tiny", executor_factory=slow, quiet=True,
          execution=ExecutionSettings(workers=workers, reproducible=reproducible and workers > 1)).run(trials)


def _start(study: Path, data: Path, trials: int, workers: int = 1, reproducible: bool = True) -> subprocess.Popen[bytes]:
    """Start a worker and return once it has imported everything (it prints "ready")."""
    proc = subprocess.Popen([sys.executable, __file__, "--worker", str(study), str(data), str(trials),
                             str(workers), str(int(reproducible))], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.readline()
    return proc


def _pool_workers(driver: int) -> list[int]:
    """The pool worker processes the driver ``driver`` has started (Linux: read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if int(fields[1]) == driver and fields[0] != "Z" and b"symtuner.execution.pool_worker" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def _training(pid: int) -> bool:
    """Whether a pool worker has a trial: it maps the pool's copy of the data set (a spare does not yet)."""
    try:
        return "symtuner-pool-" in (Path("/proc") / str(pid) / "maps").read_text()
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def _trials(study: Path) -> dict[int, dict[str, Any]]:
    """Every trial in the study's database (empty when there is none)."""
    db = study / "study.db"
    if not db.exists():
        return {}
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT number, state, params, objective, extra FROM trials ORDER BY number").fetchall()
        epochs = {}
        for trial, _epoch, loss in conn.execute("SELECT trial, epoch, loss FROM epochs ORDER BY trial, epoch"):
            epochs.setdefault(trial, []).append(loss)
    finally:
        conn.close()
    return {n: {"state": state, "params": json.loads(params), "objective": objective,
                "extra": json.loads(extra), "losses": epochs.get(n, [])} for n, state, params, objective, extra in rows}


def _integrity(study: Path) -> str:
    conn = sqlite3.connect(study / "study.db")
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def _finished(trials: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    return [t for _, t in sorted(trials.items()) if t["state"] in ("complete", "failed")]


def _phase(before: dict[int, dict[str, Any]], study: Path) -> str:
    """Where the kill landed, as far as the store tells."""
    if not (study / "study.db").exists():
        return "before the study existed" if not (study / "study.db.partial").exists() else "creating the study"
    if not before:
        return "after creation, before trial 1"
    states = [t["state"] for t in before.values()]
    return "during a trial" if "running" in states else "between trials (after a commit)"


def _kill(proc: subprocess.Popen[bytes], delay: float, target: str, rng: random.Random) -> tuple[bool, str, list[int]]:
    """Kill the driver, or one of its pool's workers, ``delay`` seconds after it started; whether a
    process was killed, which, and the driver's workers at that moment."""
    time.sleep(delay)
    if proc.poll() is not None:
        return False, "none (finished first)", []
    workers = _pool_workers(proc.pid)
    if target == "worker":  # the first worker with a trial from this moment on (spares have none)
        training = [pid for pid in workers if _training(pid)]
        deadline = time.monotonic() + 60
        while not training and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
            training = [pid for pid in _pool_workers(proc.pid) if _training(pid)]
        if not training:
            return False, "none (no worker trained)", workers
        os.kill(rng.choice(training), signal.SIGKILL)
        return True, "a worker", workers
    os.kill(proc.pid, signal.SIGKILL)
    return True, "the driver", workers


def _check_reruns(before: dict[int, dict[str, Any]], after: dict[int, dict[str, Any]]) -> list[str]:
    """Every trial running at the kill and left interrupted is rerun exactly once, with its params and seed."""
    problems = []
    for number, trial in before.items():
        if trial["state"] not in ("running", "interrupted") or after.get(number, {}).get("state") != "interrupted":
            continue
        reruns = [t for t in after.values() if t["extra"].get("retry_of") == number]
        if len(reruns) != 1:
            problems.append(f"interrupted trial {number} was rerun {len(reruns)} times")
            continue
        seed = trial["extra"].get("seed")
        if reruns[0]["params"] != trial["params"] or (seed is not None and reruns[0]["extra"].get("seed") != seed):
            problems.append(f"the rerun of trial {number} changed its params or seed")
    return problems


def _by_seed(trials: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The finished trials as (seed, params, objective), in seed order (the order of their first runs)."""
    return sorted((t["extra"].get("seed"), json.dumps(t["params"], sort_keys=True), t["objective"]) for t in trials)


def one_run(root: Path, data: Path, trials: int, delay: float, reference: list[dict[str, Any]],
            workers: int = 1, target: str = "driver", rng: random.Random | None = None,
            reproducible: bool = True) -> dict[str, Any]:
    study = root / "study"
    proc = _start(study, data, trials, workers, reproducible)
    killed, whom, pool = _kill(proc, delay, target, rng or random.Random(0))
    if whom == "a worker":
        before = _trials(study)
        _, err = proc.communicate(timeout=600)  # the driver goes on, reruns the lost trial, and finishes
    else:
        proc.wait()
        before = _trials(study)
    phase = _phase(before, study) if killed else "not killed (finished first)"
    problems = []
    if whom == "the driver":
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in pool) and time.monotonic() < deadline:
            time.sleep(0.05)
        if any(_alive(pid) for pid in pool):
            problems.append("the killed driver's workers were still running 5 s later")
    resumed = _start(study, data, trials, workers, reproducible)
    _, err = resumed.communicate(timeout=600)
    if resumed.returncode != 0:
        problems.append(f"the resume exited {resumed.returncode}: {err.decode(errors='replace')[-300:]}")
    after = _trials(study)
    lost = 0
    for number, trial in before.items():
        if trial["state"] == "complete" and after.get(number) != trial:
            lost += 1
            problems.append(f"completed trial {number} changed")
    problems += _check_reruns(before, after)
    finished = _finished(after)
    if len(finished) != trials:
        problems.append(f"{len(finished)} finished trials, expected {trials}")
    same = _by_seed(finished) == _by_seed(reference)
    if not same:
        problems.append("the resumed study differs from the uninterrupted one")
    integrity = _integrity(study) if (study / "study.db").exists() else "no database"
    if integrity != "ok":
        problems.append(f"integrity check: {integrity}")
    reruns = sum(1 for t in after.values() if t["extra"].get("retry_of") is not None)
    return {"delay": round(delay, 3), "killed": killed, "target": whom, "phase": phase,
            "completed_before": sum(t["state"] == "complete" for t in before.values()), "lost": lost,
            "reruns": reruns, "integrity": integrity, "same_as_uninterrupted": same, "problems": problems}


def _reference(root: Path, data: Path, trials: int, workers: int,
               reproducible: bool) -> tuple[list[dict[str, Any]], float]:
    """The uninterrupted study's finished trials, and how long it took."""
    proc = _start(root / "study", data, trials, workers, reproducible)
    started = time.perf_counter()
    _, err = proc.communicate(timeout=600)
    if proc.returncode != 0:
        raise SystemExit(f"the uninterrupted study failed: {err.decode(errors='replace')[-500:]}")
    return _finished(_trials(root / "study")), time.perf_counter() - started


def fuzz(runs: int, trials: int, seed: int, stream: Any = sys.stdout, workers: int = 1,
         reproducible: bool = True) -> dict[str, Any]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="symtuner-crash-") as tmp:
        root = Path(tmp)
        data = root / "data.py"
        data.write_text(DATA_PY, encoding="utf-8")
        reference, first = _reference(root / "reference", data, trials, workers, reproducible)
        again, second = _reference(root / "reference-again", data, trials, workers, reproducible)
        span = min(first, second)
        same_twice = _by_seed(again) == _by_seed(reference)
        results = []
        for index in range(runs):
            # a third of the kills land in the first two seconds (loading, checks, the study's creation),
            # the rest anywhere in the time the uninterrupted study took; with workers, half kill a worker
            delay = rng.uniform(0.0, min(span, 2.0)) if index % 3 == 0 else rng.uniform(0.0, span)
            target = "worker" if workers > 1 and rng.random() < 0.5 else "driver"
            result = one_run(root / f"run{index:03d}", data, trials, delay, reference, workers, target, rng,
                             reproducible)
            results.append(result)
            print(f"run {index + 1}/{runs}: kill of {result['target']} after {result['delay']:.2f} s "
                  f"({result['phase']}): {'ok' if not result['problems'] else '; '.join(result['problems'])}",
                  file=stream, flush=True)
    return {
        "runs": runs, "trials_per_run": trials, "workers": workers, "seed": seed,
        "reproducible": reproducible and workers > 1,
        "reference_reproducible": same_twice,
        "killed": sum(r["killed"] for r in results),
        "killed_driver": sum(r["target"] == "the driver" for r in results),
        "killed_worker": sum(r["target"] == "a worker" for r in results),
        "reruns": sum(r["reruns"] for r in results),
        "survived": sum(not r["problems"] for r in results),
        "completed_trials_lost": sum(r["lost"] for r in results),
        "rerun_seed_or_params_changed": sum(any("rerun" in p for p in r["problems"]) for r in results),
        "integrity_failures": sum(r["integrity"] != "ok" for r in results),
        "differs_from_uninterrupted": sum(not r["same_as_uninterrupted"] for r in results),
        "phases": {p: sum(r["phase"] == p for r in results) for p in sorted({r["phase"] for r in results})},
        "results": results,
    }


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6] == "1")
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--workers", type=int, default=1, help="trials at once (above 1: a local pool)")
    parser.add_argument("--any-order", action="store_true",
                        help="with workers, run the studies without reproducible=true: finished trials are "
                             "handled as they end, so even uninterrupted studies differ with the timing")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="write the summary as JSON here")
    args = parser.parse_args()
    summary = fuzz(args.runs, args.trials, args.seed, workers=args.workers, reproducible=not args.any_order)
    mode = " (reproducible)" if summary["reproducible"] else ""
    print(f"\n{summary['runs']} runs with {summary['workers']} worker(s){mode} ({summary['killed']} killed mid-run: "
          f"{summary['killed_driver']} drivers, {summary['killed_worker']} workers; {summary['reruns']} reruns): "
          f"{summary['survived']} survived, {summary['completed_trials_lost']} completed trials lost, "
          f"{summary['rerun_seed_or_params_changed']} reruns with another seed or params, "
          f"{summary['integrity_failures']} integrity failures, {summary['differs_from_uninterrupted']} differ "
          f"from the uninterrupted study (which is {'' if summary['reference_reproducible'] else 'not '}"
          "reproducible run to run)")
    print("kills by phase: " + ", ".join(f"{k}: {v}" for k, v in summary["phases"].items()))
    if args.out is not None:
        args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0 if summary["survived"] == summary["runs"] else 1


if __name__ == "__main__":
    sys.exit(main())
