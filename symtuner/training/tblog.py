"""TensorBoard logs of one trial under every Keras backend: HParams data and epoch scalars.

Every trial logs to its own directory (``STUDY/logs/trial_NNNN``), so ``tensorboard --logdir
STUDY/logs`` shows a study's trials side by side. Keras's own TensorBoard callback writes the
epoch scalars through ``tf.summary`` and so runs on the TensorFlow backend only. Everything here
writes with the tensorboard package's own event-file writer, which needs numpy and protobuf but
no TensorFlow, so the same files come out under the TensorFlow, JAX and PyTorch backends:

* :func:`hparams_callback` records a trial for TensorBoard's HParams dashboard: its
  hyper-parameters and architecture features when training starts, the last epoch's metrics
  and a status (success, or failure for a diverged training) when it ends.
* :func:`scalars_callback` writes the epoch scalars as Keras's callback does: ``epoch_<name>``
  tags, step = epoch, training values in ``train/`` and validation values in ``validation/``.
* :func:`tensorboard_callbacks` gives the callbacks a backend needs.

No experiment config (the ``hparams_config`` summary) is written, on purpose. The dashboard
reads one config, from whichever run it meets first, and takes its columns and value domains as
the whole experiment's. One trial knows only its own HPs, and a study's space grows (tuning
actions add HPs such as the L2 rate), so any one trial's config hides the columns of the HPs
added after it, and its discrete domains (the one optimizer it used) make the dashboard filter
out the trials that used another value. Without a config the plugin builds the experiment from
all the trials' recorded HPs (every HP name, the domain of the values seen) and the scalars in
their runs, which is what lists and compares every trial of a study.

Keras is imported when a callback is made, not when this module is imported, so that the
writing classes can be used (and checked) where no Keras backend is importable.
"""

from __future__ import annotations

import math
import operator
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from symtuner.core.errors import ConfigError

#: A value the HParams plugin can record.
HParamValue = bool | int | float | str

#: The subdirectories Keras's TensorBoard callback writes the epoch scalars to.
TRAIN_DIR = "train"
VALIDATION_DIR = "validation"

#: The keyword arguments symtuner gives ``keras.callbacks.TensorBoard``: epoch scalars only
#: (no weight histograms, graph or profile, which would cost time in every trial).
KERAS_TENSORBOARD_OPTIONS: dict[str, Any] = {"histogram_freq": 0, "write_graph": False, "update_freq": "epoch",
                                             "profile_batch": 0}


def hparam_values(params: Mapping[str, Any], architecture_features: Mapping[str, Any]) -> dict[str, HParamValue]:
    """The HPs and architecture features of a trial as values the HParams plugin records.

    HPs are numbers, strings or booleans (numpy scalars become the Python value they hold);
    architecture features (``arch_l2``, ``arch_extra_dense``, ...) are integers, so the dashboard
    can sort and plot them. Anything else is a ConfigError naming it, and so is a feature whose
    name is also an HP's: one of the two would be lost.
    """
    values: dict[str, HParamValue] = {}
    for name, value in params.items():
        values[_name(name, "HP")] = _hparam_value(name, value)
    for name, feature in architecture_features.items():
        if name in values:
            raise ConfigError(f"architecture feature {name!r} has the name of an HP; rename the HP")
        try:
            values[_name(name, "architecture feature")] = operator.index(feature)
        except TypeError:
            raise ConfigError(f"architecture feature {name!r} must be an integer, got {feature!r}") from None
    return values


class HParamsRecord:
    """One trial as the HParams plugin records it, written to the trial's log directory.

    The start (HP values) and the end (final metrics as scalars, and the status)
    are written when they happen, each to its own event file that is closed at once: a trial that
    crashes leaves no open writer, and a dashboard that is watching lists the trial from its start.
    The trial's group name (the dashboard's "Trial ID") is the log directory's name and, after it, the
    absolute directory it is in: readable where the dashboard cuts it short, and unique, so every
    trial is its own row even where two trials (of one study or of two) share their HP values.
    """

    def __init__(self, log_dir: str | Path, hparams: Mapping[str, HParamValue]) -> None:
        self.log_dir = Path(log_dir)
        self.hparams = dict(hparams)
        where = self.log_dir.absolute()
        self.group = f"{where.name} ({where.parent.as_posix()})"

    def start(self, start_time: float | None = None) -> None:
        """Write the start: the trial's HP values."""
        from tensorboard.plugins.hparams import summary_v2

        _write(self.log_dir, [(0, summary_v2.hparams_pb(self.hparams, trial_id=self.group,
                                                         start_time_secs=start_time))])

    def end(self, metrics: Mapping[str, Any], step: int, end_time: float | None = None) -> None:
        """Write the end: each metric as a scalar at ``step`` (the last epoch) and the status.

        The status is a failure where the loss or the validation loss is not finite (the training
        diverged: TerminateOnNaN stopped it), a success otherwise.
        """
        from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
        from tensorboard.plugins.scalar import summary_v2 as scalar_summary

        values = {name: _metric_value(name, value) for name, value in metrics.items()}
        failed = any(not math.isfinite(values[name]) for name in ("loss", "val_loss") if name in values)
        info = plugin_data_pb2.SessionEndInfo(status=api_pb2.STATUS_FAILURE if failed else api_pb2.STATUS_SUCCESS,
                                              end_time_secs=time.time() if end_time is None else end_time)
        end = _summary(metadata.SESSION_END_INFO_TAG,
                       metadata.create_summary_metadata(plugin_data_pb2.HParamsPluginData(session_end_info=info)))
        _write(self.log_dir, [(step, scalar_summary.scalar_pb(name, value)) for name, value in values.items()]
               + [(0, end)])


class EpochScalars:
    """The epoch scalars of one training, in the files and tags Keras's TensorBoard callback uses.

    ``loss`` goes to ``train/`` as ``epoch_loss``, ``val_loss`` to ``validation/`` as
    ``epoch_loss``, at step = epoch, so that TensorBoard and :func:`symtuner.integrations.histories.read_history`
    read a trial the same on every backend. The writers open at the first epoch (no empty files for
    a training that never ran one) and are flushed at every epoch, so a watching dashboard follows.
    """

    def __init__(self, log_dir: str | Path) -> None:
        self.log_dir = Path(log_dir)
        self._writers: dict[str, Any] = {}

    def write(self, epoch: int, logs: Mapping[str, Any], learning_rate: float | None = None) -> None:
        """Write one epoch's logs; ``learning_rate`` (the optimizer's) is written as Keras does."""
        from tensorboard.plugins.scalar import summary_v2 as scalar_summary

        train = {name: value for name, value in logs.items() if not name.startswith("val_")}
        if learning_rate is not None:
            train["learning_rate"] = learning_rate
        sides = {TRAIN_DIR: train,
                 VALIDATION_DIR: {name[4:]: value for name, value in logs.items() if name.startswith("val_")}}
        for side, values in sides.items():
            if not values:
                continue
            writer = self._writer(side)
            for name, value in values.items():
                writer.add_event(_event(epoch, scalar_summary.scalar_pb(f"epoch_{name}", _metric_value(name, value))))
            writer.flush()

    def write_evaluation(self, iterations: int, logs: Mapping[str, Any]) -> None:
        """Write the logs of an evaluation (the validation run of an epoch) at step = training iterations.

        Keras's callback logs them to ``validation/`` as ``evaluation_<name>_vs_iterations``, which
        relates validation to the number of batches trained whatever the batch size.
        """
        from tensorboard.plugins.scalar import summary_v2 as scalar_summary

        if not logs:
            return
        writer = self._writer(VALIDATION_DIR)
        for name, value in logs.items():
            summary = scalar_summary.scalar_pb(f"evaluation_{name}_vs_iterations", _metric_value(name, value))
            writer.add_event(_event(iterations, summary))
        writer.flush()

    def close(self) -> None:
        """Close the writers (a later write opens new files)."""
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()

    def _writer(self, side: str) -> Any:
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        if side not in self._writers:
            self._writers[side] = EventFileWriter(str(self.log_dir / side))
        return self._writers[side]


def hparams_callback(log_dir: str | Path, params: Mapping[str, Any],
                     architecture_features: Mapping[str, Any] | None = None) -> Any:
    """A Keras callback that records one trial for TensorBoard's HParams dashboard.

    At train begin it writes the trial's HPs and architecture features (see
    :func:`hparam_values`; bad values are a ConfigError here, before training); at train end the
    last epoch's logs, every metric that appears in them (``loss``, ``val_accuracy``, ...), as
    scalars in ``log_dir`` itself, and the trial's status (see :class:`HParamsRecord`).
    ``tensorboard --logdir`` on the directory above the trials' then lists and compares them.
    """
    import keras

    record = HParamsRecord(log_dir, hparam_values(params, architecture_features or {}))

    class HParamsCallback(keras.callbacks.Callback):
        """Writes the trial's start at train begin and its end, with the last epoch's logs, at train end."""

        def __init__(self) -> None:
            super().__init__()
            self.record = record
            self._last: tuple[int, dict[str, Any]] | None = None

        def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
            self._last = None
            self.record.start()

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self._last = (int(epoch), dict(logs or {}))

        def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
            epoch, metrics = self._last if self._last is not None else (0, dict(logs or {}))
            self.record.end(metrics, epoch)

    return HParamsCallback()


def scalars_callback(log_dir: str | Path) -> Any:
    """A Keras callback writing the epoch scalars as ``keras.callbacks.TensorBoard`` does, on any backend.

    See :class:`EpochScalars`. As Keras's callback does, it also logs the optimizer's learning rate
    as ``epoch_learning_rate`` and each validation run as ``evaluation_<name>_vs_iterations``.
    """
    import keras

    scalars = EpochScalars(log_dir)

    class EpochScalarsCallback(keras.callbacks.Callback):
        """Writes every epoch's and validation run's logs to ``train/`` and ``validation/``; closes the files
        at train end."""

        def __init__(self) -> None:
            super().__init__()
            self.scalars = scalars

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self.scalars.write(int(epoch), logs or {}, _learning_rate(self.model))

        def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
            iterations = _iterations(self.model)
            if iterations is not None:
                self.scalars.write_evaluation(iterations, logs or {})

        def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
            self.scalars.close()

    return EpochScalarsCallback()


def tensorboard_callbacks(log_dir: str | Path, params: Mapping[str, Any],
                          architecture_features: Mapping[str, Any] | None = None,
                          backend: str | None = None) -> list[Any]:
    """The callbacks that log one trial to ``log_dir`` under ``backend`` (default: Keras's current one).

    On TensorFlow: ``keras.callbacks.TensorBoard`` with :data:`KERAS_TENSORBOARD_OPTIONS` for the
    epoch scalars; elsewhere :func:`scalars_callback`, which writes the same tags. Then, on every
    backend, :func:`hparams_callback`.
    """
    import keras

    log_dir = Path(log_dir)
    hparams = hparams_callback(log_dir, params, architecture_features)
    log_dir.mkdir(parents=True, exist_ok=True)
    if (backend or keras.backend.backend()) == "tensorflow":
        scalars = keras.callbacks.TensorBoard(log_dir=str(log_dir), **KERAS_TENSORBOARD_OPTIONS)
    else:
        scalars = scalars_callback(log_dir)
    return [scalars, hparams]


def _learning_rate(model: Any) -> float | None:
    """The learning rate of ``model``'s optimizer (unwrapped from loss scaling), as Keras's callback reads it."""
    import keras

    optimizer = getattr(model, "optimizer", None)
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        return None
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def _iterations(model: Any) -> int | None:
    """The number of batches ``model``'s optimizer has trained on, ``None`` without an optimizer."""
    import keras

    iterations = getattr(getattr(model, "optimizer", None), "iterations", None)
    return None if iterations is None else int(keras.ops.convert_to_numpy(iterations))


def _name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{what} name {name!r} must be a non-empty string")
    return name


def _hparam_value(name: str, value: Any) -> HParamValue:
    """``value`` as a bool, int, float or str; a ConfigError naming the HP otherwise."""
    plain = value.item() if isinstance(value, np.generic) else value
    if not isinstance(plain, (bool, int, float, str)):
        raise ConfigError(f"HP {name!r} has the value {value!r} ({type(value).__name__}); TensorBoard's HParams "
                          "record numbers, strings and booleans only")
    return plain


def _metric_value(name: str, value: Any) -> float:
    """A logged metric as a float; a ConfigError naming it if it is not a single number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"metric {name!r} has the value {value!r:.80}, not a number") from None


def _summary(tag: str, summary_metadata: Any) -> Any:
    """A summary of ``tag`` that carries everything in its metadata, as the HParams plugin's own do."""
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.plugins.hparams import metadata

    summary = summary_pb2.Summary()
    summary.value.add(tag=tag, metadata=summary_metadata, tensor=metadata.NULL_TENSOR)
    return summary


def _event(step: int, summary: Any) -> Any:
    from tensorboard.compat.proto import event_pb2

    return event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary)


def _write(directory: Path, summaries: list[tuple[int, Any]]) -> None:
    """Write ``(step, summary)`` pairs to a new event file in ``directory`` and close it."""
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(directory))
    try:
        for step, summary in summaries:
            writer.add_event(_event(step, summary))
    finally:
        writer.close()
