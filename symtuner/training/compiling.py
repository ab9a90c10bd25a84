"""How trials compile their models: the optimizer and batch-size HPs, symtuner's compile or the user's.

Every loss symtuner records, diagnoses and optimises is the data loss
(:data:`DATA_LOSS`), without the weight penalties Keras adds to ``loss``
(:func:`data_losses`). Keras is imported when a model is compiled, not when
this module is imported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from symtuner.core.errors import ConfigError
from symtuner.data.dataset import Dataset

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


#: The learning rates a trial may train with (a search space reaching outside is refused before a study).
LEARNING_RATES = (1e-10, 10.0)


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
    if not LEARNING_RATES[0] <= rate <= LEARNING_RATES[1]:
        raise ConfigError(f"HP 'learning_rate' must be between {LEARNING_RATES[0]:g} and {LEARNING_RATES[1]:g} "
                          f"(a rate outside does not train), got {rate!r}")
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


def compile_model(model: Any, params: Mapping[str, Any], n_classes: int = 10,
                  metrics: tuple[str, ...] = ()) -> None:
    """Compile ``model`` the way symtuner trains: the loss and metrics the diagnosis reads.

    A classifier (``n_classes`` >= 2): sparse categorical cross-entropy on
    the network's probabilities, accuracy, and the cross-entropy alone as
    :data:`DATA_LOSS` (Keras's ``loss`` adds the L2 penalty). A regression
    (``n_classes == 0``): mean squared error, the mean absolute error as
    ``mae``, and the squared error alone as :data:`DATA_LOSS`. ``metrics``
    adds extra ones (:func:`symtuner.training.keras_metrics.extra_metrics`). The
    optimizer is a fresh one from the ``optimizer`` and ``learning_rate`` HPs.
    """
    import keras

    from symtuner.training.keras_metrics import extra_metrics

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

    from symtuner.training.keras_metrics import LossMetric, extra_metrics

    config = dict(deserialize_keras_object(given))  # fresh objects: no state shared between trials
    loss = config.get("loss")
    if loss is None or isinstance(loss, (dict, list, tuple)):
        raise ConfigError(f"the network function compiled its model with loss {loss!r}; symtuner trains a "
                          "compiled model only with one loss for its one output")
    user_metrics = list(config.get("metrics") or [])
    config["metrics"] = [*user_metrics, *extra_metrics(metrics, n_classes), LossMetric(loss, name=DATA_LOSS)]
    config["optimizer"] = _tuned_optimizer(config.get("optimizer"), params)
    model.compile(**config)


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
