"""Train one network for one trial and report its learning curve.

The validation set is carved out of the training data (the same split for
every trial of a study, so their scores compare); the test set is evaluated
once, after training, for reporting only. Keras is imported when a trial
runs, not when this module is imported.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from symtuner.core.architecture import Architecture
from symtuner.core.errors import ConfigError, DataError, TrialFailed
from symtuner.core.records import LearningCurve
from symtuner.core.space import Categorical, SearchSpace
from symtuner.data.dataset import Dataset
from symtuner.training.splits import OUTPUT_SAMPLES, Split, split_validation

if TYPE_CHECKING:
    from symtuner.training.builder import NetworkFn

#: Called after every epoch with the 0-based epoch and its metrics.
#: Called after every epoch with the epoch (0-based) and its logs; a non-empty string returned
#: stops the training (the reason is kept in ``TrainResult.stopped``).
EpochCallback = Callable[[int, dict[str, float]], 'str | None']

#: Optimizer HP value (case-insensitive) -> keras.optimizers class name.
OPTIMIZERS: dict[str, str] = {
    "adam": "Adam",
    "adamax": "Adamax",
    "adadelta": "Adadelta",
    "rmsprop": "RMSprop",
    "sgd": "SGD",
    "nadam": "Nadam",
    "adagrad": "Adagrad",
}

#: Values used when the search space does not tune these HPs.
TRAINING_DEFAULTS: dict[str, Any] = {"optimizer": "Adam", "learning_rate": 1e-3, "batch_size": 32}

#: Name of the metric that records the cross-entropy alone. Keras's ``loss``
#: adds the weight penalties (L2) to it, which would make a regularised
#: network look as if its loss exploded and rank it worse on ``val_loss``;
#: every loss symtuner records, diagnoses and optimises is this one.
DATA_LOSS = "data_loss"


@dataclass(frozen=True)
class TrainingConfig:
    """How every trial of a study trains.

    ``split_seed`` fixes which training samples form the validation set; it
    is the same for all trials so that their validation scores compare.
    """

    epochs: int = 4
    validation_split: float = 0.2
    patience: int = 3
    verbose: int = 0
    split_seed: int = 0
    tensorboard: bool = True
    #: the user's own Keras callbacks: a function returning them (called for every trial, so each trial
    #: gets fresh ones), its ``module:function`` spec, or a list of callback objects shared by the trials
    callbacks: Any = None
    #: extra metrics every trial logs (``symtuner.core.metrics.EXTRA_METRICS``)
    metrics: tuple[str, ...] = ()
    #: the study's objective: :func:`check_before_study` checks that the trials log it
    objective: str = "val_accuracy"

    def __post_init__(self) -> None:
        if not (self.callbacks is None or isinstance(self.callbacks, (str, list, tuple)) or callable(self.callbacks)):
            raise ConfigError(f"callbacks must be a function returning Keras callbacks, its 'module:function' "
                              f"spec or a list of callbacks, got {self.callbacks!r:.80}")
        for name, low in (("epochs", 1), ("patience", 0), ("verbose", 0), ("split_seed", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"training {name} must be an integer >= {low}, got {value!r}")
        split = self.validation_split
        if isinstance(split, bool) or not isinstance(split, (int, float)) or not 0 < split < 1:
            raise ConfigError(f"validation_split must be between 0 and 1, got {split!r}")


@dataclass(frozen=True)
class TrialSpec:
    """What to train: HP values, architecture, seed, and where the outputs go."""

    number: int
    params: dict[str, Any]
    architecture: Architecture
    seed: int
    model_path: Path
    log_dir: Path

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ConfigError(f"trial seed must be a non-negative integer, got {self.seed!r}")
        object.__setattr__(self, "model_path", Path(self.model_path))
        object.__setattr__(self, "log_dir", Path(self.log_dir))
        if self.model_path.suffix != ".keras":
            raise ConfigError(f"model path {self.model_path} must end in .keras")


@dataclass(frozen=True)
class TrainResult:
    """The outcome of one training: curve, validation and test scores, files.

    ``ignored_changes`` lists the architecture changes the built model does
    not show (see :func:`symtuner.training.checks.check_network`).
    ``val_metrics`` and ``test_metrics`` hold every metric the final
    evaluations gave, by name (``loss`` is the data loss, ``accuracy``,
    ``auc``, ``mae``, ...); ``val_accuracy`` and ``test_accuracy`` are NaN
    when the trials log no accuracy (a regression).
    """

    curve: LearningCurve
    val_loss: float
    val_accuracy: float
    test_loss: float
    test_accuracy: float
    train_seconds: float
    epochs_run: int
    model_path: Path
    log_dir: Path
    params_count: int
    ignored_changes: tuple[str, ...] = field(default=())
    #: the same, by architecture feature (``l2``, ``batch_norm``, ...): what the tuner undoes
    ignored_features: dict[str, str] = field(default_factory=dict)
    stopped: str = ""
    val_metrics: dict[str, float] = field(default_factory=dict)
    test_metrics: dict[str, float] = field(default_factory=dict)
    #: whether the model trained with symtuner's loss (False: the user's own compile)
    own_loss: bool = True

    def objective_value(self, objective: str) -> float:
        """The value of ``objective`` (``val_accuracy``, ``val_auc``, ...) in the final validation.

        The trainers of tests and simulations that fill only the four scores
        give ``val_accuracy`` and ``val_loss`` through them.
        """
        key = objective[len("val_"):] if objective.startswith("val_") else objective
        if key in self.val_metrics:
            return float(self.val_metrics[key])
        if key in ("accuracy", "loss"):
            return float(self.val_accuracy if key == "accuracy" else self.val_loss)
        logged = ", ".join(f"val_{name}" for name in sorted(self.val_metrics)) or "none"
        raise ConfigError(f"objective {objective!r} is not among the metrics the trial logged ({logged})")


def make_optimizer(params: Mapping[str, Any]) -> Any:
    """A Keras optimizer from the ``optimizer`` and ``learning_rate`` HPs."""
    import keras

    name = _plain(params.get("optimizer", TRAINING_DEFAULTS["optimizer"]))
    key = name.lower() if isinstance(name, str) else name
    if key not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {name!r}; choose one of {sorted(OPTIMIZERS.values())}")
    rate = _plain(params.get("learning_rate", TRAINING_DEFAULTS["learning_rate"]))
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < math.inf:
        raise ConfigError(f"HP 'learning_rate' must be a positive number, got {rate!r}")
    return getattr(keras.optimizers, OPTIMIZERS[key])(learning_rate=float(rate))


def batch_size_param(params: Mapping[str, Any], n_samples: int | None) -> int:
    """The ``batch_size`` HP, clipped to the number of training samples (when it is known)."""
    value = _plain(params.get("batch_size", TRAINING_DEFAULTS["batch_size"]))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or round(value) < 1:
        raise ConfigError(f"HP 'batch_size' must be a positive integer, got {value!r}")
    size = int(round(value))
    return size if n_samples is None else max(1, min(size, n_samples))


@dataclass(frozen=True)
class CompileRule:
    """How every trial's model is compiled: with symtuner's loss and metrics, or as the user compiled it.

    A model the network function returns uncompiled gets symtuner's compile
    (:func:`compile_model`). A model it returns compiled (``given``, its
    ``get_compile_config()``) is trained as compiled: its loss, metrics and
    other compile options are kept, and symtuner changes only the optimizer,
    and only where the search space tunes it: the ``optimizer`` HP picks the
    optimizer's type, the ``learning_rate`` HP its learning rate (the other
    one stays the user's). Either way the loss alone (without the L2
    penalty) is logged as :data:`DATA_LOSS`, which the diagnosis reads.
    """

    n_classes: int
    metrics: tuple[str, ...] = ()
    given: dict[str, Any] | None = None

    @classmethod
    def for_model(cls, model: Any, dataset: Dataset, metrics: tuple[str, ...] = ()) -> CompileRule:
        given = model.get_compile_config() if getattr(model, "compiled", False) else None
        return cls(dataset.n_classes, tuple(metrics), given or None)

    @property
    def symtuners_loss(self) -> bool:
        """Whether the loss is symtuner's own, whose scale the diagnosis knows (see ``loss_baseline``)."""
        return self.given is None

    def compile(self, model: Any, params: Mapping[str, Any]) -> None:
        """Compile ``model`` for a trial with ``params`` (a fresh optimizer, no state)."""
        if self.given is None:
            compile_model(model, params, self.n_classes, self.metrics)
            return
        _compile_as_given(model, params, self.given, self.metrics, self.n_classes)


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
    ignored_by_feature = ignored_features(model, spec.architecture, params)
    ignored = tuple(ignored_by_feature.values())
    batch_size = batch_size_param(params, split.n_fit)
    callbacks: list[Any] = []
    try:
        rule.compile(model, params)
        start = time.perf_counter()
        callbacks = _callbacks(spec, config, on_epoch)
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
        save_model(model, spec.model_path, params, rule)
    except (ConfigError, DataError):
        raise  # a bad setting, or a streamed batch that breaks the data's own checks: every trial would fail
    except Exception as exc:
        if any(getattr(c, "error", None) is exc for c in callbacks):
            raise  # recording the epoch failed (say, the study database): the loop must see it as it is
        raise TrialFailed(f"trial {spec.number}: training failed: {type(exc).__name__}: {brief(exc)}") from exc
    return TrainResult(curve=curve, val_loss=val["loss"], val_accuracy=val.get("accuracy", math.nan),
                       test_loss=test["loss"], test_accuracy=test.get("accuracy", math.nan),
                       train_seconds=seconds, epochs_run=curve.n_epochs, model_path=spec.model_path,
                       log_dir=spec.log_dir, params_count=int(model.count_params()),
                       ignored_changes=ignored, ignored_features=ignored_by_feature, stopped=stopped,
                       val_metrics=val, test_metrics=test, own_loss=rule.symtuners_loss)


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


def compile_model(model: Any, params: Mapping[str, Any], n_classes: int = 10,
                  metrics: tuple[str, ...] = ()) -> None:
    """Compile ``model`` the way symtuner trains: the loss and metrics the diagnosis reads.

    A classifier (``n_classes`` >= 2): sparse categorical cross-entropy on
    the network's probabilities, accuracy, and the cross-entropy alone as
    :data:`DATA_LOSS` (Keras's ``loss`` adds the L2 penalty). A regression
    (``n_classes == 0``): mean squared error, the mean absolute error as
    ``mae``, and the squared error alone as :data:`DATA_LOSS`. ``metrics``
    adds extra ones (:func:`symtuner.core.metrics.extra_metrics`). The
    optimizer is a fresh one from the ``optimizer`` and ``learning_rate`` HPs.
    """
    import keras

    from symtuner.core.metrics import extra_metrics

    extra = extra_metrics(metrics, n_classes)
    if n_classes == 0:
        names = {getattr(m, "name", "") for m in extra}
        base = [] if "mae" in names else [keras.metrics.MeanAbsoluteError(name="mae")]
        model.compile(optimizer=make_optimizer(params), loss="mean_squared_error",
                      metrics=[*base, *extra, keras.metrics.MeanSquaredError(name=DATA_LOSS)])
        return
    model.compile(optimizer=make_optimizer(params), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", *extra, keras.metrics.SparseCategoricalCrossentropy(name=DATA_LOSS)])


def _compile_as_given(model: Any, params: Mapping[str, Any], given: dict[str, Any],
                      metrics: tuple[str, ...], n_classes: int) -> None:
    """Compile ``model`` with the user's compile config, the tuned optimizer, and the data-loss metric."""
    from keras.saving import deserialize_keras_object

    from symtuner.core.metrics import extra_metrics
    from symtuner.training.keras_metrics import LossMetric

    config = dict(deserialize_keras_object(given))  # fresh objects: no state shared between trials
    loss = config.get("loss")
    if loss is None or isinstance(loss, (dict, list, tuple)):
        raise ConfigError(f"the network function compiled its model with loss {loss!r}; symtuner trains a "
                          "compiled model only with one loss for its one output")
    user_metrics = list(config.get("metrics") or [])
    config["metrics"] = [*user_metrics, *extra_metrics(metrics, n_classes), LossMetric(loss, name=DATA_LOSS)]
    config["optimizer"] = _tuned_optimizer(config.get("optimizer"), params)
    model.compile(**config)


def _classes_of(model: Any) -> int:
    """The output width of a user's classifier (extra metrics need the class count)."""
    width = model.outputs[0].shape[-1] if getattr(model, "outputs", None) else None
    return int(width) if width else 0


def _tuned_optimizer(given: Any, params: Mapping[str, Any]) -> Any:
    """The user's optimizer with the space's ``optimizer`` type and ``learning_rate`` where tuned."""
    import keras

    if "optimizer" not in params and "learning_rate" not in params:
        return given if given is not None else make_optimizer(params)
    user = keras.optimizers.get(given) if given is not None else None
    if "optimizer" in params or user is None:
        rate = params.get("learning_rate")
        if rate is None and user is not None:
            rate = float(keras.ops.convert_to_numpy(user.learning_rate))
        return make_optimizer({**params, "learning_rate": rate if rate is not None
                               else TRAINING_DEFAULTS["learning_rate"]})
    config = user.get_config()
    make_optimizer({"optimizer": "adam", "learning_rate": params["learning_rate"]})  # checks the value
    config["learning_rate"] = float(_plain(params["learning_rate"]))
    return type(user).from_config(config)


def save_model(model: Any, path: Path, params: Mapping[str, Any], rule: CompileRule | None = None) -> None:
    """Save a trained model to ``path`` (a ``.keras`` file) without its optimizer's state.

    Adam-like optimizers keep two values per weight, so with their state a
    file is three times the weights, and nothing symtuner does with a saved
    model (predict, evaluate, inspect, export) needs it. Keras 3's
    ``.keras`` format saves the state of the optimizer the model holds
    (``include_optimizer`` applies to HDF5 files only), so the model is
    compiled again first, as it trained (``rule``; symtuner's classifier
    compile when None), with a fresh optimizer that has no state yet: the
    file keeps the compile settings and the weights. It loads with
    ``keras.saving.load_model(path)`` (Keras says that no optimizer state
    was saved) or :func:`symtuner.storage.models.load_model`. The model's metrics
    are reset by the new compile: save after evaluating.
    """
    (rule or CompileRule(n_classes=_classes_of(model) or 10)).compile(model, params)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)


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


def _callbacks(spec: TrialSpec, config: TrainingConfig, on_epoch: EpochCallback | None) -> list[Any]:
    import keras

    callbacks: list[Any] = [
        keras.callbacks.EarlyStopping(monitor=f"val_{DATA_LOSS}", mode="min", patience=config.patience,
                                      restore_best_weights=True),
        keras.callbacks.TerminateOnNaN(),
    ]
    if config.tensorboard:  # epoch scalars and the trial's HParams, under every backend
        from symtuner.training.tblog import tensorboard_callbacks

        callbacks += tensorboard_callbacks(spec.log_dir, spec.params, spec.architecture.features())
    callbacks += user_callbacks(config.callbacks)
    if on_epoch is not None:
        callbacks.append(_epoch_hook(on_epoch))
    return callbacks


def user_callbacks(given: Any) -> list[Any]:
    """The user's Keras callbacks for one trial, checked (see ``TrainingConfig.callbacks``).

    They run after symtuner's own (early stopping on the validation loss,
    TerminateOnNaN, TensorBoard) and before the hook that records each epoch,
    so the logs they add to are recorded. A callback that stops the training
    leaves a shorter curve, which is diagnosed as it is.
    """
    import keras

    if given is None:
        return []
    if isinstance(given, str):
        from symtuner.core.plugins import load_callable

        given = load_callable(given, "callbacks function")
    what = "the callbacks"
    if callable(given) and not isinstance(given, keras.callbacks.Callback):
        what = f"the callbacks function {getattr(given, '__qualname__', given)!r}"
        given = given()
    items = [given] if isinstance(given, keras.callbacks.Callback) else given
    if not isinstance(items, (list, tuple)):
        raise ConfigError(f"{what} must give a list of keras.callbacks.Callback objects, got {items!r:.80}")
    for item in items:
        if not isinstance(item, keras.callbacks.Callback):
            raise ConfigError(f"{what} gave {item!r:.80} ({type(item).__name__}), which is not a "
                              "keras.callbacks.Callback")
    return list(items)


def _epoch_hook_class() -> Any:
    import keras

    class EpochHook(keras.callbacks.Callback):
        """Passes every epoch's logs on; stops the training when the receiver gives a reason."""

        def __init__(self, on_epoch: EpochCallback) -> None:
            super().__init__()
            self.on_epoch = on_epoch
            self.stopped = ""
            self.error: Exception | None = None

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            try:
                reason = self.on_epoch(int(epoch), data_losses({k: float(v) for k, v in (logs or {}).items()}))
            except Exception as exc:  # the receiver's own failure (the store): not the trial's
                self.error = exc
                raise
            if reason:
                self.stopped = str(reason)
                self.model.stop_training = True

    return EpochHook


def _epoch_hook(on_epoch: EpochCallback) -> Any:
    """The Keras callback that feeds ``on_epoch`` (its class is built on first use: Keras loads lazily)."""
    return _epoch_hook_class()(on_epoch)


def data_losses(logs: dict[str, Any]) -> dict[str, Any]:
    """Keras logs or history with ``loss``/``val_loss`` replaced by the data loss.

    The penalised losses stay available as ``penalised_loss`` and
    ``val_penalised_loss``; logs without the data-loss metric are returned
    unchanged.
    """
    out = dict(logs)
    for prefix in ("", "val_"):
        if prefix + DATA_LOSS in out:
            if prefix + "loss" in out:
                out[prefix + "penalised_loss"] = out[prefix + "loss"]
            out[prefix + "loss"] = out.pop(prefix + DATA_LOSS)
    return out


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds."""
    return value.item() if isinstance(value, np.generic) else value
