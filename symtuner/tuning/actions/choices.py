"""Actions that narrow the choices of a categorical HP.

``drop_activation`` answers a network that never learned (its accuracy or
loss levelled at chance) whose cause is its activation: another trial with
the same optimizer, at a learning rate within ``lr_factor`` of the diagnosed
one, learned with another activation, so neither the optimizer nor the rate
is what differs. The failing activation leaves the choices, as a hypothesis
the next trials test like every change.

``drop_optimizer`` answers a learning-rate problem whose cause is the
optimizer, not the rate: the trial's optimizer failed at a rate where another
optimizer trained well. Moving the shared learning-rate range
would only hurt the optimizers that work (``inc_lr`` and ``decr_lr`` are not
applicable then); taking the failing optimizer out of the choices stops the
optimizer of the search from spending more trials on it. Like every change,
it is a hypothesis that the next trials test (``symtuner.tuning.hypotheses``): if
they do not beat the best trial from before it, the optimizer comes back.
"""

from __future__ import annotations

from typing import Any

from symtuner.core.architecture import Architecture
from symtuner.core.space import Categorical, SearchSpace
from symtuner.tuning.actions.base import ActionContext, NotApplicable, plain_value
from symtuner.tuning.actions.bounds import LEARNING_RATE, OPTIMIZER, _positive, optimizer_evidence

ACTIVATION = "activation"


def drop_optimizer(space: SearchSpace, arch: Architecture,
                   ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Remove the diagnosed trial's optimizer from the ``optimizer`` choices.

    Applicable only when the evidence of :func:`symtuner.tuning.actions.bounds.optimizer_evidence`
    holds for the problem answered (a trial trained well with another
    optimizer at a rate that contradicts the diagnosis) with an optimizer
    still offered, so at least one choice, a proven one, remains.
    """
    failed, others = _choices("drop_optimizer", OPTIMIZER, space, ctx)
    why = optimizer_evidence(ctx, ctx.problem, among=others)
    if not why:
        raise NotApplicable(f"drop_optimizer: nothing shows that {failed}, rather than its learning rate, "
                            f"failed (no trial that trained well with another optimizer still among the "
                            f"choices {others}, at a rate that contradicts the diagnosis)")
    return space.with_categories(OPTIMIZER, others), arch


def drop_activation(space: SearchSpace, arch: Architecture,
                    ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Remove the diagnosed trial's activation from the ``activation`` choices.

    Applicable only when :func:`activation_evidence` finds a trial that
    learned with another activation still offered, with the diagnosed
    trial's optimizer at a rate within ``lr_factor`` of its rate, so at least
    one choice, a proven one, remains.
    """
    failed, others = _choices("drop_activation", ACTIVATION, space, ctx)
    why = activation_evidence(ctx, among=others)
    if not why:
        raise NotApplicable(f"drop_activation: nothing shows that {failed}, rather than the optimizer or the rate, "
                            f"failed (no trial that learned with another activation still among the choices "
                            f"{others}, with the same optimizer at a rate within {ctx.settings.lr_factor:g}x)")
    return space.with_categories(ACTIVATION, others), arch


def activation_evidence(ctx: ActionContext, among: list[Any]) -> str:
    """Why the diagnosed trial's activation, not its optimizer or rate, failed ("" when nothing says so).

    Witnesses are the trials that learned (``ctx.learned``) and the best
    trial unless it underfit: one whose activation is among ``among``, whose
    optimizer is the diagnosed trial's (when both have one) and whose
    learning rate is within ``lr_factor`` of the diagnosed trial's (when
    both have one).
    """
    failed, optimizer, rate = ctx.trial(ACTIVATION), ctx.trial(OPTIMIZER), _positive(ctx.trial(LEARNING_RATE))
    factor = ctx.settings.lr_factor
    witnesses = [("a trial", params) for params in ctx.learned]
    if ctx.best_params is not None and "underfitting" not in ctx.best_problems:
        witnesses.insert(0, ("the best trial", ctx.best_params))
    for who, params in witnesses:
        activation = plain_value(params.get(ACTIVATION))
        if activation is None or activation == failed or activation not in among:
            continue
        other_optimizer, other_rate = plain_value(params.get(OPTIMIZER)), _positive(plain_value(params.get(LEARNING_RATE)))
        if optimizer is not None and other_optimizer is not None and other_optimizer != optimizer:
            continue
        if rate is not None and other_rate is not None and not rate / factor <= other_rate <= rate * factor:
            continue
        at = f" with {optimizer}" if optimizer is not None else ""
        at += f" at learning rate {other_rate:.3g}" if other_rate is not None else ""
        return f"{who} learned with {activation}{at}; the diagnosed trial's {failed} failed for its activation"
    return ""


def _choices(action: str, name: str, space: SearchSpace, ctx: ActionContext) -> tuple[Any, list[Any]]:
    """The diagnosed trial's value of the categorical HP ``name`` and the other choices still offered."""
    if name not in space:
        raise NotApplicable(f"{action}: the search space has no {name!r} dimension")
    dim = space[name]
    if not isinstance(dim, Categorical):
        raise NotApplicable(f"{action}: {name!r} is not a categorical dimension")
    failed = ctx.trial(name)
    if failed is None:
        raise NotApplicable(f"{action}: no diagnosed trial with an {name}")
    if failed not in dim.categories:
        raise NotApplicable(f"{action}: {failed} is no longer among the choices {list(dim.categories)}")
    return failed, [c for c in dim.categories if c != failed]
