"""How a study's trials run: workers, threads, Ray, resources per trial, retries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from symtuner.core.errors import ConfigError
from symtuner.core.fields import check_known_keys, non_negative_int, positive_int


@dataclass(frozen=True)
class ExecutionSettings:
    """How trials run (not stored with the study: a study may be resumed with other settings).

    ``workers`` trials run at once. With ``ray`` unset and one worker they run
    in this process; with more, or with ``isolate``, each in a fresh spawned
    process of a local pool. ``isolate`` is for long studies of large
    networks: TensorFlow keeps part of what every ``fit`` allocated until its
    process ends (a model and its optimizer state per trial, about 360 MB
    for a 30 M-parameter network trained with Adam, measured in
    ``docs/parallel.md``), which a fresh process per trial gives back.
    ``ray`` is ``"local"`` (a private Ray instance for the study's lifetime),
    ``"auto"`` or ``HOST:PORT`` (an existing cluster). A trial whose worker
    dies is rerun up to ``retries`` times. ``spare_workers``:
    pool workers started ahead of need (None: as many as there are cores
    the running trials leave free, see
    :func:`symtuner.execution.pool.spare_count`).
    """

    workers: int = 1
    threads_per_trial: int | None = None
    ray: str | None = None
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    retries: int = 2
    spare_workers: int | None = None
    #: finished trials are told in the order they were asked and nothing is proposed ahead, so that a
    #: parallel study proposes the same trials whatever the timing (and a resumed one equals the study
    #: never interrupted); a worker whose trial ended before an earlier one waits for it
    reproducible: bool = False
    #: with one worker, run each trial in a fresh worker process all the same (what TensorFlow keeps of a
    #: trial is freed when its process ends)
    isolate: bool = False

    def __post_init__(self) -> None:
        positive_int(self.workers, "workers")
        if self.threads_per_trial is not None:
            positive_int(self.threads_per_trial, "threads_per_trial")
        non_negative_int(self.retries, "retries")
        if self.spare_workers is not None:
            non_negative_int(self.spare_workers, "spare_workers")
        for flag in ("reproducible", "isolate"):
            if not isinstance(getattr(self, flag), bool):
                raise ConfigError(f"{flag} must be true or false, got {getattr(self, flag)!r}")
        for name in ("cpus_per_trial", "gpus_per_trial"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1e6:
                raise ConfigError(f"{name} must be a non-negative number, got {value!r}")
        if self.cpus_per_trial <= 0:
            raise ConfigError(f"cpus_per_trial must be above 0, got {self.cpus_per_trial!r}")
        if self.ray is not None and (not isinstance(self.ray, str) or not self.ray.strip()):
            raise ConfigError(f"ray must be 'local', 'auto' or HOST:PORT, got {self.ray!r}")

    @property
    def in_process(self) -> bool:
        """Whether trials run in this process (one worker, no Ray, not isolated)."""
        return self.workers == 1 and self.ray is None and not self.isolate

    def unused(self, given: Iterable[str]) -> list[str]:
        """Why each of the ``given`` settings does not apply where these settings run trials (none
        for those that do): Ray's resources without Ray, the pool's spares with Ray, the worker
        settings of trials run in this process."""
        why: dict[str, str] = {}
        if self.ray is None:
            why |= dict.fromkeys(("cpus_per_trial", "gpus_per_trial"), "applies to Ray tasks only (ray)")
            if self.workers == 1 and not self.isolate:
                why |= dict.fromkeys(("threads_per_trial", "spare_workers", "retries"),
                                     "applies to worker processes only (workers above 1, isolate, or ray); with "
                                     "one worker trials run in this process")
        else:
            why["spare_workers"] = "applies to the local pool only, not to Ray"
            why["isolate"] = "applies to the local pool only: Ray runs every trial in a worker process"
        if self.workers == 1:
            why["reproducible"] = "applies to parallel trials only (workers above 1): one at a time is reproducible"
        return [f"{name} {why[name]}; it is ignored" for name in given if name in why]

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "[execution]") -> ExecutionSettings:
        check_known_keys(cls, data, f"keys in {where}")
        return cls(**data)
