"""What a trial fits on, validates on and tests on: numpy arrays, or batches streamed from a pipeline.

:func:`split_validation` makes, once per study, the split every trial
uses: a :class:`ValidationSplit` of arrays for an in-memory
:class:`~symtuner.data.Dataset` (a stratified, seeded hold-out), or a
:class:`StreamedSplit` for a :class:`~symtuner.data.streams.StreamedDataset`
(its validation set, or one carved from its training set by
:func:`~symtuner.data.streams.carve_validation`). Both give ``model.fit``
and ``model.evaluate`` their inputs for a trial's batch size, so the
training code has one path for both.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from symtuner.core.errors import DataError

#: Smallest batch used to evaluate (evaluation batches do not change results).
EVAL_BATCH = 256
#: Training samples the network's output is checked on before it trains (see ``checks.check_output``).
OUTPUT_SAMPLES = 8
#: The start of the warning Keras gives when a set of unknown size ends (see ``StreamedSplit.reading``).
END_OF_DATA_WARNING = "Your input ran out of data"


@dataclass(frozen=True, eq=False)
class ValidationSplit:
    """Training samples to fit on and the held-out validation samples (arrays)."""

    x_fit: np.ndarray
    y_fit: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray

    streamed = False

    @property
    def n_fit(self) -> int:
        """Samples a trial fits on per epoch."""
        return len(self.y_fit)

    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        """The first :data:`OUTPUT_SAMPLES` samples to fit on: what a network is checked on."""
        return self.x_fit[:OUTPUT_SAMPLES], self.y_fit[:OUTPUT_SAMPLES]

    def fit_inputs(self, batch_size: int, seed: int) -> dict[str, Any]:
        """``model.fit``'s data arguments: the arrays, shuffled by Keras (seeded by the trial's seed)."""
        del seed  # Keras shuffles arrays with the global seed the trial sets
        return {"x": self.x_fit, "y": self.y_fit, "batch_size": batch_size, "shuffle": True,
                "validation_data": (self.x_val, self.y_val)}

    def validation_inputs(self, batch_size: int) -> dict[str, Any]:
        """``model.evaluate``'s data arguments for the validation samples."""
        return {"x": self.x_val, "y": self.y_val, "batch_size": max(batch_size, EVAL_BATCH)}

    def test_inputs(self, dataset: Any, batch_size: int) -> dict[str, Any]:
        """``model.evaluate``'s data arguments for ``dataset``'s test samples."""
        return {"x": dataset.x_test, "y": dataset.y_test, "batch_size": max(batch_size, EVAL_BATCH)}

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """The context a trial's fit and evaluations run in (nothing to set for arrays)."""
        yield


@dataclass(frozen=True, eq=False)
class StreamedSplit:
    """Sets of batches to fit on and to validate on, and the test set, never held whole.

    ``n_fit`` is the number of samples fitted per epoch, None when the
    training set's size is unknown (a generator's); it is approximate for a
    carved validation split (the held-out share of a known size).
    """

    fit: Any
    validation: Any
    test: Any
    n_fit: int | None
    first: tuple[np.ndarray, np.ndarray]

    streamed = True

    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        """The first :data:`OUTPUT_SAMPLES` training samples (read once, when the split was made)."""
        return self.first

    def fit_inputs(self, batch_size: int, seed: int) -> dict[str, Any]:
        """``model.fit``'s data arguments: the training part re-batched to ``batch_size`` and shuffled
        with ``seed`` (:func:`~symtuner.data.streams.rebatch`), the validation part in order."""
        from symtuner.data.streams import evaluation_batches, rebatch

        return {"x": rebatch(self.fit, batch_size, shuffle=True, seed=int(seed) % 2**31), "shuffle": False,
                "validation_data": evaluation_batches(self.validation, max(batch_size, EVAL_BATCH))}

    def validation_inputs(self, batch_size: int) -> dict[str, Any]:
        from symtuner.data.streams import evaluation_batches

        return {"x": evaluation_batches(self.validation, max(batch_size, EVAL_BATCH))}

    def test_inputs(self, dataset: Any, batch_size: int) -> dict[str, Any]:
        from symtuner.data.streams import evaluation_batches

        del dataset  # the test set was taken when the split was made
        return {"x": evaluation_batches(self.test, max(batch_size, EVAL_BATCH))}

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """The context a trial's fit and evaluations run in.

        Keras learns the length of a set of unknown size (a generator's) by
        reaching its end in the first epoch, and warns each time that the
        input "ran out of data"; here that is how every epoch ends, so the
        warning is silenced (only it).
        """
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=END_OF_DATA_WARNING)
            yield


Split = ValidationSplit | StreamedSplit


def split_validation(dataset: Any, fraction: float, seed: int) -> Split:
    """The split every trial of a study uses: ``fraction`` of the training data held out by ``seed``.

    An in-memory data set is split by sample, stratified by class where
    possible (a regression's split is a plain seeded one). A streamed one
    keeps its own validation set, or has one carved by position
    (:func:`~symtuner.data.streams.carve_validation`).
    """
    if getattr(dataset, "streamed", False):
        return _streamed_split(dataset, fraction, seed)
    from sklearn.model_selection import train_test_split

    n = dataset.n_train
    n_val = int(round(n * fraction))
    if n < 2 or n_val < 1 or n_val >= n:
        raise DataError(f"{dataset.name}: cannot hold out a validation fraction of {fraction} from "
                        f"{n} training samples")
    indices = np.arange(n)
    try:
        fit_idx, val_idx = train_test_split(indices, test_size=n_val, random_state=seed,
                                            stratify=None if dataset.is_regression else dataset.y_train)
    except ValueError:  # a class too rare to stratify, or fewer held-out samples than classes
        fit_idx, val_idx = train_test_split(indices, test_size=n_val, random_state=seed)
    fit_idx, val_idx = np.sort(fit_idx), np.sort(val_idx)
    return ValidationSplit(dataset.x_train[fit_idx], dataset.y_train[fit_idx],
                           dataset.x_train[val_idx], dataset.y_train[val_idx])


def _streamed_split(dataset: Any, fraction: float, seed: int) -> StreamedSplit:
    from symtuner.data.streams import carve_validation, sample_of

    fit, validation = carve_validation(dataset, fraction, seed)
    return StreamedSplit(fit, validation, dataset.test, fitted_samples(dataset, fraction),
                         sample_of(fit, OUTPUT_SAMPLES))


def fitted_samples(dataset: Any, fraction: float) -> int | None:
    """Samples a trial fits on per epoch: the training set less the held-out ``fraction`` (at least 1),
    all of it when a streamed set has its own validation set, None when its size is unknown."""
    n_train = dataset.n_train
    if n_train is None:
        return None
    if getattr(dataset, "validation", None) is not None:
        return int(n_train)
    return max(1, n_train - int(round(n_train * fraction)))
