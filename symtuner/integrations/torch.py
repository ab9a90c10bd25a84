"""PyTorch helpers for define-by-run objectives: apply ``trial.architecture`` to a network and an optimizer.

Only what saves real work: a multi-layer perceptron that honours the
architecture changes the rules decide (extra dense layers, batch
normalisation) and an optimizer with the L2 factor of ``reg_l2`` as its
weight decay. Reading them through these helpers tells the study the
changes are honoured.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import nn

from symtuner.core.errors import ConfigError

#: Optimizer names (case-insensitive) -> torch.optim classes.
OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "adamax": torch.optim.Adamax,
              "sgd": torch.optim.SGD, "rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad,
              "adadelta": torch.optim.Adadelta, "nadam": torch.optim.NAdam}


def mlp(in_features: int, hidden: Sequence[int], n_outputs: int, architecture: Any, dropout: float = 0.0,
        activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """Dense layers of ``hidden`` units, then the extra dense layers ``architecture`` adds, each followed by
    batch normalisation when ``architecture.batch_norm``, the activation and ``dropout``; then the output
    layer (logits)."""
    widths = [*hidden, *architecture.extra_dense_layers]
    norm = architecture.batch_norm
    layers: list[nn.Module] = []
    previous = in_features
    for width in widths:
        layers.append(nn.Linear(previous, int(width)))
        if norm:
            layers.append(nn.BatchNorm1d(int(width)))
        layers.append(activation())
        if dropout:
            layers.append(nn.Dropout(float(dropout)))
        previous = int(width)
    layers.append(nn.Linear(previous, n_outputs))
    return nn.Sequential(*layers)


def optimizer(parameters: Iterable[Any], name: str, learning_rate: float, architecture: Any,
              **options: Any) -> torch.optim.Optimizer:
    """``torch.optim`` optimizer ``name`` at ``learning_rate``, with ``architecture.l2`` (when the rules
    turned L2 on) as its weight decay."""
    cls = OPTIMIZERS.get(str(name).lower())
    if cls is None:
        raise ConfigError(f"unknown optimizer {name!r}; choose one of {sorted(OPTIMIZERS)}")
    l2 = architecture.l2
    return cls(parameters, lr=float(learning_rate), weight_decay=float(l2 or 0.0), **options)
