"""Pick the tuning actions to apply from the ranked candidates of each problem."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence

from symtuner.core.records import ChosenAction

#: Probabilities closer than this are a tie.
TIE = 1e-9


def choose_actions(ranked: Mapping[str, Sequence[tuple[str, float]]],
                   is_applicable: Callable[[str, str], bool],
                   rng: random.Random,
                   always_threshold: float = 0.9,
                   opposites: Mapping[str, str | tuple[str, ...]] | None = None,
                   reason_of: Callable[[str, str], str] | None = None,
                   blocked: Mapping[tuple[str, str], str] | None = None) -> tuple[list[ChosenAction], list[str]]:
    """Per problem (in the order given), the most probable applicable action,
    plus every other applicable action at ``always_threshold`` or above.

    Ties for the most probable are broken with ``rng`` among the tied names in
    sorted order, so a seeded ``rng`` gives the same choice every time. An
    action chosen for an earlier problem is not chosen again. The second list
    names the candidates passed over that would otherwise have been chosen,
    e.g. ``"reg_l2 (not applicable)"``.

    ``opposites`` maps an action to the one (or the tuple of those) that
    undoes it or answers the same problem the other way. If both end up
    chosen, the less probable one is dropped (both on a tie) and named in the
    second list, e.g. ``"inc_lr (opposes decr_lr, more probable)"``.

    ``is_applicable(action, problem)`` says whether an action would change
    something as the answer to that problem; ``reason_of(action, problem)``
    names why it would not, for the second list
    (``"batch_norm (not applicable: ...)"``). ``blocked`` maps (action,
    problem) pairs that must not be chosen to the reason (e.g. a reverted
    change whose rule the evidence no longer favours).
    """
    chosen: list[ChosenAction] = []
    chosen_for: dict[str, str] = {}
    skipped: list[str] = []
    for problem, candidates in ranked.items():
        eligible: list[tuple[str, float]] = []
        passed_over: list[tuple[str, float, str]] = []
        for name, probability in candidates:
            if name in chosen_for:
                passed_over.append((name, probability, f"already chosen for {chosen_for[name]}"))
            elif blocked and (name, problem) in blocked:
                passed_over.append((name, probability, blocked[(name, problem)]))
            elif not is_applicable(name, problem):
                why = reason_of(name, problem) if reason_of is not None else ""
                passed_over.append((name, probability, f"not applicable: {why}" if why else "not applicable"))
            else:
                eligible.append((name, probability))
        picked: set[str] = set()
        if eligible:
            top = max(p for _, p in eligible)
            tied = sorted(name for name, p in eligible if p >= top - TIE)
            picked.add(tied[0] if len(tied) == 1 else rng.choice(tied))
            picked.update(name for name, p in eligible if p >= always_threshold - TIE)
            cutoff = min(top, always_threshold)
        else:
            cutoff = -1.0
        for name, probability in eligible:
            if name in picked:
                chosen.append(ChosenAction(name, problem, float(probability)))
                chosen_for[name] = problem
        skipped.extend(f"{name} ({why})" for name, p, why in passed_over if p >= cutoff - TIE)
    return _drop_opposites(chosen, skipped, opposites or {})


def _drop_opposites(chosen: list[ChosenAction], skipped: list[str],
                    opposites: Mapping[str, str | tuple[str, ...]]) -> tuple[list[ChosenAction], list[str]]:
    by_name = {action.name: action for action in chosen}
    dropped: dict[str, str] = {}
    for action in chosen:
        names = opposites.get(action.name, ())
        for name in (names,) if isinstance(names, str) else names:
            other = by_name.get(name)
            if other is None or action.probability > other.probability + TIE:
                continue
            if abs(action.probability - other.probability) <= TIE:
                dropped[action.name] = f"opposes {other.name}, equally probable"
            else:
                dropped[action.name] = f"opposes {other.name}, more probable"
            break
    kept = [action for action in chosen if action.name not in dropped]
    return kept, skipped + [f"{name} ({why})" for name, why in dropped.items()]
