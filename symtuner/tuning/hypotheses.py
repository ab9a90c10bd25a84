"""Tuning actions as hypotheses that the next trials test.

Every version of the search space and architecture that actions created is a
change under test. Once ``window`` trials have completed after it, or as soon
as one of them beats the best result from before it, it is judged:

- **kept** when a trial run since the change beat the best objective of the
  trials up to and including the one it was made after;
- **reverted** when none of the ``window`` trials did: the space and the
  architecture go back to the version before the change (which also withdraws
  every later change made on top of it), the reverted actions count as
  evidence against their rules in the rule learning, and a reverted
  (action, problem) pair is not applied again while its learned weight is
  below ``REAPPLY_WEIGHT``.

A change the user's network does not honour (the check of the built model
finds no BatchNormalization after ``batch_norm``, say) is **ignored**: undone
like a revert, without evidence against its rule, and its action is not
applied again in the study (:func:`ignore_changes`, :func:`unusable_actions`).

Under hard limits on what a network costs, "beat" follows Deb's order
(:func:`symtuner.core.costs.standing`): a trial within the limits beats every
trial over them, and of two trials over them the one over by less wins; so
a change that brings the networks within the limits is kept.

Changes are judged oldest first, one verdict per trial. Pure: the loop reads
versions, verdicts and trials from the store and stores what this returns, so
a resumed study reaches the same verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from symtuner.core.architecture import FEATURE_ACTIONS
from symtuner.core.costs import standing
from symtuner.core.records import ActionRecord, Trial, TuningVersion, Verdict

#: A reverted pair is applicable again once its learned weight reaches this
#: (the evidence for it at least balances the evidence against it).
REAPPLY_WEIGHT = 0.5

#: Moves of the learning-rate range, and the problem each answers. Each move is
#: bounded (``lr_factor``), so a range far off takes several: while the trials
#: under such a move still show the problem it answered, the move was too
#: small, not wrong, and it is kept rather than reverted.
DIRECTIONAL = {"inc_lr": "low_lr", "decr_lr": "high_lr"}

KEPT, REVERTED, WITHDRAWN = "kept", "reverted", "withdrawn"
#: A change the user's network does not honour: undone like a revert, but no
#: evidence against its rule (the rule was never tested), and its action is
#: not applicable again in the study.
IGNORED = "ignored"
#: Verdicts that restore the version before the change.
RESTORING = (REVERTED, IGNORED)


@dataclass(frozen=True)
class Judgement:
    """What is due after a trial: the verdicts to store and the version to restore (if any)."""

    verdicts: tuple[Verdict, ...]
    restore: TuningVersion | None


def _result(trial: Trial) -> str:
    """A trial's objective as a verdict names it (``0.9123``; ``0.9512, over its limits`` for an infeasible one)."""
    return f"{float(trial.objective):.4f}" + (", over its limits" if trial.infeasible else "")  # type: ignore[arg-type]


def lineage(versions: Sequence[TuningVersion], verdicts: Mapping[int, Verdict]) -> list[TuningVersion]:
    """The versions whose changes are in force now, oldest first (the initial version first).

    A version made by actions builds on the one before it; a version made by a
    revert restores an older one and builds on that one's lineage.
    """
    by_number = {v.version: v for v in versions}
    restored = {verdict.restored_by: verdict.restored_version for verdict in verdicts.values()
                if verdict.verdict in RESTORING and verdict.restored_by is not None}
    chain: list[TuningVersion] = []
    current: int | None = max(by_number) if by_number else None
    while current is not None and current in by_number:
        if current in restored:
            current = restored[current]
            continue
        chain.append(by_number[current])
        earlier = [n for n in by_number if n < current]
        current = max(earlier) if earlier else None
    return list(reversed(chain))


def judge(versions: Sequence[TuningVersion], verdicts: Mapping[int, Verdict], trials: Sequence[Trial],
          maximize: bool, window: int, after_trial: int,
          actions: Sequence[ActionRecord] = ()) -> Judgement:
    """The verdict due after ``after_trial`` on the oldest change still under test, if any.

    ``actions`` (the study's action records) tell which actions made each
    change, for the exception of :data:`DIRECTIONAL` moves.
    """
    if window < 1:
        return Judgement((), None)
    chain = lineage(versions, verdicts)
    pending = [v for v in chain[1:] if v.version not in verdicts and v.after_trial is not None]
    if not pending:
        return Judgement((), None)
    change = pending[0]
    made_after = int(change.after_trial)  # type: ignore[arg-type]
    before = [(t, o) for t in trials if t.number <= made_after and (o := standing(t, maximize)) is not None]
    since = sorted(((t, o) for t in trials if t.number > made_after
                    and (o := standing(t, maximize)) is not None), key=lambda item: item[0].number)
    if not before:
        return Judgement((Verdict(change.version, KEPT, after_trial, "no result before it to beat",
                                  None, None),), None)
    best_trial, best = max(before, key=lambda item: (item[1], -item[0].number))
    for trial, score in since[:window]:
        if score > best:
            reason = (f"trial #{trial.number} ({_result(trial)}) beat #{best_trial.number} ({_result(best_trial)}), "
                      f"the best before it")
            return Judgement((Verdict(change.version, KEPT, after_trial, reason, None, None),), None)
    if len(since) < window:
        return Judgement((), None)
    tried = ", ".join(f"#{t.number}" for t, _ in since[:window])
    persisting = _still_shown(change, actions, [t for t, _ in since[:window]])
    if persisting is not None:
        reason = (f"none of trials {tried} beat #{best_trial.number} ({_result(best_trial)}), but most of them still show "
                  f"{persisting}: the move was too small, not wrong")
        return Judgement((Verdict(change.version, KEPT, after_trial, reason, None, None),), None)
    index = chain.index(change)
    base = chain[index - 1]
    reason = (f"none of trials {tried} beat #{best_trial.number} ({_result(best_trial)}), the best before it; "
              f"back to version {base.version}")
    return _undo(chain, index, verdicts, REVERTED, reason, after_trial)


def ignore_changes(versions: Sequence[TuningVersion], verdicts: Mapping[int, Verdict],
                   ignored: Mapping[str, str], after_trial: int) -> Judgement:
    """Undo the changes a trial's network ignored: ``ignored`` maps architecture features
    (``symtuner.core.architecture.FEATURES``) to what the check of the built model found.

    The oldest version in force that changed one of these features is
    undone (back to the version before it, which drops the HPs it added,
    such as ``l2``), with every later change on top of it withdrawn.
    Nothing to do when no change of those features is in force any more.
    """
    chain = lineage(versions, verdicts)
    for index, change in enumerate(chain[1:], start=1):
        before, after = chain[index - 1].architecture.features(), change.architecture.features()
        features = [f for f in ignored if before.get(f"arch_{f}") != after.get(f"arch_{f}")]
        if not features:
            continue
        base = chain[index - 1]
        reason = (f"the network ignores it ({'; '.join(ignored[f] for f in features)}); back to version "
                  f"{base.version}")
        return _undo(chain, index, verdicts, IGNORED, reason, after_trial)
    return Judgement((), None)


def unusable_actions(verdicts: Mapping[int, Verdict], versions: Sequence[TuningVersion],
                     actions: Sequence[ActionRecord]) -> dict[str, str]:
    """Action name -> why it is not applicable again: its change was ignored by the network."""
    made_after = {v.version: v.after_trial for v in versions}
    out: dict[str, str] = {}
    for verdict in sorted(verdicts.values(), key=lambda v: v.version):
        if verdict.verdict != IGNORED:
            continue
        for action in actions:
            if action.trial == made_after.get(verdict.version) and action.applied \
                    and action.name in FEATURE_ACTIONS.values():
                out.setdefault(action.name, f"the network ignored it after trial {verdict.after_trial}")
    return out


def _undo(chain: Sequence[TuningVersion], index: int, verdicts: Mapping[int, Verdict], verdict: str, reason: str,
          after_trial: int) -> Judgement:
    """Undo ``chain[index]`` (``verdict`` is REVERTED or IGNORED): back to the version before it, with
    every later change in force withdrawn."""
    change, base = chain[index], chain[index - 1]
    out = [Verdict(change.version, verdict, after_trial, reason, base.version, None)]
    out += [Verdict(later.version, WITHDRAWN, after_trial, f"built on version {change.version}, {verdict}",
                    None, None) for later in chain[index + 1:] if later.version not in verdicts]
    return Judgement(tuple(out), base)


def _still_shown(change: TuningVersion, actions: Sequence[ActionRecord], window: Sequence[Trial]) -> str | None:
    """The problem a purely directional change answered, if most trials of its window still show it."""
    made = [a for a in actions if a.trial == change.after_trial and a.applied]
    if not made or any(a.name not in DIRECTIONAL or DIRECTIONAL[a.name] != a.problem for a in made):
        return None
    problems = {a.problem for a in made}
    shown = [t for t in window if t.diagnosis is not None and problems & set(t.diagnosis.problems)]
    return ", ".join(sorted(problems)) if 2 * len(shown) > len(window) else None


def _reverted_actions(verdicts: Mapping[int, Verdict], versions: Sequence[TuningVersion],
                      actions: Sequence[ActionRecord]) -> list[tuple[ActionRecord, Verdict]]:
    """Every applied action of every reverted change, with the verdict that reverted it (oldest first)."""
    made_after = {v.version: v.after_trial for v in versions}
    return [(a, verdict) for verdict in sorted(verdicts.values(), key=lambda v: v.version)
            if verdict.verdict == REVERTED
            for a in actions if a.trial == made_after.get(verdict.version) and a.applied]


def revert_evidence(verdicts: Mapping[int, Verdict], versions: Sequence[TuningVersion],
                    actions: Sequence[ActionRecord]) -> list[tuple[str, str, bool]]:
    """(action, problem, False) for every applied action of every reverted change."""
    return [(a.name, a.problem, False) for a, _ in _reverted_actions(verdicts, versions, actions)]


def reverted_pairs(verdicts: Mapping[int, Verdict], versions: Sequence[TuningVersion],
                   actions: Sequence[ActionRecord]) -> dict[tuple[str, str], int]:
    """(action, problem) of every applied action of a reverted change -> the trial after which it was reverted."""
    return {(a.name, a.problem): verdict.after_trial for a, verdict in _reverted_actions(verdicts, versions, actions)}

UNDER_TEST = "under test"


def change_states(versions: Sequence[TuningVersion], verdicts: Mapping[int, Verdict]) -> dict[int, Verdict | None]:
    """Per trial after which actions changed the space or architecture: its verdict (None: under test)."""
    reverts = {v.restored_by for v in verdicts.values() if v.restored_by is not None}
    return {v.after_trial: verdicts.get(v.version) for v in versions
            if v.after_trial is not None and v.version not in reverts}


def state_word(verdict: Verdict | None) -> str:
    """``kept``, ``reverted``, ``ignored``, ``withdrawn`` or ``under test``."""
    return UNDER_TEST if verdict is None else verdict.verdict


def kept_weight_notes(actions: Sequence[ActionRecord], states: Mapping[int, Verdict | None],
                      weights_now: Mapping[tuple[str, str], float],
                      next_outcomes: Mapping[int, tuple[int, bool]]) -> dict[tuple[int, str, str], str]:
    """Why the rule of an action whose change was kept weighs less now than when it was chosen.

    A verdict and a rule weight read different trials: the change is kept as
    soon as any trial run since it beats the best from before it; the weight
    learns from the trial right after each time the rule was chosen. The two
    disagree, and this says how, keyed by (trial, action, problem).
    """
    notes = {}
    for record in actions:
        verdict = states.get(record.trial)
        now = weights_now.get((record.name, record.problem))
        if not record.applied or verdict is None or verdict.verdict != KEPT or now is None \
                or now >= record.probability - 1e-9:
            continue
        following, improved = next_outcomes.get(record.trial, (None, True))
        why = (f"#{following}, the trial right after it, did not beat the best before it" if not improved
               else "other trials right after the rule was chosen did not beat the best")
        notes[(record.trial, record.name, record.problem)] = (
            f"kept, yet its rule's weight fell {record.probability:.2f} -> {now:.2f}: {why} (a verdict counts "
            "any trial since the change, a rule's weight the trial right after each choice)")
    return notes
