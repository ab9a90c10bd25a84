"""The table of tuning actions by rule name, and the calls the tuning loop makes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from symtuner.core.architecture import Architecture
from symtuner.core.errors import ConfigError, RulesError
from symtuner.core.space import SearchSpace
from symtuner.tuning.actions.base import ActionContext, ActionFn, NotApplicable
from symtuner.tuning.actions.bounds import decr_lr, inc_batch_size, inc_dropout, inc_lr, inc_neurons
from symtuner.tuning.actions.choices import drop_optimizer
from symtuner.tuning.actions.layers import batch_norm, data_augmentation, new_conv_layer, new_fc_layer, reg_l2

#: Every action (paper Table 2), keyed by the name the tuning rules use. Read-only.
ACTIONS: Mapping[str, ActionFn] = MappingProxyType({
    "reg_l2": reg_l2,
    "batch_norm": batch_norm,
    "inc_dropout": inc_dropout,
    "data_augmentation": data_augmentation,
    "decr_lr": decr_lr,
    "inc_lr": inc_lr,
    "inc_neurons": inc_neurons,
    "inc_batch_size": inc_batch_size,
    "new_fc_layer": new_fc_layer,
    "new_conv_layer": new_conv_layer,
    "drop_optimizer": drop_optimizer,
})

#: Actions that undo each other or answer one problem in contradictory ways.
#: When one diagnosis chooses two of them, only the more probable one is
#: applied (neither on a tie): moving the learning-rate range up and down after
#: the same trial would only shake the optimizer, and a rate that must move and
#: an optimizer that failed at a good rate are two readings of one trial. (In a
#: study the evidence makes drop_optimizer and the rate moves exclusive; this
#: settles a diagnosis made without a study, such as ``symtuner diagnose``.)
OPPOSITES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "inc_lr": ("decr_lr", "drop_optimizer"),
    "decr_lr": ("inc_lr", "drop_optimizer"),
    "drop_optimizer": ("inc_lr", "decr_lr"),
})


def require_known(names: Iterable[str]) -> None:
    """Raise RulesError when rules choose actions symtuner cannot apply."""
    unknown = sorted(set(names) - set(ACTIONS))
    if unknown:
        raise RulesError(f"the rules name actions symtuner cannot apply: {unknown} (known: {sorted(ACTIONS)})")


def get_action(name: str) -> ActionFn:
    """The action called ``name``; an unknown name is a ConfigError listing the known ones."""
    action = ACTIONS.get(name) if isinstance(name, str) else None
    if action is None:
        raise ConfigError(f"unknown tuning action {name!r}; known actions: {sorted(ACTIONS)}")
    return action


def apply_action(name: str, space: SearchSpace, arch: Architecture,
                 ctx: ActionContext) -> tuple[SearchSpace, Architecture]:
    """The space and architecture after action ``name``; raises :class:`NotApplicable` with the reason."""
    action = get_action(name)
    if not isinstance(space, SearchSpace):
        raise ConfigError(f"{name}: expected a SearchSpace, got {type(space).__name__}")
    if not isinstance(arch, Architecture):
        raise ConfigError(f"{name}: expected an Architecture, got {type(arch).__name__}")
    if not isinstance(ctx, ActionContext):
        raise ConfigError(f"{name}: expected an ActionContext, got {type(ctx).__name__}")
    if name in ctx.unusable:
        raise NotApplicable(f"{name}: {ctx.unusable[name]}")
    return action(space, arch, ctx)


def is_applicable(name: str, space: SearchSpace, arch: Architecture, ctx: ActionContext) -> bool:
    """Whether action ``name`` would change something now (unknown names raise ConfigError)."""
    return why_not(name, space, arch, ctx) == ""


def why_not(name: str, space: SearchSpace, arch: Architecture, ctx: ActionContext) -> str:
    """Why action ``name`` would change nothing now ("" when it would)."""
    try:
        apply_action(name, space, arch, ctx)
    except NotApplicable as exc:
        return str(exc)
    return ""
