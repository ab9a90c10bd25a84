"""Actions that narrow the choices of a categorical HP.

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

from symtuner.core.architecture import Architecture
from symtuner.core.space import Categorical, SearchSpace
from symtuner.tuning.actions.base import ActionContext, NotApplicable
from symtuner.tuning.actions.bounds import optimizer_evidence

OPTIMIZER = "optimizer"


def drop_optimizer(space: SearchSpace, arch: Architecture,
                   ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """Remove the diagnosed trial's optimizer from the ``optimizer`` choices.

    Applicable only when the evidence of :func:`symtuner.tuning.actions.bounds.optimizer_evidence`
    holds for the problem answered (a trial trained well with another
    optimizer at a rate that contradicts the diagnosis) with an optimizer
    still offered, so at least one choice, a proven one, remains.
    """
    if OPTIMIZER not in space:
        raise NotApplicable(f"drop_optimizer: the search space has no {OPTIMIZER!r} dimension")
    dim = space[OPTIMIZER]
    if not isinstance(dim, Categorical):
        raise NotApplicable(f"drop_optimizer: {OPTIMIZER!r} is not a categorical dimension")
    failed = ctx.trial(OPTIMIZER)
    if failed is None:
        raise NotApplicable("drop_optimizer: no diagnosed trial with an optimizer")
    if failed not in dim.categories:
        raise NotApplicable(f"drop_optimizer: {failed} is no longer among the choices {list(dim.categories)}")
    others = [c for c in dim.categories if c != failed]
    why = optimizer_evidence(ctx, ctx.problem, among=others)
    if not why:
        raise NotApplicable(f"drop_optimizer: nothing shows that {failed}, rather than its learning rate, "
                            f"failed (no trial that trained well with another optimizer still among the "
                            f"choices {others}, at a rate that contradicts the diagnosis)")
    return space.with_categories(OPTIMIZER, others), arch
