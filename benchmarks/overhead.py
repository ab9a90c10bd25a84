"""The tuner's own cost: time per trial as a study grows, and training throughput inside the tuner.

Part 1 runs one symbolic + GP study with the simulated trainer (training
takes about a millisecond) and times the trials around 10, 100 and 300
stored trials: what is left is proposing (GP), diagnosing (ProbLog), rule
learning (LFI) and storing. It also times GP ``ask`` and the symbolic step
alone on the first N trials.

Part 2 trains the default network on ``digits`` inside the tuner and then
with a plain ``model.fit`` of the same model (same params, architecture,
epochs, data split and seed) and reports the ratio.

    python benchmarks/overhead.py                      # both parts, prints a table
    python benchmarks/overhead.py --sizes 10,100 --out overhead.md
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from symtuner.actions import ActionSettings  # noqa: E402
from symtuner.advisor import Advisor  # noqa: E402
from symtuner.compare.runner import TimedExecutor, machine_info  # noqa: E402
from symtuner.optimizers import Observation, make_optimizer  # noqa: E402
from symtuner.settings import StudySettings  # noqa: E402
from symtuner.simulate import SimulatedExecutor  # noqa: E402
from symtuner.storage import StudyStore  # noqa: E402
from symtuner.tuner import Tuner  # noqa: E402


class _Clock:
    """A Progress that notes when each trial finished (by its position in the run)."""

    def __init__(self) -> None:
        self.started: dict[int, float] = {}
        self.finished: dict[int, float] = {}
        self._number = 0

    def trial_started(self, number: int, index: int, total: int, params: dict[str, Any]) -> None:
        self._number = number
        self.started[number] = time.perf_counter()

    def epoch_finished(self, number: int, epoch: int, epochs: int, logs: dict[str, float]) -> None:
        pass

    def trial_finished(self, trial: Any, best: Any, advice: Any) -> None:
        self.finished[trial.number] = time.perf_counter()

    def trial_failed(self, number: int, error: str) -> None:
        self.finished[number] = time.perf_counter()


def _timed(factory: Any, path: Path) -> Any:
    return lambda dataset, network, config: TimedExecutor(factory(dataset, network, config), path)


def loop_overhead(sizes: list[int], window: int, dataset: str, study_dir: Path | None = None) -> list[dict[str, Any]]:
    """Seconds per trial of the loop itself around each size (the trials size-1 .. size+window-2).

    With ``study_dir`` the study is kept there and a rerun continues it.
    """
    if study_dir is not None:
        return _loop_overhead(sizes, window, dataset, Path(study_dir))
    with tempfile.TemporaryDirectory(prefix="symtuner-overhead-") as scratch:
        return _loop_overhead(sizes, window, dataset, Path(scratch) / "study")


def _loop_overhead(sizes: list[int], window: int, dataset: str, study: Path) -> list[dict[str, Any]]:
    from symtuner.symbolic.engine import SymbolicEngine
    from symtuner.symbolic.rules import load_rules

    rows = []
    clock = _Clock()
    settings = StudySettings(dataset=dataset, epochs=4, seed=0, optimizer="gp", symbolic=True)
    last = max(sizes) + window - 1
    started = time.perf_counter()
    Tuner(study, dataset=dataset, settings=settings, progress=clock,
          executor_factory=_timed(SimulatedExecutor, study / "timings.json")).run(last)
    build_seconds = time.perf_counter() - started
    executor = _read_json_timings(study / "timings.json")
    with StudyStore.open(study, readonly=True) as store:
        trials = store.trials()
        versions = {v.version: v for v in store.tuning_versions()}
    engine = SymbolicEngine(load_rules(None))
    advisor = Advisor(engine, ActionSettings(max_dense_layers=settings.max_dense_layers,
                                             max_conv_blocks=settings.max_conv_blocks), True, 0)
    optimizer = make_optimizer("gp", settings.n_initial)
    for size in sizes:
        finished = {t.number: float(t.finished_at) for t in trials if t.finished_at is not None}
        numbers, per_trial = [], []
        for n in range(size - 1, size + window - 1):
            if n - 1 in clock.finished and n in clock.finished:  # timed in this process
                numbers.append(n)
                per_trial.append(clock.finished[n] - clock.finished[n - 1])
            elif n - 1 not in clock.finished and n not in clock.finished and n in finished \
                    and n - 1 in finished:  # timed by an earlier process that built this part
                numbers.append(n)
                per_trial.append(finished[n] - finished[n - 1])
        outside = [p - executor.get(n, 0.0) for p, n in zip(per_trial, numbers)]
        first = trials[:size]
        tuning = versions[first[-1].tuning_version]
        history = [Observation(tuning.space.project(t.params), -float(t.objective)) for t in first
                   if t.is_complete and t.objective is not None]
        ask = _median_seconds(partial(optimizer.ask, tuning.space, history, seed=size))
        advise = _median_seconds(partial(advisor.advise, first, first[-1], 10, tuning.space,
                                         tuning.architecture, 0))
        rows.append({"stored_trials": size, "trials_timed": f"{numbers[0]}-{numbers[-1]}",
                     "loop_seconds": statistics.fmean(outside), "gp_ask_seconds": ask,
                     "symbolic_seconds": advise,
                     "rest_seconds": statistics.fmean(outside) - ask - advise})
    rows.append({"build_seconds": build_seconds, "trials_built": last})
    return rows


def _median_seconds(call: Any, repeats: int = 3) -> float:
    """Median wall time of ``repeats`` calls (the first call also pays one-off imports)."""
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _read_json_timings(path: Path) -> dict[int, float]:
    import json

    if not path.is_file():
        return {}
    return {int(k): float(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}


def throughput(trials: int, epochs: int, dataset_name: str) -> list[dict[str, Any]]:
    """Fit time and whole-trial time inside the tuner vs plain Keras on the same model and data."""
    import keras

    from symtuner.architecture import Architecture
    from symtuner.data import load_dataset
    from symtuner.neural.builder import build_default_network
    from symtuner.neural.executor import InProcessExecutor
    from symtuner.neural.training import batch_size_param, split_validation
    from symtuner.neural.training import make_optimizer as keras_optimizer
    from symtuner.space import default_space

    dataset = load_dataset(dataset_name, seed=0)
    split = split_validation(dataset, 0.2, 0)

    def plain(params: dict[str, Any], arch: Any, seed: int) -> tuple[float, float]:
        begin = time.perf_counter()
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        model = build_default_network(dict(params), arch, dataset.input_shape, dataset.n_classes)
        model.compile(optimizer=keras_optimizer(params), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        fit_start = time.perf_counter()
        model.fit(split.x_fit, split.y_fit, validation_data=(split.x_val, split.y_val), epochs=epochs,
                  batch_size=batch_size_param(params, len(split.y_fit)), shuffle=True, verbose=0)
        fit = time.perf_counter() - fit_start
        model.evaluate(dataset.x_test, dataset.y_test, verbose=0)
        return fit, time.perf_counter() - begin

    rows = []
    with tempfile.TemporaryDirectory(prefix="symtuner-throughput-") as scratch:
        study = Path(scratch) / "study"
        # warm-up: TensorFlow's one-off start-up costs go to neither side
        warm = {d.name: (d.categories[0] if hasattr(d, "categories") else d.low) for d in default_space().dimensions}
        plain(warm, Architecture(), 0)
        clock = _Clock()
        settings = StudySettings(dataset=dataset_name, epochs=epochs, seed=0, optimizer="gp", symbolic=True,
                                 patience=epochs)
        Tuner(study, dataset=dataset_name, settings=settings, progress=clock,
              executor_factory=_timed(InProcessExecutor, study / "timings.json")).run(trials)
        executor = _read_json_timings(study / "timings.json")
        with StudyStore.open(study, readonly=True) as store:
            versions = {v.version: v for v in store.tuning_versions()}
            done = [t for t in store.trials(with_curves=False) if t.is_complete]
        for trial in done:
            arch = versions[trial.tuning_version].architecture
            fit, whole = plain(trial.params, arch, settings.seed * 100_003 + trial.number)
            tuner_trial = clock.finished[trial.number] - clock.started[trial.number]
            tuner_fit = float(trial.train_seconds or 0.0)
            rows.append({"trial": trial.number, "batch_size": trial.params.get("batch_size"),
                         "tuner_fit": tuner_fit, "plain_fit": fit, "fit_ratio": tuner_fit / fit, "tuner_executor": executor.get(trial.number),
                         "tuner_trial": tuner_trial, "plain_trial": whole, "trial_ratio": tuner_trial / whole,
                         "epochs_run": trial.extra.get("epochs_run")})
    return rows


def format_tables(loop: list[dict[str, Any]], thr: list[dict[str, Any]], args: argparse.Namespace) -> str:
    machine = machine_info()
    lines = [f"machine: {machine['cpus']} CPU(s), {machine['platform']}, Python {machine['python']}, "
             f"tensorflow {machine['versions']['tensorflow']}", ""]
    if loop:
        build = loop[-1]
        lines += [f"Tuner time per trial with the simulated trainer (symbolic + GP, {args.dataset}); "
                  f"the study holds {build['trials_built']} trials (this process ran {build['build_seconds']:.0f} s of it).", "",
                  "| stored trials | trials timed | loop s/trial (wall - executor) | GP ask s | symbolic step "
                  "(LFI + diagnosis + actions) s | rest (storage, reads, logging) s |",
                  "|---|---|---|---|---|---|"]
        for row in loop[:-1]:
            lines.append(f"| {row['stored_trials']} | {row['trials_timed']} | {row['loop_seconds']:.3f} | "
                         f"{row['gp_ask_seconds']:.3f} | {row['symbolic_seconds']:.3f} | {row['rest_seconds']:.3f} |")
        lines.append("")
    if thr:
        lines += [f"Training inside the tuner vs plain model.fit ({args.throughput_dataset}, {args.epochs} epochs, "
                  "same params, architecture, split and seed):", "",
                  "| trial | batch | tuner fit s | plain fit s | fit ratio | tuner trial s | plain build+fit+eval s | "
                  "trial ratio |", "|---|---|---|---|---|---|---|---|"]
        for row in thr:
            lines.append(f"| {row['trial']} | {row['batch_size']} | {row['tuner_fit']:.2f} | {row['plain_fit']:.2f} | "
                         f"{row['fit_ratio']:.2f} | {row['tuner_trial']:.2f} | {row['plain_trial']:.2f} | "
                         f"{row['trial_ratio']:.2f} |")
        lines += ["", f"mean fit ratio {statistics.fmean(r['fit_ratio'] for r in thr):.2f}, mean trial ratio "
                      f"{statistics.fmean(r['trial_ratio'] for r in thr):.2f} (1.00 = no cost)"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,300", help="stored-trial counts to time around")
    parser.add_argument("--window", type=int, default=3, help="trials timed around each size")
    parser.add_argument("--dataset", default="digits-small", help="data set for part 1 (only its shape matters)")
    parser.add_argument("--throughput-dataset", default="digits")
    parser.add_argument("--trials", type=int, default=2, help="trials in part 2")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per trial in part 2")
    parser.add_argument("--skip-loop", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--study-dir", type=Path, help="keep part 1's study here (a rerun continues it)")
    parser.add_argument("--out", type=Path, help="also write the tables to this file")
    args = parser.parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",")})
    if min(sizes) < 2 or args.window < 1:
        parser.error("sizes must be at least 2 and --window at least 1")
    loop = [] if args.skip_loop else loop_overhead(sizes, args.window, args.dataset, args.study_dir)
    thr = [] if args.skip_throughput else throughput(args.trials, args.epochs, args.throughput_dataset)
    text = format_tables(loop, thr, args)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
