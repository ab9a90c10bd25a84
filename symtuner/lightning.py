"""``from symtuner.lightning import SymtunerCallback, DiagnosisCallback`` (see
:mod:`symtuner.integrations.lightning`; needs ``lightning``)."""

from symtuner.integrations.lightning import DiagnosisCallback, SymtunerCallback, epoch_metrics

__all__ = ["DiagnosisCallback", "SymtunerCallback", "epoch_metrics"]
