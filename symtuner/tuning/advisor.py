"""The symbolic step after a trial: learn weights, diagnose, apply actions.

Pure with respect to storage: it takes the study's trials and the current
space and architecture, and returns what the loop must store. This keeps the
loop thin and lets the step be tested without training anything.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from symtuner.core.architecture import Architecture
from symtuner.core.records import ActionRecord, Diagnosis, Trial
from symtuner.core.space import SearchSpace
from symtuner.symbolic.engine import SymbolicEngine, analyse
from symtuner.symbolic.lfi import evidence_from_trials, learn_weights
from symtuner.tuning.actions import (
    OPPOSITES,
    ActionContext,
    ActionSettings,
    NotApplicable,
    apply_action,
    describe_change,
    is_applicable,
    why_not,
)
from symtuner.tuning.hypotheses import REAPPLY_WEIGHT


@dataclass(frozen=True)
class Advice:
    """What the symbolic component decided after one trial."""

    diagnosis: Diagnosis
    weights: dict[tuple[str, str], float]
    space: SearchSpace
    architecture: Architecture
    actions: tuple[ActionRecord, ...]
    changes: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.changes)


#: A trial diagnosed with one of these did not learn well (its rate is no evidence of a rate that works).
_NOT_LEARNED = frozenset({"underfitting", "low_lr", "high_lr"})


def learned_params(trials: Sequence[Trial], diagnosed: Trial) -> tuple[dict, ...]:
    """Params of the complete trials other than ``diagnosed`` whose diagnosis shows neither
    underfitting nor a learning-rate problem."""
    return tuple(dict(t.params) for t in trials
                 if t.number != diagnosed.number and t.is_complete and t.diagnosis is not None
                 and not _NOT_LEARNED & set(t.diagnosis.problems))


def best_trial(trials: Sequence[Trial], maximize: bool) -> Trial | None:
    """The complete trial with the best finite objective (earliest on ties).

    A diverged trial (a NaN or infinite ``val_loss``) is never the best, whatever the direction.
    """
    done = [t for t in trials if t.is_complete and t.objective is not None and math.isfinite(t.objective)]
    if not done:
        return None
    sign = 1.0 if maximize else -1.0
    return max(done, key=lambda t: (sign * float(t.objective), -t.number))  # type: ignore[arg-type]


class Advisor:
    """Runs the symbolic step with one rule base and one set of action settings."""

    def __init__(self, engine: SymbolicEngine, action_settings: ActionSettings, maximize: bool,
                 seed: int) -> None:
        self.engine = engine
        self.action_settings = action_settings
        self.maximize = maximize
        self.seed = seed

    def advise(self, trials: Sequence[Trial], trial: Trial, n_classes: int | None, space: SearchSpace,
               arch: Architecture, conv_room: int, n_train: int | None = None, epochs: int | None = None,
               image_input: bool = True, extra_evidence: Sequence[tuple[str, str, bool]] = (),
               reverted: Mapping[tuple[str, str], int] | None = None,
               unusable: Mapping[str, str] | None = None, loss_scale: float | None = None) -> Advice:
        """Diagnose ``trial`` (already complete, and last in ``trials``).

        ``n_train`` (images per epoch), ``epochs`` and ``image_input`` let the
        actions respect the training's size (see ``ActionContext``). At most
        one change of the architecture is applied after a trial, so that the
        next trials judge each change on its own. ``extra_evidence`` joins the
        rule learning (reverted changes count against their rules);
        ``reverted`` maps (action, problem) pairs of reverted changes to the
        trial after which they were reverted: such a pair is not applied again
        while its learned weight is below ``REAPPLY_WEIGHT``. ``unusable`` maps
        actions to why they cannot work in this study (never applied).
        ``n_classes`` is None for a regression; ``loss_scale`` is the unit of
        the loss thresholds (see :func:`symtuner.symbolic.facts.curve_facts`).
        """
        evidence = evidence_from_trials(trials, maximize=self.maximize) + list(extra_evidence)
        weights = learn_weights(self.engine.rules.initial_weights, evidence)
        blocked = {pair: f"reverted after trial {after}; learned weight {weights.get(pair, 0.0):.2f} < "
                         f"{REAPPLY_WEIGHT}"
                   for pair, after in (reverted or {}).items() if weights.get(pair, 0.0) < REAPPLY_WEIGHT}
        best = best_trial(trials, self.maximize)
        ctx = ActionContext(best_params=dict(best.params) if best else None, conv_room=conv_room,
                            settings=self.action_settings, trial_params=dict(trial.params),
                            n_train=n_train, epochs=epochs, image_input=image_input,
                            best_problems=best.diagnosis.problems if best and best.diagnosis else (),
                            unusable=dict(unusable or {}), learned=learned_params(trials, trial))
        if trial.curve is None:
            raise ValueError(f"trial {trial.number} has no learning curve to diagnose")
        diagnosis = analyse(trial.curve, n_classes, weights, self.engine,
                            lambda name, problem: is_applicable(name, space, arch, replace(ctx, problem=problem)),
                            random.Random(self.seed * 1_000_003 + trial.number), opposites=OPPOSITES,
                            reason_of=lambda name, problem: why_not(name, space, arch, replace(ctx, problem=problem)),
                            blocked=blocked,
                            loss_scale=loss_scale)
        new_space, new_arch = space, arch
        records = []
        arch_changed_by: str | None = None
        for chosen in diagnosis.actions:
            try:
                after_space, after_arch = apply_action(chosen.name, new_space, new_arch,
                                                       replace(ctx, problem=chosen.problem))
                if after_arch != new_arch and arch_changed_by is not None:
                    raise NotApplicable(f"{chosen.name}: one change of the architecture per trial "
                                        f"({arch_changed_by} was applied)")
            except NotApplicable as exc:
                records.append(ActionRecord(trial.number, chosen.name, chosen.problem, chosen.probability,
                                            False, str(exc)))
                continue
            if after_arch != new_arch:
                arch_changed_by = chosen.name
            detail = "; ".join(describe_change(new_space, new_arch, after_space, after_arch)) or "no change"
            records.append(ActionRecord(trial.number, chosen.name, chosen.problem, chosen.probability,
                                        True, detail))
            new_space, new_arch = after_space, after_arch
        changes = tuple(describe_change(space, arch, new_space, new_arch))
        return Advice(diagnosis, weights, new_space, new_arch, tuple(records), changes)
