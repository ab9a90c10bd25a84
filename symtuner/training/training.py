"""Train one network for one trial and report its learning curve.

The validation set is carved out of the training data (the same split for
every trial of a study, so their scores compare); the test set is evaluated
once, after training, for reporting only. Keras is imported when a trial
runs, not when this module is imported.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from symtuner.core.architecture import Architecture
from symtuner.core.contract import EpochCallback, TrainResult, TrialSpec
from symtuner.core.errors import ConfigError, DataError, TrialFailed
from symtuner.core.records import LearningCurve
from symtuner.core.space import Categorical, SearchSpace
from symtuner.data.dataset import Dataset
from symtuner.training.callbacks import raised_by_user_callback, trial_callbacks, user_callbacks
from symtuner.training.compiling import (
    DATA_LOSS,
    OPTIMIZERS,
    TRAINING_DEFAULTS,
    CompileRule,
    batch_size_param,
    compile_model,
    data_losses,
    make_optimizer,
)
from symtuner.training.config import TrainingConfig
from symtuner.training.saving import save_model
from symtuner.training.splits import OUTPUT_SAMPLES, Split, split_validation

if TYPE_CHECKING:
    from symtuner.training.builder import NetworkFn

#: The compiling, saving and callbacks live in :mod:`symtuner.training.compiling`,
#: :mod:`symtuner.training.saving` and :mod:`symtuner.training.callbacks`; their public names are
#: offered here too, where callers have always imported them.
__all__ = [
    "DATA_LOSS", "OPTIMIZERS", "TRAINING_DEFAULTS", "CompileRule", "EpochCallback", "TrainResult",
    "TrainingConfig", "TrialSpec", "batch_size_param", "brief", "check_before_study", "compile_model",
    "data_losses", "make_optimizer", "save_model", "train_trial", "user_callbacks",
]


def check_before_study(network_fn: NetworkFn, space: SearchSpace, architecture: Architecture,
                       dataset: Dataset, split: Split | None = None, metrics: tuple[str, ...] = (),
                       objective: str | None = None) -> None:
    """Check that trials can run at all, before a study is created (raises ConfigError).

    The training HPs (optimizer, learning rate, batch size) are checked at
    both corners of the space; the network is built once at the space's
    lowest values (the first category of each categorical) and checked to
    be a single-output ``keras.Model`` with one output unit per class (a
    probability distribution, :func:`symtuner.training.checks.check_output`,
    unless the user compiled it) or per regression target. It is compiled
    as the trials will be (:class:`CompileRule`) and evaluated on a few
    training samples, so that an ``objective`` the trials would not log
    fails here, naming the metrics they do log. ``split`` is the study's
    validation split (made here with the defaults when None). Anything the network
    function or that forward pass raises is reported as a ConfigError
    naming the values it was built with, so a bad space, a bad network
    function or data the network cannot take fail before anything is
    stored.
    """
    import keras

    low = {dim.name: dim.categories[0] if isinstance(dim, Categorical) else dim.low for dim in space.dimensions}
    high = {dim.name: dim.categories[-1] if isinstance(dim, Categorical) else dim.high for dim in space.dimensions}
    if split is None:
        split = split_validation(dataset, TrainingConfig.validation_split, TrainingConfig.split_seed)
    for point in (low, high):
        make_optimizer(point)
        batch_size_param(point, split.n_fit)
    keras.backend.clear_session()
    try:
        model = network_fn(dict(low), architecture, dataset.input_shape, dataset.n_outputs)
    except ConfigError as exc:
        raise ConfigError(f"the network cannot be built from the search space: {exc}") from None
    except Exception as exc:
        raise ConfigError(f"the network function fails on the search space's lowest values {low}: "
                          f"{type(exc).__name__}: {exc}") from None
    try:
        rule = CompileRule.for_model(model, dataset, metrics)
        _check_model(model, dataset, rule, split)
        rule.compile(model, low)
        logged = model.evaluate(*split.sample(), verbose=0, return_dict=True)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"the network built from the search space's lowest values {low} fails on "
                          f"{OUTPUT_SAMPLES} training samples: {type(exc).__name__}: {brief(exc)}") from None
    finally:
        keras.backend.clear_session()
    if objective is not None:
        names = sorted(set(data_losses(dict(logged))) - {"penalised_loss"})
        if objective[len("val_"):] not in names:
            raise ConfigError(f"objective {objective!r} is not logged by the trials; they log "
                              f"{', '.join('val_' + n for n in names)} (add the metric with "
                              "metrics = [...] or compile your model with it)")


def train_trial(spec: TrialSpec, dataset: Dataset, network_fn: NetworkFn, config: TrainingConfig,
                on_epoch: EpochCallback | None = None, *, split: Split | None = None) -> TrainResult:
    """Build, train, validate, test and save one network.

    Bad HP values, and a network whose output does not fit the task, raise
    ConfigError; anything else that breaks building or training raises
    TrialFailed with the reason. A run whose loss turns NaN stops early and
    is returned, NaNs included, so it can be diagnosed. The model is
    compiled as :class:`CompileRule` says (symtuner's compile, or the
    user's with the tuned optimizer). It is saved without its optimizer's
    state (:func:`save_model`). ``split`` is the study's validation split
    (arrays, or streamed batches: :mod:`symtuner.training.splits`); made here
    when None.
    """
    import keras

    from symtuner.training.checks import ignored_features

    if split is None:
        split = split_validation(dataset, config.validation_split, config.split_seed)
    keras.backend.clear_session()
    keras.utils.set_random_seed(int(spec.seed) % 2**32)
    params = dict(spec.params)
    model, rule, unread = _checked_network(spec, dataset, network_fn, config, split)
    ignored_by_feature = ignored_features(model, spec.architecture, params)
    ignored = tuple(ignored_by_feature.values())
    batch_size = batch_size_param(params, split.n_fit)
    callbacks: list[Any] = []
    users: list[Any] = []
    try:
        rule.compile(model, params)
        start = time.perf_counter()
        users = user_callbacks(config.callbacks)
        callbacks = trial_callbacks(spec, config, on_epoch, users)
        with split.reading():
            history = model.fit(**split.fit_inputs(batch_size, spec.seed), epochs=config.epochs,
                                callbacks=callbacks, verbose=config.verbose)
            stopped = next((getattr(c, "stopped", "") for c in callbacks if getattr(c, "stopped", "")), "")
            seconds = time.perf_counter() - start
            val = _scores(model.evaluate(**split.validation_inputs(batch_size), verbose=0, return_dict=True))
            test = _scores(model.evaluate(**split.test_inputs(dataset, batch_size), verbose=0,
                                          return_dict=True))
        logged = data_losses({k: [float(v) for v in values] for k, values in history.history.items()})
        curve = LearningCurve.from_epochs([{k: values[i] for k, values in logged.items() if i < len(values)}
                                           for i in range(max(map(len, logged.values()), default=0))])
        save_model(model, spec.model_file, params, rule)
    except (ConfigError, DataError):
        raise  # a bad setting, or a streamed batch that breaks the data's own checks: every trial would fail
    except Exception as exc:
        failure = _training_failure(exc, spec, callbacks, users)
        if failure is exc:
            raise
        raise failure from exc
    return TrainResult(curve=curve, val_loss=val["loss"], val_accuracy=val.get("accuracy", math.nan),
                       test_loss=test["loss"], test_accuracy=test.get("accuracy", math.nan),
                       train_seconds=seconds, epochs_run=curve.n_epochs, model_path=spec.model_path,
                       log_dir=spec.log_dir, params_count=int(model.count_params()),
                       ignored_changes=ignored, ignored_features=ignored_by_feature, stopped=stopped,
                       val_metrics=val, test_metrics=test, own_loss=rule.symtuners_loss,
                       costs=_costs(model, split, spec), unread_params=unread)


def _checked_network(spec: TrialSpec, dataset: Dataset, network_fn: NetworkFn, config: TrainingConfig,
                     split: Split) -> tuple[Any, CompileRule, tuple[str, ...]]:
    """The trial's network, built and checked (:func:`_check_model`), how to compile it, and the HPs
    neither the network function nor the training read (tuned for nothing); a network that cannot be
    built or fails on a few samples raises TrialFailed (a bad setting ConfigError)."""
    from symtuner.training.hparams import ReadRecorder

    params = ReadRecorder(spec.params)
    try:
        model = network_fn(params, spec.architecture, dataset.input_shape, dataset.n_outputs)
    except ConfigError:
        raise
    except Exception as exc:
        raise TrialFailed(f"trial {spec.number}: building the network failed: "
                          f"{type(exc).__name__}: {exc}") from exc
    rule = CompileRule.for_model(model, dataset, config.metrics)
    try:
        _check_model(model, dataset, rule, split)
    except ConfigError:
        raise
    except Exception as exc:
        raise TrialFailed(f"trial {spec.number}: training failed: the network fails on {OUTPUT_SAMPLES} "
                          f"training samples: {type(exc).__name__}: {exc}") from exc
    return model, rule, tuple(name for name in params.unread() if name not in TRAINING_DEFAULTS)


def _training_failure(exc: Exception, spec: TrialSpec, callbacks: list[Any], users: list[Any]) -> BaseException:
    """What an exception raised while training, evaluating or saving means: ``exc`` itself when recording an
    epoch failed (the loop must see it as it is); a ConfigError for the user's callback, a DataError for a
    streamed batch that breaks the checks the first passed (every trial would fail the same way); else
    TrialFailed with the reason."""
    if any(getattr(c, "error", None) is exc for c in callbacks):
        return exc
    culprit = raised_by_user_callback(exc, users)
    if culprit is not None:
        return ConfigError(f"trial {spec.number}: your callback {type(culprit).__name__} raised during "
                           f"training: {type(exc).__name__}: {brief(exc)}")
    from symtuner.data.stream_checks import batch_check_failure

    broken = batch_check_failure(exc)
    if broken is not None:
        return DataError(f"trial {spec.number}: {broken}")
    return TrialFailed(f"trial {spec.number}: training failed: {type(exc).__name__}: {brief(exc)}")


def _costs(model: Any, split: Split, spec: TrialSpec) -> dict[str, float]:
    """What the trained network costs (:func:`symtuner.training.costs.measure_costs`); a latency that
    cannot be timed (a model that cannot predict one sample alone) is left out."""
    from symtuner.training.costs import measure_costs

    try:
        return measure_costs(model, split.sample()[0], spec.model_file)
    except Exception:  # noqa: BLE001 - the latency is a measurement, not the trial's result
        try:
            return measure_costs(model, None, spec.model_file)
        except Exception:  # noqa: BLE001 - a network whose layers cannot be read: its size alone
            return {"params": float(model.count_params())}


def brief(exc: BaseException) -> str:
    """An exception's message without the graph trace TensorFlow appends to its errors.

    TensorFlow's ``InvalidArgumentError`` and the like carry every frame of
    the graph in their message; what a user needs is the first line and the
    last line that says what went wrong (say, ``Incompatible shapes: [8] vs.
    [8,3]``).
    """
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if len(lines) <= 2:
        return " ".join(lines)
    said = [line for line in lines if not line.startswith(("[[", "File ", "Detected at node"))]
    last = said[-1] if said else lines[-1]
    return f"{lines[0]} ... {last}" if last != lines[0] else lines[0]


def _scores(logs: Mapping[str, Any]) -> dict[str, float]:
    """An evaluation's results with the data loss as ``loss`` (the penalised one as ``penalised_loss``)."""
    return {key: float(value) for key, value in data_losses(dict(logs)).items()}


def _check_model(model: Any, dataset: Dataset, rule: CompileRule, split: Split) -> None:
    """A network function must return one single-output model with one unit per class (or target).

    A classifier compiled by symtuner must output probabilities: checked by
    :func:`symtuner.training.checks.check_output` on the first
    :data:`OUTPUT_SAMPLES` samples to fit on. A model the user compiled
    keeps its own output (logits with a ``from_logits`` loss are fine);
    it is run on those samples all the same, so that one that cannot take
    the data fails here.
    """
    import keras

    from symtuner.training.checks import check_output

    if not isinstance(model, keras.Model):
        raise ConfigError(f"the network function returned {type(model).__name__}, not a keras.Model")
    outputs = getattr(model, "outputs", None)
    if outputs is not None and len(outputs) != 1:
        raise ConfigError(f"the network must have one output, got {len(outputs)}")
    what = f"{dataset.n_outputs} regression target(s)" if dataset.is_regression else f"{dataset.n_classes} classes"
    if outputs:
        width = outputs[0].shape[-1]
        if width is not None and width != dataset.n_outputs:
            raise ConfigError(f"the network's output has {width} units but {dataset.name} has {what}")
    sample = split.sample()[0]
    if dataset.is_regression or not rule.symtuners_loss:
        out = np.asarray(keras.ops.convert_to_numpy(model(sample, training=False)))
        if out.ndim != 2 or out.shape[1] != dataset.n_outputs:
            raise ConfigError(f"the network's output has shape {tuple(out.shape[1:])} per sample; expected "
                              f"({dataset.n_outputs},): one value per {'target' if dataset.is_regression else 'class'}")
        return
    check_output(model, dataset.n_classes, sample)
