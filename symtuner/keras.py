"""``from symtuner.keras import DiagnosisCallback``: the diagnosis for any ``model.fit``
(implemented in :mod:`symtuner.integrations.keras`)."""

from symtuner.integrations.keras import DiagnosisCallback

__all__ = ["DiagnosisCallback"]
