"""A short, human explanation of a diagnosis: which facts led to which problem
and which actions were chosen, with their probabilities.

The reasons mirror the shipped rules (rules/diagnosis.pl) and are only
stated when the facts and thresholds bear them out. A problem found by a rule
the shipped set does not have (or whose shipped reasons do not hold, because
a user rule changed it) is reported as found "by a user rule", with the
values of the facts and thresholds that rule reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from symtuner.records import ChosenAction
from symtuner.symbolic.facts import FACT_NAMES

Facts = Mapping[str, float]
Thresholds = Mapping[str, float]


def _f(value: float) -> str:
    return f"{value:.2f}"


def _scaled(facts: Facts, thresholds: Thresholds, name: str) -> float | None:
    if name not in thresholds:
        return None
    return thresholds[name] * facts.get("ln_classes", 1.0)


def _scale_note(facts: Facts, thresholds: Thresholds, name: str) -> str:
    return f"{_f(thresholds[name])} x ln {facts.get('n_classes', 0):.0f}"


def _overfitting(facts: Facts, t: Thresholds) -> list[str]:
    reasons = []
    if "acc_gap" in t and facts["acc_gap"] > t["acc_gap"]:
        reasons.append(f"val accuracy {_f(facts['last_val_accuracy'])} vs train "
                       f"{_f(facts['last_accuracy'])}: gap {_f(facts['acc_gap'])} > {_f(t['acc_gap'])}")
    limit = _scaled(facts, t, "loss_gap")
    if limit is not None and facts["loss_gap"] > limit:
        reasons.append(f"val loss {_f(facts['last_val_loss'])} vs train {_f(facts['last_loss'])}: "
                       f"gap {_f(facts['loss_gap'])} > {_f(limit)} ({_scale_note(facts, t, 'loss_gap')})")
    return reasons


def _underfitting(facts: Facts, t: Thresholds) -> list[str]:
    levelled = t.get("levelled") if facts["n_epochs"] >= 3 else None
    if levelled is not None and facts["last_fall_share"] >= levelled:
        return []
    reasons = []
    if "low_acc" in t:
        low = t["low_acc"]
        if 1 - facts["best_accuracy"] > low and 1 - facts["last_val_accuracy"] > low:
            reasons.append(f"best train accuracy {_f(facts['best_accuracy'])} and val accuracy "
                           f"{_f(facts['last_val_accuracy'])} below {_f(1 - low)}")
    limit = _scaled(facts, t, "high_loss")
    if limit is not None and facts["min_loss"] > limit and facts["last_val_loss"] > limit:
        reasons.append(f"train loss never below {_f(facts['min_loss'])} and val loss "
                       f"{_f(facts['last_val_loss'])}, above {_f(limit)} ({_scale_note(facts, t, 'high_loss')})")
    if reasons and levelled is not None:
        reasons.append(f"the train loss levelled off (last epoch fell {facts['last_fall_share']:.0%} of its "
                       f"mean fall per epoch, < {levelled:.0%})")
    return reasons


def _increasing(facts: Facts, t: Thresholds) -> list[str]:
    if facts["diverged"] > 0.5:
        return ["the loss became NaN or infinite"]
    reasons = []
    rebound = facts["smoothed_rebound"]
    limit = _scaled(facts, t, "loss_rebound")
    if limit is not None and rebound > limit:
        reasons.append(f"smoothed train loss ended {_f(rebound)} above its minimum (> {_f(limit)})")
    small = _scaled(facts, t, "loss_rise")
    up, down = facts["smoothed_rising_steps"], facts["smoothed_falling_steps"]
    if not reasons and small is not None and up > down and rebound > small:
        reasons.append(f"smoothed train loss rose on {up:.0f} of {facts['n_epochs'] - 1:.0f} steps")
    return reasons


def _fluctuating(facts: Facts, t: Thresholds) -> list[str]:
    if "fluct_turns" in t and "fluct_rise" in t and facts["turns"] >= t["fluct_turns"] \
            and facts["mean_rise"] > t["fluct_rise"]:
        return [f"train loss changed direction {facts['turns']:.0f} times and rose on "
                f"{facts['rising_steps']:.0f} of {facts['n_epochs'] - 1:.0f} steps, by {facts['mean_rise']:.0%} "
                f"of its level on average (> {t['fluct_rise']:.0%})"]
    return []


def _still(facts: Facts, t: Thresholds) -> bool:
    """The train loss never moved: it stayed within still_move x ln(n_classes)."""
    move = _scaled(facts, t, "still_move")
    return move is not None and facts["max_loss"] - facts["min_loss"] < move


def _low_lr(facts: Facts, t: Thresholds) -> list[str]:
    stall = _scaled(facts, t, "stall_loss")
    if stall is not None and facts["last_loss"] > stall and facts["n_epochs"] >= 3 and _still(facts, t):
        return [f"train loss did not move ({_f(facts['min_loss'])}..{_f(facts['max_loss'])}) from chance "
                f"level {_f(facts['ln_classes'])}"]
    limit = _scaled(facts, t, "low_lr_loss")
    if limit is None or "low_lr_shape" not in t or facts["last_loss"] <= limit:
        return []
    if facts["n_epochs"] < t.get("low_lr_epochs", 3):
        return []
    if facts["falling_steps"] < facts["n_epochs"] - 1:
        return []
    return [f"train loss fell at every epoch, in a nearly straight line, and is still "
            f"{_f(facts['last_loss'])} > {_f(limit)} ({_scale_note(facts, t, 'low_lr_loss')})"]


def _high_lr(facts: Facts, t: Thresholds) -> list[str]:
    if facts["diverged"] > 0.5:
        return ["training diverged (NaN or infinite loss)"]
    reasons = []
    explode = _scaled(facts, t, "explode_loss")
    if explode is not None and facts["max_loss"] > explode:
        reasons.append(f"train loss reached {_f(facts['max_loss'])} > {_f(explode)} "
                       f"({_scale_note(facts, t, 'explode_loss')})")
    stall = _scaled(facts, t, "stall_loss")
    if stall is not None and facts["last_loss"] > stall and facts["falling_steps"] < facts["n_epochs"] - 1 \
            and facts["n_epochs"] >= 3 and not _still(facts, t):
        reasons.append(f"train loss stuck at {_f(facts['last_loss'])}, near chance level "
                       f"{_f(facts['ln_classes'])}")
    area, line = facts["val_loss_area"], facts["val_loss_line_area"]
    if "high_lr_area" in t and area - line > t["high_lr_area"] * line:
        reasons.append(f"val loss spiked above its trend (area {_f(area)} vs {_f(line)} under the line)")
    return reasons


REASONS: dict[str, Callable[[Facts, Thresholds], list[str]]] = {
    "overfitting": _overfitting,
    "underfitting": _underfitting,
    "increasing_loss": _increasing,
    "fluctuating_loss": _fluctuating,
    "low_lr": _low_lr,
    "high_lr": _high_lr,
}


def _actions_text(actions: Sequence[ChosenAction], others_chosen: bool) -> str:
    if not actions:
        return "no further action" if others_chosen else "no applicable action"
    groups: dict[str, list[str]] = {}
    for action in actions:
        groups.setdefault(_f(action.probability), []).append(action.name)
    return ", ".join(f"{' + '.join(names)} (p {p})" for p, names in groups.items())


def _user_rule(facts: Facts, t: Thresholds, inputs: tuple[Sequence[str], Sequence[str]] | None) -> str:
    read_facts, read_thresholds = inputs or ((), ())
    values = [f"{name} {_value(facts[name])}" for name in read_facts if name in facts]
    values += [f"threshold {name} {_value(t[name])}" for name in read_thresholds if name in t]
    return "by a user rule" + (f" reading {', '.join(values)}" if values else "")


def _value(number: float) -> str:
    return f"{number:.0f}" if float(number).is_integer() else f"{number:.4g}"


def explain(facts: Facts, problems: Sequence[str], actions: Sequence[ChosenAction],
            thresholds: Thresholds,
            inputs: Mapping[str, tuple[Sequence[str], Sequence[str]]] | None = None) -> str:
    """One line per problem: ``reasons -> problem -> actions (p ...)``; joined by "; ".

    ``inputs`` (``RuleBase.problem_inputs``) names what each problem's rules
    read, for the explanation of problems found by user rules.
    """
    if not problems:
        return (f"no problem found (val accuracy {_f(facts.get('last_val_accuracy', 0.0))}, "
                f"val loss {_f(facts.get('last_val_loss', 0.0))})")
    full = {name: 0.0 for name in FACT_NAMES} | dict(facts)
    parts = []
    for problem in problems:
        reasons_of = REASONS.get(problem)
        reasons = reasons_of(full, thresholds) if reasons_of is not None else []
        why = " and ".join(reasons) if reasons else _user_rule(full, thresholds, (inputs or {}).get(problem))
        mine = [a for a in actions if a.problem == problem]
        parts.append(f"{why} -> {problem} -> {_actions_text(mine, bool(actions))}")
    return "; ".join(parts)
