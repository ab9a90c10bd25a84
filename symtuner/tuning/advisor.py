"""The symbolic step after a trial: learn weights, diagnose, apply actions.

Pure with respect to storage: it takes the study's trials and the current
space and architecture, and returns what the loop must store. This keeps the
loop thin and lets the step be tested without training anything.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from symtuner.core.architecture import Architecture
from symtuner.core.costs import trial_costs
from symtuner.core.records import ActionRecord, Diagnosis, Trial, TuningVersion
from symtuner.core.space import SearchSpace
from symtuner.symbolic.engine import SymbolicEngine, analyse
from symtuner.symbolic.lfi import learn_weights
from symtuner.symbolic.resources import cost_facts
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
from symtuner.tuning.actions.base import plain_value
from symtuner.tuning.actions.bounds import LEARNING_RATE, OPTIMIZER
from symtuner.tuning.actions.relax import trial_facts
from symtuner.tuning.evidence import trial_evidence
from symtuner.tuning.hypotheses import (
    REAPPLY_WEIGHT,
    Judgement,
    ignore_changes,
    judge,
    revert_evidence,
    reverted_pairs,
    unusable_actions,
)
from symtuner.tuning.view import StudyView, best_trial


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


@dataclass(frozen=True)
class AfterTrial:
    """The step after a trial: the verdicts due (and the version a revert restores), and the advice."""

    judgement: Judgement
    advice: Advice


#: A trial diagnosed with one of these did not learn well (its rate is no evidence of a rate that works).
_NOT_LEARNED = frozenset({"underfitting", "low_lr", "high_lr"})


def learned_params(trials: Sequence[Trial], diagnosed: Trial) -> tuple[dict, ...]:
    """Params of the complete trials other than ``diagnosed`` whose diagnosis shows neither
    underfitting nor a learning-rate problem."""
    return tuple(dict(t.params) for t in trials
                 if t.number != diagnosed.number and t.is_complete and t.diagnosis is not None
                 and not _NOT_LEARNED & set(t.diagnosis.problems))


#: The problems that say which way a trial's learning rate must move.
_RATE_PROBLEMS = ("low_lr", "high_lr", "increasing_loss")


def rate_diagnoses(trials: Sequence[Trial], diagnosed: Trial) -> tuple[tuple[Any, float, str], ...]:
    """(optimizer, learning rate, problem) of each learning-rate problem diagnosed on a complete trial
    other than ``diagnosed`` (trials without both HPs are left out)."""
    out = []
    for t in trials:
        if t.number == diagnosed.number or not t.is_complete or t.diagnosis is None:
            continue
        optimizer, rate = plain_value(t.params.get(OPTIMIZER)), plain_value(t.params.get(LEARNING_RATE))
        if optimizer is None or isinstance(rate, bool) or not isinstance(rate, (int, float)):
            continue
        out += [(optimizer, float(rate), p) for p in t.diagnosis.problems if p in _RATE_PROBLEMS]
    return tuple(out)


def previous_costs(trials: Sequence[Trial], trial: Trial) -> dict[str, float] | None:
    """The costs of the latest complete trial before ``trial`` that measured any (None: there is none)."""
    earlier = [t for t in trials if t.number < trial.number and t.is_complete and trial_costs(t)]
    return trial_costs(max(earlier, key=lambda t: t.number)) if earlier else None


class Advisor:
    """Runs the step after a trial with one rule base and one set of action settings.

    ``revert_after`` is the number of trials a change has to prove itself in,
    against the study's noise (see :mod:`symtuner.tuning.hypotheses`); ``conv_room(architecture)`` says
    how many conv blocks the input still has room for.
    """

    def __init__(self, engine: SymbolicEngine, action_settings: ActionSettings, maximize: bool,
                 seed: int, revert_after: int = 3, conv_room: Callable[[Architecture], int] | None = None) -> None:
        self.engine = engine
        self.action_settings = action_settings
        self.maximize = maximize
        self.seed = seed
        self.revert_after = revert_after
        self.conv_room = conv_room or (lambda architecture: 0)

    def after_trial(self, view: StudyView, trial: Trial, ignored_features: Mapping[str, str]) -> AfterTrial:
        """Judge the change under test (or undo the changes the network ignored), then advise.

        ``trial`` is complete and among ``view.trials``; ``ignored_features``
        maps the architecture features its built network does not show to
        what the check found.
        """
        judgement = ignore_changes(view.versions, view.verdicts, ignored_features, trial.number)
        if not judgement.verdicts:
            judgement = judge(view.versions, view.verdicts, view.trials, self.maximize, self.revert_after,
                              trial.number, view.actions, view.task)
        verdicts = {**view.verdicts, **{v.version: v for v in judgement.verdicts}}
        now = judgement.restore or view.latest
        return AfterTrial(judgement, self.advise(replace(view, verdicts=verdicts), trial, now))

    def advise(self, view: StudyView, trial: Trial, now: TuningVersion) -> Advice:
        """Diagnose ``trial`` (complete, and among ``view.trials``) and apply the chosen actions to
        the space and architecture of ``now``.

        The task's size (``view.task``) lets the actions respect the
        training's length (see ``ActionContext``). At most one change of the
        architecture is applied after a trial, so that the next trials judge
        each change on its own. Reverted changes count against their rules in
        the rule learning, and a reverted (action, problem) pair is not applied
        again while its learned weight is below ``REAPPLY_WEIGHT``; an action
        whose change the network ignored is never applied again.
        """
        if trial.curve is None:
            raise ValueError(f"trial {trial.number} has no learning curve to diagnose")
        space, arch, task = now.space, now.architecture, view.task
        evidence = trial_evidence(view.trials, self.maximize, task, view.versions, view.verdicts) \
            + revert_evidence(view.verdicts, view.versions, view.actions)
        weights = learn_weights(self.engine.rules.initial_weights, evidence)
        blocked = {pair: f"reverted after trial {after}; learned weight {weights.get(pair, 0.0):.2f} < "
                         f"{REAPPLY_WEIGHT}"
                   for pair, after in reverted_pairs(view.verdicts, view.versions, view.actions).items()
                   if weights.get(pair, 0.0) < REAPPLY_WEIGHT}
        best = best_trial(view.trials, self.maximize)
        costs = trial_costs(trial)
        ctx = ActionContext(best_params=dict(best.params) if best else None, conv_room=self.conv_room(arch),
                            settings=self.action_settings, trial_params=dict(trial.params),
                            n_train=task.n_train, epochs=task.epochs, image_input=task.image_input,
                            best_problems=best.diagnosis.problems if best and best.diagnosis else (),
                            unusable=unusable_actions(view.verdicts, view.versions, view.actions),
                            learned=learned_params(view.trials, trial),
                            rate_diagnoses=rate_diagnoses(view.trials, trial),
                            cost_ratios={name: costs[name] / limit for name, limit in task.limits.items()
                                         if name in costs})
        diagnosis = analyse(trial.curve, task.n_classes, weights, self.engine,
                            lambda name, problem: is_applicable(name, space, arch, replace(ctx, problem=problem)),
                            random.Random(self.seed * 1_000_003 + trial.number), opposites=OPPOSITES,
                            reason_of=lambda name, problem: why_not(name, space, arch, replace(ctx, problem=problem)),
                            blocked=blocked, loss_scale=task.loss_scale,
                            extra_facts=cost_facts(costs, task.limits, previous_costs(view.trials, trial))
                            | trial_facts(space, arch, trial.params, task.n_train, task.epochs))
        return self._apply(diagnosis, weights, trial, space, arch, ctx)

    @staticmethod
    def _apply(diagnosis: Diagnosis, weights: dict[tuple[str, str], float], trial: Trial, space: SearchSpace,
               arch: Architecture, ctx: ActionContext) -> Advice:
        """Apply the chosen actions in order (at most one architecture change) and record each."""
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
