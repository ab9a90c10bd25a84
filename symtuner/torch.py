"""``from symtuner.torch import mlp, optimizer`` (see :mod:`symtuner.integrations.torch`; needs ``torch``)."""

from symtuner.integrations.torch import OPTIMIZERS, mlp, optimizer

__all__ = ["OPTIMIZERS", "mlp", "optimizer"]
