"""A short, human explanation of a diagnosis: which facts led to which problem,
which problem explains which, and which actions were chosen.

Nothing here decides anything: the rules derive a ``reason(Problem, Why)``
term for each problem, with the numbers they compared, and this module only
formats those terms (``TEMPLATES`` names a phrase per term; any other term,
such as one of a user's rules, is shown as written). A problem derived by a
rule with no ``reason/2`` clause is reported as found "by a user rule", with
the values of the facts and thresholds that rule reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from symtuner.core.records import ChosenAction
from symtuner.symbolic.resources import COST_REASONS, cost_reason_text

Facts = Mapping[str, float]
Thresholds = Mapping[str, float]

#: Phrase per (term functor, arity) of the shipped reasons and notes. Each
#: argument is formatted by its code: "n" a number, "%" a share, "a" an atom, "r" a reason.
TEMPLATES: dict[tuple[str, int], tuple[str, str]] = {
    ("gap", 3): ("train-validation {0} gap {1} > {2} at the end of the run", "ann"),
    ("val_turn", 3): ("val loss rose from its minimum {0} to {1} over the last {2} epochs while the "
                      "train loss kept falling", "nnn"),
    ("poor_fit", 3): ("train accuracy {0} and val accuracy {1} at the end, both below {2}", "nnn"),
    ("poor_fit", 2): ("train accuracy {0} at the end, below {1}", "nn"),
    ("stuck", 2): ("stuck: after the first epoch the accuracy moved {0} and the loss {1}", "nn"),
    ("loss_level", 2): ("train loss ended at {0} > {1} and stopped falling", "nn"),
    ("diverged", 1): ("the loss became NaN or infinite at epoch {0}", "n"),
    ("rebound", 2): ("smoothed train loss ended {0} above its minimum (> {1})", "nn"),
    ("dead", 3): ("train loss went from {0} to {1} and then froze (chance level {2}): dead units", "nnn"),
    ("rising", 2): ("smoothed train loss rose on {0} of {1} steps", "nn"),
    ("zigzag", 3): ("train loss changed direction {0} times, rising by {1} of its level on average "
                    "(> {2})", "n%%"),
    ("straight_fall", 2): ("train loss fell at every epoch, in a nearly straight line, and is still "
                           "{0} > {1}", "nn"),
    ("no_move", 3): ("train loss stayed within {0}..{1}, at chance level {2}", "nnn"),
    ("exploded", 2): ("train loss reached {0} after the first epoch (> {1})", "nn"),
    ("blown_then_stuck", 3): ("first-epoch loss {0} blew up, then the loss sat at {1} (chance level {2})",
                              "nnn"),
    ("blown_first", 2): ("the first epoch's train loss {0} is more than twice every later one (at most {1}): "
                         "a blow-up, after which the network fits poorly", "nn"),
    ("zigzag_steps", 1): ("the epoch-mean train loss went back up {0} times: the steps go too far", "n"),
    ("climbs_back", 1): ("the train loss climbed back {0} above its minimum: the steps go too far", "n"),
    ("val_spike", 2): ("val loss spiked above its trend (area {0} vs {1} under its straight line)", "nn"),
    ("epochs", 2): ("too short to judge: {0} epochs < {1}", "nn"),
    ("epoch_steps", 2): ("each epoch took {0} optimizer steps (< {1}): a nearly straight fall over so few steps "
                         "says the training was short of steps, not that the learning rate is low", "nn"),
    ("still_learning", 2): ("still learning: its train loss fell in the last epoch by {0} of its mean fall "
                            "per epoch (flat below {1}); more epochs will tell what it lacks", "%%"),
    ("never_learned", 1): ("it never learned ({0}): a network that fits nothing says nothing about its size, "
                           "so it is not grown; what stopped it (rate, optimizer, activation, dropout) comes first", "r"),
    ("loss_at_chance", 2): ("its train loss {0} is still at chance level (above {1})", "nn"),
    ("accuracy_at_chance", 2): ("its train accuracy {0} barely left chance (below {1})", "nn"),
    ("behind", 2): ("even an optimistic projection ({0}) cannot beat the best trial so far ({1})", "nn"),
}


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e6:
        return f"{value:.0f}"
    return f"{value:.2f}" if 0.01 <= abs(value) < 1e4 else f"{value:.3g}"


def _share(value: Any) -> str:
    return f"{value:.0%}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def term_text(term: Any) -> str:
    """A term (plain data: number, atom, or (functor, args)) as ProbLog would write it."""
    if isinstance(term, tuple):
        functor, args = term
        return f"{functor}({', '.join(term_text(a) for a in args)})"
    return _number(term)


def format_reason(term: Any) -> str:
    """The phrase for one reason or note term."""
    if not isinstance(term, tuple):
        return term_text(term)
    functor, args = term
    if (functor, len(args)) in COST_REASONS:
        return cost_reason_text(term)
    template = TEMPLATES.get((functor, len(args)))
    if template is None:
        return term_text(term)
    text, codes = template
    formatted = [_share(a) if code == "%" else str(a) if code == "a" else format_reason(a) if code == "r"
                 else _number(a) for a, code in zip(args, codes)]
    return text.format(*formatted)


def _actions_text(actions: Sequence[ChosenAction], others_chosen: bool) -> str:
    if not actions:
        return "no further action" if others_chosen else "no applicable action"
    groups: dict[str, list[str]] = {}
    for action in actions:
        groups.setdefault(f"{action.probability:.2f}", []).append(action.name)
    return ", ".join(f"{' + '.join(names)} (p {p})" for p, names in groups.items())


def _user_rule(facts: Facts, thresholds: Thresholds,
               inputs: tuple[Sequence[str], Sequence[str]] | None) -> str:
    read_facts, read_thresholds = inputs or ((), ())
    values = [f"{name} {_value(facts[name])}" for name in read_facts if name in facts]
    values += [f"threshold {name} {_value(thresholds[name])}" for name in read_thresholds if name in thresholds]
    return "by a user rule" + (f" reading {', '.join(values)}" if values else "")


def _value(number: float) -> str:
    return f"{number:.0f}" if float(number).is_integer() else f"{number:.4g}"


#: How an explanation starts when a note of the rules withholds the verdict.
NOT_JUDGED = "not judged"


def _healthy(facts: Facts, notes: Sequence[str], withheld: bool) -> str:
    if facts.get("has_val", 1.0) > 0.5:
        level = f"val loss {facts.get('last_val_loss', 0.0):.2f}"
        if facts.get("has_val_accuracy", 1.0) > 0.5:
            level = f"val accuracy {facts.get('last_val_accuracy', 0.0):.2f}, " + level
    else:
        level = f"train loss {facts.get('last_loss', 0.0):.2f}"
    if withheld:  # a note of the rules withholds the verdict: not judged is not healthy
        return f"{NOT_JUDGED}: {'; '.join(notes)} ({level})"
    if notes:
        return f"no problem found ({'; '.join(notes)}; {level})"
    return f"no problem found ({level})"


def explain(facts: Facts, problems: Sequence[str], actions: Sequence[ChosenAction],
            reasons: Mapping[str, Sequence[str]], causes: Mapping[str, str] | None = None,
            deferred: Mapping[str, str] | None = None, notes: Sequence[str] = (),
            thresholds: Thresholds | None = None,
            inputs: Mapping[str, tuple[Sequence[str], Sequence[str]]] | None = None, *,
            withheld: bool = False, waits: Mapping[str, Sequence[str]] | None = None) -> str:
    """One part per problem, ``reasons -> problem -> actions``, joined by "; ".

    ``reasons`` holds each problem's formatted reasons; ``causes`` and
    ``deferred`` (symptom -> cause, set aside -> acted on first) say why a
    problem has no action of its own; ``notes`` are formatted remarks (shown
    after the problems, or alone), and ``withheld`` says they withhold the verdict (a curve too short to judge
    reads "not judged", not "no problem found"). ``waits`` gives, per
    problem, why the tuning rules do not act on it yet (shown where no
    action was chosen for it). ``inputs`` (``RuleBase.problem_inputs``) names
    what each problem's rules read, for problems derived without a reason term.
    """
    if not problems:
        return _healthy(facts, notes, withheld)
    waits = waits or {}
    causes, deferred = causes or {}, deferred or {}
    parts = []
    for problem in problems:
        mine = reasons.get(problem) or ()
        why = " and ".join(mine) if mine else _user_rule(facts, thresholds or {}, (inputs or {}).get(problem))
        if problem in causes:
            parts.append(f"{why} -> {problem}, explained by {causes[problem]}")
        elif problem in deferred:
            parts.append(f"{why} -> {problem}, set aside: {deferred[problem]} comes first")
        else:
            chosen = [a for a in actions if a.problem == problem]
            if not chosen and waits.get(problem):
                parts.append(f"{why} -> {problem} -> no action yet: {' and '.join(waits[problem])}")
            else:
                waiting = f" ({' and '.join(waits[problem])})" if chosen and waits.get(problem) else ""
                parts.append(f"{why} -> {problem} -> {_actions_text(chosen, bool(actions))}{waiting}")
    return "; ".join(parts + [f"note: {note}" for note in notes])
