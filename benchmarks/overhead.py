"""The tuner's own cost: time per trial as a study grows, the GP proposal, and training throughput.

Part 1 runs one symbolic + GP study with the simulated trainer (training
takes about a millisecond) and times the trials around each of ``--sizes``
stored trials: what is left is proposing (GP), diagnosing (ProbLog), rule
learning (LFI) and storing. It then times GP ``ask`` alone on the first N
trials, as the loop calls it (the history at the trials' true coordinates in
the hull of every space, the surrogate's fixed architecture): on an optimizer
that served the earlier calls (the kernel of the last checkpoint is cached),
on a fresh one (what the first proposal after a restart, and the one at a
checkpoint, costs: one kernel fit), re-fitting the kernel on every call (the
behaviour before kernels were held), and the steps of a held proposal.

Part 2 compares training throughput inside each executor (in this process,
a pool worker process, a Ray task) with a plain ``model.fit`` of the same
model in this process: the same params, architecture, data split, seed,
batch size and epochs, measured interleaved (plain, executor, plain,
executor, ...) after warm-up pairs, as the median of the pairs' ratios of
samples per second. The executor side runs through the dispatcher the
tuner uses, with the tuner's callbacks (early stopping that cannot trigger
within the epochs, NaN check, TensorBoard, the epoch hook reporting to the
driver); the driver's per-epoch store write and symbolic stopper are not
part of it. A second ratio compares whole trials: submit to result in the
driver (build, fit, evaluation, saving, the hand-over from a worker) against
the plain script's build, compile, fit, two evaluations and save.

    python benchmarks/overhead.py                      # both parts, prints the tables
    python benchmarks/overhead.py --skip-throughput --sizes 10,100,300
    python benchmarks/overhead.py --skip-loop --pairs 5 --executors inprocess,pool,ray
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from symtuner.app.compare.runner import TimedExecutor, machine_info  # noqa: E402
from symtuner.core.settings import StudySettings  # noqa: E402
from symtuner.execution.simulate import SimulatedExecutor  # noqa: E402
from symtuner.search.optimizers.base import as_point, finite_losses  # noqa: E402
from symtuner.search.optimizers.gp import GaussianProcessOptimizer, candidates  # noqa: E402
from symtuner.search.surrogate import observations, surrogate  # noqa: E402
from symtuner.storage import StudyStore  # noqa: E402
from symtuner.tuner import Tuner  # noqa: E402
from symtuner.tuning.actions import ActionSettings  # noqa: E402
from symtuner.tuning.advisor import Advisor  # noqa: E402

EXECUTORS = ("inprocess", "pool", "ray")
#: the params every throughput pair trains with (the middle of the default space, a common batch size)
FIXED_PARAMS: dict[str, Any] = {"unit_c1": 40, "dr1_2": 0.15, "unit_c2": 96, "unit_d": 384, "dr_f": 0.25,
                                "learning_rate": 5e-4, "batch_size": 64, "optimizer": "Adam", "activation": "relu"}


class _Clock:
    """A Progress that notes when each trial finished (by its position in the run)."""

    def __init__(self) -> None:
        self.started: dict[int, float] = {}
        self.finished: dict[int, float] = {}

    def trial_started(self, number: int, index: int, total: int, params: dict[str, Any]) -> None:
        self.started[number] = time.perf_counter()

    def epoch_finished(self, number: int, epoch: int, epochs: int, logs: dict[str, float]) -> None:
        pass

    def trial_finished(self, trial: Any, best: Any, advice: Any) -> None:
        self.finished[trial.number] = time.perf_counter()

    def trial_failed(self, number: int, error: str) -> None:
        self.finished[number] = time.perf_counter()


def _timed(factory: Any, path: Path) -> Any:
    return lambda dataset, network, config: TimedExecutor(factory(dataset, network, config), path)


# -- part 1: the loop and the GP proposal ------------------------------------------------------------

def loop_overhead(sizes: list[int], window: int, dataset: str, study_dir: Path | None = None,
                  repeats: int = 3) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Seconds per trial of the loop itself around each size, and the GP proposal's timings there.

    With ``study_dir`` the study is kept there and a rerun continues it.
    """
    if study_dir is not None:
        return _loop_overhead(sizes, window, dataset, Path(study_dir), repeats)
    with tempfile.TemporaryDirectory(prefix="symtuner-overhead-") as scratch:
        return _loop_overhead(sizes, window, dataset, Path(scratch) / "study", repeats)


def _loop_overhead(sizes: list[int], window: int, dataset: str, study: Path, repeats: int
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from symtuner.symbolic.engine import SymbolicEngine
    from symtuner.symbolic.rules import load_rules

    rows, gp_rows = [], []
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
        versions = store.tuning_versions()
    engine = SymbolicEngine(load_rules(None))
    advisor = Advisor(engine, ActionSettings(max_dense_layers=settings.max_dense_layers,
                                             max_conv_blocks=settings.max_conv_blocks), True, 0)
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
        gp = gp_timings(trials, versions, size, settings.n_initial, settings.maximize, repeats)
        tuning = next(v for v in versions if v.version == first[-1].tuning_version)
        advise = _median_seconds(partial(advisor.advise, first, first[-1], 10, tuning.space,
                                         tuning.architecture, 0), repeats)
        rows.append({"stored_trials": size, "trials_timed": f"{numbers[0]}-{numbers[-1]}",
                     "loop_seconds": statistics.fmean(outside), "gp_ask_seconds": gp["held"],
                     "symbolic_seconds": advise,
                     "rest_seconds": statistics.fmean(outside) - gp["held"] - advise})
        gp_rows.append(gp)
    rows.append({"build_seconds": build_seconds, "trials_built": last})
    return rows, gp_rows


def gp_timings(trials: list[Any], versions: list[Any], size: int, n_initial: int, maximize: bool,
               repeats: int) -> dict[str, Any]:
    """GP ``ask`` on the first ``size`` trials, as the loop proposes trial ``size + 1``."""
    current = trials[size].tuning_version if size < len(trials) else trials[-1].tuning_version
    known = [v for v in versions if v.version <= current]
    tuning = next(v for v in known if v.version == current)
    history = observations(trials[:size], known, maximize)
    model = surrogate(known, tuning)
    space = tuning.space
    served = GaussianProcessOptimizer(n_initial=n_initial)
    served.ask(space, history, seed=size, surrogate=model)  # fits (and caches) the checkpoint's kernel
    seeds = iter(range(size + 1, size + 1000))
    held = _median_seconds(lambda: served.ask(space, history, seed=next(seeds), surrogate=model), repeats)
    fresh = _median_seconds(lambda: GaussianProcessOptimizer(n_initial=n_initial).ask(
        space, history, seed=next(seeds), surrogate=model), repeats, warm=False)
    refit = _median_seconds(lambda: GaussianProcessOptimizer(n_initial=n_initial, hold_from=10**9).ask(
        space, history, seed=next(seeds), surrogate=model), repeats, warm=False)
    n = len(history)
    row: dict[str, Any] = {"stored_trials": size, "observations": n, "held": held, "fresh": fresh, "refit": refit,
                           "checkpoint": served.checkpoint(n), "held_from": n >= served.hold_from}
    if n >= served.hold_from:
        start = served.checkpoint(n)
        following = next(m for m in range(start + 1, 10 * start + 2) if served.checkpoint(m) != start)
        gap = following - start
        row["gap"] = gap
        row["mean_over_gap"] = (fresh + (gap - 1) * held) / gap
        row.update(_held_steps(served, space, history, model, size, repeats))
    return row


def _held_steps(gp: GaussianProcessOptimizer, space: Any, history: list[Any], model: Any, seed: int,
                repeats: int) -> dict[str, float]:
    """Seconds of each step of a held proposal (cached kernel), on one BLAS thread as ``ask`` runs them."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    hull = model.hull
    with threadpool_limits(limits=1, user_api="blas"):
        optimizer = gp.skopt_optimizer(hull, seed)
        points = [as_point(hull, o.params) for o in history]
        x = optimizer.space.transform(points)
        y = np.asarray(finite_losses(history), dtype=float)
        fitted = gp.held_model(optimizer.base_estimator_, hull, x, y)
        _, rows = candidates(space, model, optimizer.n_points, seed)
        transformed = optimizer.space.transform(rows)
        return {
            "step_optimizer": _median_seconds(lambda: gp.skopt_optimizer(hull, seed), repeats),
            "step_transform_history": _median_seconds(lambda: optimizer.space.transform(points), repeats),
            "step_conditioned_fit": _median_seconds(
                lambda: gp.held_model(optimizer.base_estimator_, hull, x, y), repeats),
            "step_candidates": _median_seconds(lambda: candidates(space, model, optimizer.n_points, seed), repeats),
            "step_transform_candidates": _median_seconds(lambda: optimizer.space.transform(rows), repeats),
            "step_acquisition": _median_seconds(lambda: gp.acquisition(transformed, fitted, float(y.min())),
                                                repeats),
        }


def _median_seconds(call: Callable[[], Any], repeats: int = 3, warm: bool = True) -> float:
    """Median wall time of ``repeats`` calls (after one untimed call, which pays one-off imports, if ``warm``)."""
    if warm:
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


# -- part 2: training throughput inside each executor ------------------------------------------------

def throughput(executors: list[str], pairs: int, warmup: int, epochs: int, dataset_name: str
               ) -> list[dict[str, Any]]:
    """One row per measured pair: plain and executor fit seconds and samples per second."""
    from symtuner.data import load_dataset
    from symtuner.training.splits import split_validation
    from symtuner.training.training import TrainingConfig

    dataset = load_dataset(dataset_name, seed=0)
    # patience = epochs: early stopping cannot end a run before its last epoch
    config = TrainingConfig(epochs=epochs, patience=epochs, split_seed=0)
    split = split_validation(dataset, config.validation_split, config.split_seed)
    rows = []
    with tempfile.TemporaryDirectory(prefix="symtuner-throughput-") as scratch:
        for name in executors:
            dispatcher = _dispatcher(name, dataset, config)
            try:
                for index in range(warmup + pairs):
                    load_before = os.getloadavg()[0]
                    plain_fit, plain_trial = _plain_fit(dataset, split, epochs, index + 1, Path(scratch) / "plain")
                    spec = _spec(Path(scratch) / name, index + 1)
                    fit, epochs_run, trial = _executor_fit(dispatcher, spec)
                    if index < warmup:
                        continue
                    samples = len(split.y_fit)
                    rows.append({"executor": name, "pair": index - warmup + 1, "plain_fit": plain_fit,
                                 "executor_fit": fit, "epochs_run": epochs_run,
                                 "plain_rate": epochs * samples / plain_fit,
                                 "executor_rate": epochs_run * samples / fit,
                                 "ratio": (epochs_run / fit) / (epochs / plain_fit),
                                 "plain_trial": plain_trial, "executor_trial": trial,
                                 "trial_ratio": plain_trial / trial,
                                 "load": (load_before + os.getloadavg()[0]) / 2})
            finally:
                dispatcher.close()
    return rows


def _dispatcher(name: str, dataset: Any, config: Any) -> Any:
    """The dispatcher the tuner would use for ``name``, running one trial at a time."""
    from symtuner.execution import ExecutionSettings, make_dispatcher

    if name == "inprocess":
        return make_dispatcher(ExecutionSettings(workers=1), dataset, "default", config, None)
    if name == "pool":
        from symtuner.execution.pool import PoolDispatcher

        pool = PoolDispatcher(ExecutionSettings(workers=1))
        pool.load(dataset, "default", config)
        return pool
    if name == "ray":
        from symtuner.execution.ray_tasks import RayDispatcher

        # the task may use every core, as the plain fit does
        ray = RayDispatcher(ExecutionSettings(ray="local", cpus_per_trial=float(os.cpu_count() or 1)))
        ray.load(dataset, "default", config)
        return ray
    raise SystemExit(f"unknown executor {name!r}; choose from {list(EXECUTORS)}")


def _spec(directory: Path, number: int) -> Any:
    from symtuner.core.architecture import Architecture
    from symtuner.core.contract import TrialSpec

    return TrialSpec(number=number, params=dict(FIXED_PARAMS), architecture=Architecture(), seed=number,
                     model_path=directory / "models" / f"trial_{number:04d}.keras",
                     log_dir=directory / "logs" / f"trial_{number:04d}")


def _executor_fit(dispatcher: Any, spec: Any) -> tuple[float, int, float]:
    """Run ``spec`` through ``dispatcher``: the fit seconds the trial measured, its epochs, and the
    seconds from submitting it to its result (build, fit, evaluation, saving, hand-over)."""
    start = time.perf_counter()
    dispatcher.submit(spec)
    while True:
        for _, outcome in dispatcher.wait(lambda number, epoch, logs: "", timeout=0.05):
            if isinstance(outcome, BaseException):
                raise outcome
            return float(outcome.train_seconds), int(outcome.epochs_run), time.perf_counter() - start


def _plain_fit(dataset: Any, split: Any, epochs: int, seed: int, directory: Path) -> tuple[float, float]:
    """A plain ``model.fit`` of the network the executors train (a user's own script): its seconds, and
    those of the whole script (build, compile, fit, evaluate on validation and test data, save)."""
    import keras

    from symtuner.core.architecture import Architecture
    from symtuner.training.builder import build_default_network
    from symtuner.training.training import batch_size_param
    from symtuner.training.training import make_optimizer as keras_optimizer

    begin = time.perf_counter()
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    params = dict(FIXED_PARAMS)
    model = build_default_network(params, Architecture(), dataset.input_shape, dataset.n_classes)
    model.compile(optimizer=keras_optimizer(params), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    batch_size = batch_size_param(params, len(split.y_fit))
    start = time.perf_counter()
    model.fit(split.x_fit, split.y_fit, validation_data=(split.x_val, split.y_val), epochs=epochs,
              batch_size=batch_size, shuffle=True, verbose=0)
    fit = time.perf_counter() - start
    model.evaluate(split.x_val, split.y_val, batch_size=batch_size, verbose=0)
    model.evaluate(dataset.x_test, dataset.y_test, batch_size=batch_size, verbose=0)
    directory.mkdir(parents=True, exist_ok=True)
    model.save(directory / f"plain_{seed:04d}.keras")
    return fit, time.perf_counter() - begin


# -- output --------------------------------------------------------------------------------------------

def format_tables(loop: list[dict[str, Any]], gp: list[dict[str, Any]], thr: list[dict[str, Any]],
                  args: argparse.Namespace) -> str:
    machine = machine_info()
    lines = [f"machine: {machine['cpus']} CPU(s), {machine['platform']}, Python {machine['python']}, "
             f"tensorflow {machine['versions']['tensorflow']}; load average at the start "
             f"{args.load_at_start:.2f}", ""]
    if loop:
        build = loop[-1]
        lines += [f"Tuner time per trial with the simulated trainer (symbolic + GP, {args.dataset}); "
                  f"the study holds {build['trials_built']} trials (this process ran {build['build_seconds']:.0f} s "
                  "of it).", "",
                  "| stored trials | trials timed | loop s/trial (wall - executor) | GP ask s (kernel held) | "
                  "symbolic step (LFI + diagnosis + actions) s | rest (storage, reads, logging) s |",
                  "|---|---|---|---|---|---|"]
        for row in loop[:-1]:
            lines.append(f"| {row['stored_trials']} | {row['trials_timed']} | {row['loop_seconds']:.3f} | "
                         f"{row['gp_ask_seconds']:.3f} | {row['symbolic_seconds']:.3f} | {row['rest_seconds']:.3f} |")
        lines += ["", f"GP ask on the first N trials as the loop calls it (median of {args.repeats} calls):", "",
                  "| stored trials | observations | kernel fitted on the first | ask, kernel held (cached) s | "
                  "ask, fresh optimizer (kernel fitted) s | mean ask until the next checkpoint s | "
                  "ask re-fitting the kernel every call s |", "|---|---|---|---|---|---|---|"]
        for row in gp:
            mean = f"{row['mean_over_gap']:.3f} (over {row['gap']} calls)" if "gap" in row else "-"
            held = f"{row['held']:.3f}" if row["held_from"] else f"{row['held']:.3f} (below hold_from: re-fits)"
            lines.append(f"| {row['stored_trials']} | {row['observations']} | {row['checkpoint']} | {held} | "
                         f"{row['fresh']:.3f} | {mean} | {row['refit']:.3f} |")
        steps = [row for row in gp if "step_acquisition" in row]
        if steps:
            lines += ["", "Steps of a held proposal (s): building the scikit-optimize space and GP, transforming "
                      "the history, conditioning the GP on it with the held kernel, drawing the 10,000 candidates "
                      "(and placing them in the hull), transforming them, posterior + expected improvement:", "",
                      "| stored trials | optimizer | transform history | conditioned fit | candidates | "
                      "transform candidates | posterior + EI |", "|---|---|---|---|---|---|---|"]
            for row in steps:
                lines.append(f"| {row['stored_trials']} | {row['step_optimizer']:.3f} | "
                             f"{row['step_transform_history']:.3f} | {row['step_conditioned_fit']:.3f} | "
                             f"{row['step_candidates']:.3f} | {row['step_transform_candidates']:.3f} | "
                             f"{row['step_acquisition']:.3f} |")
        lines.append("")
    if thr:
        lines += [f"Training throughput inside each executor vs a plain model.fit ({args.throughput_dataset}, "
                  f"{args.epochs} epochs, batch {FIXED_PARAMS['batch_size']}, the same model, split and seed; "
                  f"interleaved plain, executor, ...; {args.warmup} warm-up pair(s) left out):", "",
                  "| executor | pair | plain fit s | executor fit s | plain samples/s | executor samples/s | "
                  "fit ratio | plain script s | executor trial s | trial ratio | load average |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for row in thr:
            lines.append(f"| {row['executor']} | {row['pair']} | {row['plain_fit']:.2f} | {row['executor_fit']:.2f} | "
                         f"{row['plain_rate']:.0f} | {row['executor_rate']:.0f} | {row['ratio']:.3f} | "
                         f"{row['plain_trial']:.2f} | {row['executor_trial']:.2f} | {row['trial_ratio']:.3f} | "
                         f"{row['load']:.2f} |")
        lines.append("")
        for name in dict.fromkeys(row["executor"] for row in thr):
            ratios = [row["ratio"] for row in thr if row["executor"] == name]
            trial = [row["trial_ratio"] for row in thr if row["executor"] == name]
            lines.append(f"- {name}: median fit (throughput) ratio {statistics.median(ratios):.3f} over {len(ratios)} "
                         f"pairs (min {min(ratios):.3f}, max {max(ratios):.3f}); median trial ratio "
                         f"{statistics.median(trial):.3f} (1.000 = as fast as the plain script)")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="10,100,300", help="stored-trial counts to time around")
    parser.add_argument("--window", type=int, default=3, help="trials timed around each size")
    parser.add_argument("--repeats", type=int, default=3, help="calls per GP timing (the median is reported)")
    parser.add_argument("--dataset", default="digits-small", help="data set for part 1 (only its shape matters)")
    parser.add_argument("--throughput-dataset", default="digits")
    parser.add_argument("--executors", default=",".join(EXECUTORS), help="part 2: inprocess, pool, ray")
    parser.add_argument("--pairs", type=int, default=5, help="part 2: measured (plain, executor) pairs per executor")
    parser.add_argument("--warmup", type=int, default=1, help="part 2: pairs run first and left out")
    parser.add_argument("--epochs", type=int, default=3, help="part 2: epochs per fit")
    parser.add_argument("--skip-loop", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--study-dir", type=Path, help="keep part 1's study here (a rerun continues it)")
    parser.add_argument("--out", type=Path, help="also write the tables to this file")
    args = parser.parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",")})
    executors = [e.strip() for e in args.executors.split(",") if e.strip()]
    if min(sizes) < 2 or args.window < 1 or args.repeats < 1:
        parser.error("sizes must be at least 2, --window and --repeats at least 1")
    if args.pairs < 1 or args.warmup < 0 or args.epochs < 1 or set(executors) - set(EXECUTORS):
        parser.error(f"--pairs and --epochs must be at least 1, --warmup at least 0, executors among {EXECUTORS}")
    args.load_at_start = os.getloadavg()[0]
    loop, gp = ([], []) if args.skip_loop else loop_overhead(sizes, args.window, args.dataset, args.study_dir,
                                                              args.repeats)
    thr = [] if args.skip_throughput else throughput(executors, args.pairs, args.warmup, args.epochs,
                                                     args.throughput_dataset)
    text = format_tables(loop, gp, thr, args)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
