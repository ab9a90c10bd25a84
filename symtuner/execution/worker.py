"""What runs in a worker (a pool process or a Ray task): one trial, its epochs reported back.

Nothing here imports Keras at module level: a spawned worker sets its
thread counts before TensorFlow loads.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from symtuner.core.errors import ConfigError, TrialFailed
from symtuner.data.dataset import Dataset

#: What a worker returns when the driver asked it to stop (the driver keeps its own reason).
STOPPED_BY_DRIVER = "stopped by the tuner"


@dataclass(frozen=True)
class Work:
    """One trial as a worker receives it: the spec, the network (a spec string or an importable
    function), the training config and the threads TensorFlow may use."""

    spec: Any
    network: Any
    config: Any
    threads: int | None = None
    executor_factory: Any = None


def resolve_network(network: Any, regression: bool = False) -> Callable[..., Any]:
    """The network function ``network`` names: ``"default"`` (the default classifier, or regressor
    for a ``regression``), a ``module:function`` spec, or itself."""
    if callable(network):
        return network  # type: ignore[no-any-return]
    if network in (None, "default"):
        from symtuner.training.builder import build_default_network, build_default_regressor

        return build_default_regressor if regression else build_default_network
    from symtuner.core.plugins import load_callable

    return load_callable(network, "network function")


def check_work(network: Any, space: Any, architecture: Any, dataset: Dataset, config: Any,
               executor_factory: Any) -> None:
    """What a dispatcher's ``check`` does: build the network from the space in the driver (skipped for a
    stand-in trainer), so that a study that cannot run fails before it is created."""
    if executor_factory is not None:
        return
    from symtuner.training.splits import split_validation
    from symtuner.training.training import check_before_study

    split = split_validation(dataset, config.validation_split, config.split_seed)
    check_before_study(resolve_network(network, dataset.is_regression), space, architecture, dataset,
                       split, config.metrics, config.objective)


def check_picklable(value: Any, what: str) -> None:
    """Workers in other processes receive ``value`` pickled; a lambda or a local function cannot be."""
    try:
        pickle.dumps(value)
    except Exception as exc:
        raise ConfigError(f"{what} {value!r} cannot be sent to worker processes ({type(exc).__name__}: {exc}); "
                          "define it at the top level of an importable module or give it as "
                          "'module:function' / 'file.py:function'") from None


def set_threads(threads: int | None) -> None:
    """Limit TensorFlow's thread pools (call before TensorFlow is imported)."""
    if threads is None:
        return
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        os.environ[name] = str(threads)


def save_split(directory: Path, dataset: Dataset, split: Any) -> Path:
    """Write the arrays a trial needs once, for every worker to map from disk: the data set as the
    driver holds it (a trainer of the user's own, given by an executor factory, gets it whole and makes
    the study's split itself, as in the driver) and the study's validation split."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, array in (("x_train", dataset.x_train), ("y_train", dataset.y_train),
                        ("x_fit", split.x_fit), ("y_fit", split.y_fit), ("x_val", split.x_val),
                        ("y_val", split.y_val), ("x_test", dataset.x_test), ("y_test", dataset.y_test)):
        np.save(directory / f"{name}.npy", array)
    (directory / "meta.txt").write_text(f"{dataset.n_classes}\n{dataset.name}\n", encoding="utf-8")
    return directory


def load_split(directory: Path) -> tuple[Dataset, Any]:
    """The data set and validation split :func:`save_split` wrote (memory-mapped)."""
    from symtuner.training.splits import ValidationSplit

    arrays = {name: np.load(directory / f"{name}.npy", mmap_mode="r")
              for name in ("x_train", "y_train", "x_fit", "y_fit", "x_val", "y_val", "x_test", "y_test")}
    n_classes, name = (directory / "meta.txt").read_text(encoding="utf-8").splitlines()[:2]
    dataset = Dataset(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], int(n_classes),
                      name)
    return dataset, ValidationSplit(arrays["x_fit"], arrays["y_fit"], arrays["x_val"], arrays["y_val"])


def run_work(work: Work, dataset: Dataset | None, split: Any, report: Callable[[int, dict[str, float]], None],
             should_stop: Callable[[], bool]) -> Any:
    """Train ``work``'s trial; every epoch goes to ``report``; ``should_stop`` ends it early."""
    def on_epoch(epoch: int, logs: dict[str, float]) -> str:
        report(epoch, logs)
        return STOPPED_BY_DRIVER if should_stop() else ""

    if dataset is None:  # a trainer without data (a define-by-run objective)
        if work.executor_factory is None:
            raise ConfigError("a trial without a data set needs a trainer of its own (the executor factory)")
        return work.executor_factory(None, None, work.config).run(work.spec, on_epoch=on_epoch)
    if work.executor_factory is not None:  # a stand-in trainer (simulated curves)
        executor = work.executor_factory(dataset, resolve_network(work.network, dataset.is_regression), work.config)
        return executor.run(work.spec, on_epoch=on_epoch)
    from symtuner.training.training import train_trial

    return train_trial(work.spec, dataset, resolve_network(work.network, dataset.is_regression), work.config, on_epoch, split=split)


def error_message(exc: BaseException) -> tuple[str, str]:
    """How a worker's failure travels back: its kind (config or trial) and its message."""
    if isinstance(exc, ConfigError):
        return "config", str(exc)
    if isinstance(exc, TrialFailed):
        return "trial", str(exc)
    return "trial", f"{type(exc).__name__}: {exc}"


def rebuild_error(kind: str, message: str) -> Exception:
    return ConfigError(message) if kind == "config" else TrialFailed(message)
