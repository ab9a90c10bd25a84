"""The tuning actions by rule name, and the calls the tuning loop makes.

The built-in actions (paper Table 2) are registered here; :func:`register_action`
adds one of one's own together with the ProbLog rule that chooses it, which every
rule base loaded afterwards holds (``symtuner.symbolic.rules.register_rules``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType

from symtuner.core.architecture import Architecture
from symtuner.core.errors import ConfigError, RulesError
from symtuner.core.registry import Registry, check_callable
from symtuner.core.space import SearchSpace
from symtuner.tuning.actions.base import ActionContext, ActionFn, NotApplicable
from symtuner.tuning.actions.bounds import decr_lr, inc_batch_size, inc_dropout, inc_lr, inc_neurons
from symtuner.tuning.actions.choices import drop_activation, drop_optimizer
from symtuner.tuning.actions.layers import batch_norm, data_augmentation, new_conv_layer, new_fc_layer, reg_l2
from symtuner.tuning.actions.relax import decr_batch_size, decr_dropout, decr_l2
from symtuner.tuning.actions.shrink import decr_neurons, remove_conv_layer, remove_fc_layer

#: Every action, keyed by the name the tuning rules use (a ProbLog atom).
ACTIONS_REGISTRY: Registry[ActionFn] = Registry("tuning action", pattern=r"[a-z][A-Za-z0-9_]*",
                                                check=check_callable("tuning action"))
for _action in (reg_l2, batch_norm, inc_dropout, data_augmentation, decr_lr, inc_lr, inc_neurons, inc_batch_size,
                new_fc_layer, new_conv_layer, drop_optimizer, decr_neurons, remove_fc_layer, remove_conv_layer,
                decr_dropout, decr_l2, decr_batch_size, drop_activation):
    ACTIONS_REGISTRY.register(_action.__name__, _action)

#: The built-in actions' names (paper Table 2, plus drop_optimizer and drop_activation, the shrinking actions of
#: ``rules/resources.pl``: decr_neurons, remove_fc_layer, remove_conv_layer, and the moves past the
#: first range for an underfit network: decr_dropout, decr_l2, decr_batch_size).
BUILTIN_ACTIONS = frozenset(ACTIONS_REGISTRY.names())

#: Every action (paper Table 2 and those registered since), keyed by the name the tuning rules use.
#: Read-only, live view of :data:`ACTIONS_REGISTRY`.
ACTIONS: Mapping[str, ActionFn] = ACTIONS_REGISTRY.as_mapping()

_OPPOSITES: dict[str, tuple[str, ...]] = {
    "inc_lr": ("decr_lr", "drop_optimizer"),
    "decr_lr": ("inc_lr", "drop_optimizer"),
    "drop_optimizer": ("inc_lr", "decr_lr", "drop_activation"),
    "drop_activation": ("drop_optimizer",),
    "inc_neurons": ("decr_neurons",),
    "decr_neurons": ("inc_neurons",),
    "new_fc_layer": ("remove_fc_layer",),
    "remove_fc_layer": ("new_fc_layer",),
    "new_conv_layer": ("remove_conv_layer",),
    "remove_conv_layer": ("new_conv_layer",),
    "inc_dropout": ("decr_dropout",),
    "decr_dropout": ("inc_dropout",),
    "inc_batch_size": ("decr_batch_size",),
    "decr_batch_size": ("inc_batch_size",),
}

#: Actions that undo each other or answer one problem in contradictory ways.
#: When one diagnosis chooses two of them, only the more probable one is
#: applied (neither on a tie): moving the learning-rate range up and down after
#: the same trial would only shake the optimizer, and a rate that must move and
#: an optimizer that failed at a good rate are two readings of one trial. (In a
#: study the evidence makes drop_optimizer and the rate moves exclusive; this
#: settles a diagnosis made without a study, such as ``symtuner diagnose``.)
#: Read-only, live (``register_action(..., opposites=...)`` adds pairs).
OPPOSITES: Mapping[str, tuple[str, ...]] = MappingProxyType(_OPPOSITES)


def register_action(name: str, action: ActionFn, rule: str, *, opposites: Iterable[str] = (),
                    replace: bool = False) -> ActionFn:
    """Add the tuning action ``name`` with the ProbLog ``rule`` text that chooses it.

    ``action`` is ``(space, architecture, context) -> (space, architecture)``
    and raises :class:`NotApplicable` (saying why) when it cannot change
    anything; that is also how the loop asks whether it applies. ``rule``
    holds at least one ``P::action(name, Problem)`` rule, e.g.
    ``"0.7::action(name, overfitting) :- acted_on(overfitting)."``: it joins
    every rule base ``load_rules`` reads from now on, is checked like a shipped
    rule (``RulesError`` naming ``<registered name>`` and the line), and its
    weight is learned like the others. ``opposites`` names registered actions
    that undo this one (both ways round, see :data:`OPPOSITES`).

    Raises ``ConfigError`` for a name that is not a ProbLog atom, a name taken
    (unless ``replace``; built-in actions cannot be replaced), an action that is
    not callable or an unknown opposite. Returns ``action``.
    """
    if isinstance(name, str) and name in BUILTIN_ACTIONS:
        raise ConfigError(f"tuning action {name!r} is built in and cannot be replaced")
    if name in ACTIONS_REGISTRY and not replace:
        raise ConfigError(f"tuning action {name!r} is already registered (pass replace=True to replace it)")
    if isinstance(opposites, str):
        opposites = (opposites,)
    others = tuple(dict.fromkeys(opposites))
    unknown = [other for other in others if other not in ACTIONS_REGISTRY or other == name]
    if unknown:
        raise ConfigError(f"opposites of tuning action {name!r} must be other registered actions, got "
                          f"{unknown} (known: {list(ACTIONS_REGISTRY.names())})")
    if not callable(action):
        raise ConfigError(f"tuning action {name!r} must be registered with a callable, got {action!r:.80}")
    from symtuner.symbolic.rules import register_rules  # ProbLog: loaded only when an action is added

    with ACTIONS_REGISTRY.temporarily():  # checks the name before the rules are registered under it
        ACTIONS_REGISTRY.register(name, action, replace=replace)
    register_rules(name, rule, replace=replace, chooses=name)
    if name in ACTIONS_REGISTRY:
        _forget_opposites(name)
    ACTIONS_REGISTRY.register(name, action, replace=replace)
    if others:
        _OPPOSITES[name] = others
        for other in others:
            _OPPOSITES[other] = tuple(dict.fromkeys((*_OPPOSITES.get(other, ()), name)))
    return action


def unregister_action(name: str) -> ActionFn:
    """Remove an action added with :func:`register_action`, with its rules and opposites; returns it.

    Rule bases loaded before keep the rules: load them again. Built-in actions
    cannot be removed; an unknown name raises ``ConfigError``.
    """
    if isinstance(name, str) and name in BUILTIN_ACTIONS:
        raise ConfigError(f"tuning action {name!r} is built in and cannot be removed")
    from symtuner.symbolic.rules import RULE_EXTENSIONS, unregister_rules

    action = ACTIONS_REGISTRY.unregister(name)
    if name in RULE_EXTENSIONS:
        unregister_rules(name)
    _forget_opposites(name)
    return action


def _forget_opposites(name: str) -> None:
    _OPPOSITES.pop(name, None)
    for other, names in list(_OPPOSITES.items()):
        if name in names:
            kept = tuple(n for n in names if n != name)
            if kept:
                _OPPOSITES[other] = kept
            else:
                del _OPPOSITES[other]


@contextmanager
def actions_restored() -> Iterator[None]:
    """Undo every action (and rules) registered or removed inside the ``with`` block on leaving it."""
    from symtuner.symbolic.rules import RULE_EXTENSIONS

    opposites = dict(_OPPOSITES)
    with ACTIONS_REGISTRY.temporarily(), RULE_EXTENSIONS.temporarily():
        try:
            yield
        finally:
            _OPPOSITES.clear()
            _OPPOSITES.update(opposites)


def require_known(names: Iterable[str]) -> None:
    """Raise RulesError when rules choose actions symtuner cannot apply."""
    unknown = sorted(set(names) - set(ACTIONS))
    if unknown:
        raise RulesError(f"the rules name actions symtuner cannot apply: {unknown} (known: {sorted(ACTIONS)})")


def get_action(name: str) -> ActionFn:
    """The action called ``name``; an unknown name is a ConfigError listing the known ones."""
    if name not in ACTIONS_REGISTRY:
        raise ConfigError(f"unknown tuning action {name!r}; known actions: {sorted(ACTIONS)}")
    return ACTIONS_REGISTRY.get(name)


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
