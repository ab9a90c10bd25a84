"""Kill a running study with SIGKILL at random moments, resume it, and check that nothing was lost.

Each run starts a study (simulated training, so that a trial lasts a fraction
of a second and the kills land everywhere: while the study is being
created, while a trial trains, while its results are committed), kills the
process after a random delay, resumes it to the end, and compares it with
the same study run without interruption:

- every trial that was complete before the kill is unchanged after the resume;
- every trial left interrupted was rerun with the same params and training seed;
- the study ends with exactly the number of finished trials asked for;
- the params, seeds and objectives of the finished trials equal those of the
  uninterrupted study (a resumed study is the study it would have been);
- ``PRAGMA integrity_check`` is ok.

    python benchmarks/crash_fuzz.py --runs 30 [--trials 6] [--seed 0] [--out crash.json]

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

#: Seconds each simulated epoch lasts, so that kills can land inside trials.
EPOCH_SECONDS = 0.04


def worker(study: Path, data: Path, trials: int) -> None:
    """Run (or resume) the study to ``trials`` finished trials."""
    from symtuner.execution.simulate import SimulatedExecutor
    from symtuner.tuner import Tuner

    class SlowSimulated(SimulatedExecutor):
        def run(self, spec: Any, on_epoch: Any = None) -> Any:
            def slow(epoch: int, logs: dict[str, float]) -> Any:
                time.sleep(EPOCH_SECONDS)
                return on_epoch(epoch, logs) if on_epoch is not None else ""
            return super().run(spec, slow)

    import symtuner.training.builder  # noqa: F401 (imported before "ready", like the rest)

    print("ready", flush=True)
    Tuner(study, dataset=f"{data}:tiny", executor_factory=SlowSimulated, quiet=True).run(trials)


def _start(study: Path, data: Path, trials: int) -> subprocess.Popen[bytes]:
    """Start a worker and return once it has imported everything (it prints "ready")."""
    proc = subprocess.Popen([sys.executable, __file__, "--worker", str(study), str(data), str(trials)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.readline()
    return proc


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


def one_run(root: Path, data: Path, trials: int, delay: float, reference: list[dict[str, Any]]) -> dict[str, Any]:
    study = root / "study"
    proc = _start(study, data, trials)
    time.sleep(delay)
    killed = proc.poll() is None
    if killed:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _trials(study)
    phase = _phase(before, study) if killed else "not killed (finished first)"
    resumed = _start(study, data, trials)
    _, err = resumed.communicate(timeout=600)
    problems = []
    if resumed.returncode != 0:
        problems.append(f"the resume exited {resumed.returncode}: {err.decode(errors='replace')[-300:]}")
    after = _trials(study)
    lost = 0
    for number, trial in before.items():
        if trial["state"] == "complete" and after.get(number) != trial:
            lost += 1
            problems.append(f"completed trial {number} changed")
    for number, trial in before.items():
        if trial["state"] != "running":
            continue
        reruns = [t for t in after.values() if t["extra"].get("retry_of") == number]
        if after.get(number, {}).get("state") != "interrupted" or len(reruns) != 1:
            problems.append(f"interrupted trial {number} was not rerun exactly once")
        else:
            seed = trial["extra"].get("seed")
            if reruns[0]["params"] != trial["params"] or (seed is not None and reruns[0]["extra"].get("seed") != seed):
                problems.append(f"the rerun of trial {number} changed its params or seed")
    finished = _finished(after)
    if len(finished) != trials:
        problems.append(f"{len(finished)} finished trials, expected {trials}")
    same = [(t["params"], t["extra"].get("seed"), t["objective"]) for t in finished] == \
        [(t["params"], t["extra"].get("seed"), t["objective"]) for t in reference]
    if not same:
        problems.append("the resumed study differs from the uninterrupted one")
    integrity = _integrity(study) if (study / "study.db").exists() else "no database"
    if integrity != "ok":
        problems.append(f"integrity check: {integrity}")
    return {"delay": round(delay, 3), "killed": killed, "phase": phase, "completed_before": sum(
        t["state"] == "complete" for t in before.values()), "lost": lost, "integrity": integrity,
        "same_as_uninterrupted": same, "problems": problems}


def fuzz(runs: int, trials: int, seed: int, stream: Any = sys.stdout) -> dict[str, Any]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="symtuner-crash-") as tmp:
        root = Path(tmp)
        data = root / "data.py"
        data.write_text(DATA_PY, encoding="utf-8")
        ref = root / "reference"
        proc = _start(ref / "study", data, trials)
        started = time.perf_counter()
        _, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            raise SystemExit(f"the uninterrupted study failed: {err.decode(errors='replace')[-500:]}")
        span = time.perf_counter() - started
        reference = _finished(_trials(ref / "study"))
        results = []
        for index in range(runs):
            # a third of the kills land in the first two seconds (loading, checks, the study's creation),
            # the rest anywhere in the time the uninterrupted study took
            delay = rng.uniform(0.0, min(span, 2.0)) if index % 3 == 0 else rng.uniform(0.0, span)
            result = one_run(root / f"run{index:03d}", data, trials, delay, reference)
            results.append(result)
            print(f"run {index + 1}/{runs}: kill after {result['delay']:.2f} s ({result['phase']}): "
                  f"{'ok' if not result['problems'] else '; '.join(result['problems'])}", file=stream, flush=True)
    summary = {
        "runs": runs, "trials_per_run": trials, "seed": seed,
        "killed": sum(r["killed"] for r in results),
        "survived": sum(not r["problems"] for r in results),
        "completed_trials_lost": sum(r["lost"] for r in results),
        "integrity_failures": sum(r["integrity"] != "ok" for r in results),
        "differs_from_uninterrupted": sum(not r["same_as_uninterrupted"] for r in results),
        "phases": {p: sum(r["phase"] == p for r in results) for p in sorted({r["phase"] for r in results})},
        "results": results,
    }
    return summary


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="write the summary as JSON here")
    args = parser.parse_args()
    summary = fuzz(args.runs, args.trials, args.seed)
    print(f"\n{summary['runs']} runs ({summary['killed']} killed mid-run): {summary['survived']} survived, "
          f"{summary['completed_trials_lost']} completed trials lost, {summary['integrity_failures']} integrity "
          f"failures, {summary['differs_from_uninterrupted']} differ from the uninterrupted study")
    print("kills by phase: " + ", ".join(f"{k}: {v}" for k, v in summary["phases"].items()))
    if args.out is not None:
        args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0 if summary["survived"] == summary["runs"] else 1


if __name__ == "__main__":
    sys.exit(main())
