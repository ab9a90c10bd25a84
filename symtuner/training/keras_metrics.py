"""Keras metric classes of symtuner's own, registered so that saved models load.

Imported only where Keras is in use (building a trial's metrics, loading a
saved model); importing it imports Keras.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from symtuner.core.metrics import check_metrics


@keras.saving.register_keras_serializable(package="symtuner")
class SparseAUC(keras.metrics.AUC):  # type: ignore[misc]
    """Keras's ``AUC`` for class-index labels: they are one-hot encoded before each update.

    Keras's ``AUC`` needs labels of the predictions' shape; symtuner's labels
    are class indices. With several classes the AUC is that of the flattened
    one-hot labels against the class probabilities (micro-averaged
    one-vs-rest, as ``AUC(multi_label=False)`` computes it).
    """

    def __init__(self, n_classes: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n_classes = int(n_classes)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        labels = keras.ops.reshape(keras.ops.cast(y_true, "int32"), (-1,))
        return super().update_state(keras.ops.one_hot(labels, self.n_classes), y_pred, sample_weight)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n_classes": self.n_classes}


@keras.saving.register_keras_serializable(package="symtuner")
class LossMetric(keras.metrics.Mean):  # type: ignore[misc]
    """The mean of a loss over the samples, without the layers' weight penalties (symtuner's ``data_loss``).

    Keras's logged ``loss`` adds the L2 penalties to the loss; the diagnosis
    reads this one. ``loss`` is a Keras loss name, function or ``Loss``
    object (its unreduced per-sample values are averaged, so the last,
    smaller batch counts by its samples).
    """

    def __init__(self, loss: Any = "mean_squared_error", name: str = "data_loss", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.loss = keras.losses.get(loss) if isinstance(loss, (str, dict)) else loss

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        per_sample = getattr(self.loss, "call", self.loss)
        return super().update_state(per_sample(y_true, y_pred), sample_weight=sample_weight)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "loss": keras.losses.serialize(self.loss)}


def extra_metrics(names: Sequence[str], n_classes: int) -> list[Any]:
    """Keras metric objects for ``names`` (see :data:`EXTRA_METRICS`), for ``n_classes`` classes
    (0 for a regression)."""
    built: list[Any] = []
    for name in check_metrics(list(names), regression=n_classes == 0):
        if name == "auc":
            built.append(_sparse_auc(n_classes))
        elif name == "top5_accuracy":
            built.append(keras.metrics.SparseTopKCategoricalAccuracy(k=5, name=name))
        elif name == "mae":
            built.append(keras.metrics.MeanAbsoluteError(name=name))
        elif name == "rmse":
            built.append(keras.metrics.RootMeanSquaredError(name=name))
    return built


def _sparse_auc(n_classes: int) -> Any:
    """Keras's AUC on class indices (see :class:`SparseAUC`)."""
    return SparseAUC(n_classes=n_classes, name="auc")
