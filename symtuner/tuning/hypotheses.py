"""Tuning actions as hypotheses that the next trials test.

Every version of the search space and architecture that actions created is a
change under test, judged on the trials run under it against the trials up
to and including the one it was made after ("before it"). A difference
counts only when it is larger than the study's noise (:mod:`symtuner.tuning.noise`:
the binomial standard error of a validation accuracy on ``n`` samples, or the
epoch-to-epoch spread of the objective, ``Z`` = 1 standard error of a
difference), so a verdict proves something:

- **kept** as soon as a trial run since the change beats the best trial
  from before it by more than the noise;
- **reverted** once ``window`` trials have run under it and the best of
  them is below the best from before it by more than the noise: the space
  and the architecture go back to the version before the change (which also
  withdraws every later change made on top of it), the reverted actions
  count as evidence against their rules in the rule learning, and a reverted
  (action, problem) pair is not applied again while its learned weight is
  below ``REAPPLY_WEIGHT``;
- **undecided** once ``window`` trials have run and neither holds: the best
  of them is within the noise of the best from before. The change stays (it
  did no measurable harm), and it is no evidence for or against its rule.

A best from before that sat at chance level (a classification's accuracy
within noise of the majority class's share or of 1 / n_classes, or a
diverged training), or no finite result before at all, is no result to beat:
anything beats it. A change made then is kept only when one of its trials
rises clearly above chance level, and undecided otherwise (never reverted:
nothing measured was lost).

A move of the learning-rate range (:data:`DIRECTIONAL`) whose trials did not
prove a gain but mostly still show the problem it answered is kept: the move
was too small, not wrong.

A change the user's network does not honour (the check of the built model
finds no BatchNormalization after ``batch_norm``, say) is **ignored**: undone
like a revert, without evidence against its rule, and its action is not
applied again in the study (:func:`ignore_changes`, :func:`unusable_actions`).

Under hard limits on what a network costs, "beat" follows Deb's order
(:func:`symtuner.core.costs.standing`): a trial within the limits beats every
trial over them, and of two trials over them the one over by less wins; so
a change that brings the networks within the limits is kept. Costs are
measured, not sampled, so these comparisons need no margin; the noise is
cleared only between two trials within the limits.

A change is judged on its own trials: those that started after it and
drew from a range it made or trained the network it changed. A move of
one optimizer's learning-rate range
(:attr:`symtuner.core.dimensions.Real.ranges`) says nothing through a
trial of another optimizer, which drew from the range it had before, nor
does a parallel study's trial already running when the change was made;
such trials are left out (the reason names them), and the window closes
after ``window`` trials of the change's own or ``WAIT_FACTOR * window``
trials in all, whichever comes first.

Changes are judged oldest first, one verdict per trial. Pure: the loop reads
versions, verdicts and trials from the store (each trial's recorded spread
among them) and stores what this returns, so a resumed study reaches the
same verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from symtuner.core.architecture import FEATURE_ACTIONS
from symtuner.core.costs import standing
from symtuner.core.records import ActionRecord, Trial, TuningVersion, Verdict
from symtuner.tuning.evidence import DIRECTIONAL, WAIT_FACTOR, Outcome, trained_with
from symtuner.tuning.noise import NoiseModel, diverged
from symtuner.tuning.view import TaskFacts

#: A reverted pair is applicable again once its learned weight reaches this
#: (the evidence for it at least balances the evidence against it).
REAPPLY_WEIGHT = 0.5


KEPT, REVERTED, WITHDRAWN = "kept", "reverted", "withdrawn"
#: Neither a gain nor a loss beyond the noise: the change stays, no evidence for or against its rule.
UNDECIDED = "undecided"
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
          actions: Sequence[ActionRecord] = (), task: TaskFacts | None = None) -> Judgement:
    """The verdict due after ``after_trial`` on the oldest change still under test, if any.

    ``actions`` (the study's action records) tell which actions made each
    change, for the exception of :data:`DIRECTIONAL` moves; ``task`` tells
    the objective, the number of validation samples and the chance level
    the noise is measured with (:mod:`symtuner.tuning.noise`; without it
    only the trials' recorded spreads are known).
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
    after = sorted(((t, o) for t in trials if t.number > made_after
                    and (o := standing(t, maximize)) is not None), key=lambda item: item[0].number)
    base = chain[chain.index(change) - 1]
    since, skipped, closed = _window(base, change, after, window)
    noise = NoiseModel.of(task, [t for t, _ in before + since])
    case = _Case(change, chain, verdicts, actions, noise, maximize, closed, after_trial, since, skipped)
    if closed and not since:
        return Judgement((Verdict(change.version, UNDECIDED, after_trial,
                                  f"none of trials {_numbers(skipped)} since it trained with it; "
                                  f"{_STAYS}", None, None),), None)
    if not before:
        return case.from_chance([], None)
    best_trial, best = max(before, key=lambda item: (item[1], -item[0].number))
    if not best_trial.infeasible and noise.at_chance(best_trial):
        everyone = all(noise.at_chance(t) for t, _ in before)
        return case.from_chance([t for t, _ in before] if everyone else [best_trial], (best_trial, best))
    return case.against(best_trial, best)


def _window(base: TuningVersion, change: TuningVersion, after: Sequence[tuple[Trial, tuple[float, float]]],
            window: int) -> tuple[list[tuple[Trial, tuple[float, float]]], list[Trial], bool]:
    """The trials a change is judged on, the trials since it that did not train with it, and whether
    the window is closed (a verdict is due however the comparison goes).

    A trial is the change's when it trained with it
    (:func:`symtuner.tuning.evidence.trained_with`: it drew from a range the
    change made, or the change altered the network): a move of Adam's
    learning rates is judged on Adam's trials, not on Adadelta's, whose
    range it left as it was. The window closes
    after ``window`` such trials, or after ``WAIT_FACTOR * window`` trials
    of any kind (on the change's trials among them, however few).
    """
    mine: list[tuple[Trial, tuple[float, float]]] = []
    skipped: list[Trial] = []
    for index, (trial, score) in enumerate(after):
        if len(mine) >= window or index >= WAIT_FACTOR * window:
            break
        if trained_with(base, change, trial):
            mine.append((trial, score))
        else:
            skipped.append(trial)
    return mine, skipped, len(mine) >= window or len(after) >= WAIT_FACTOR * window


@dataclass(frozen=True)
class _Case:
    """One change under test and the trials run under it (at most ``window``), for :func:`judge`."""

    change: TuningVersion
    chain: Sequence[TuningVersion]
    verdicts: Mapping[int, Verdict]
    actions: Sequence[ActionRecord]
    noise: NoiseModel
    maximize: bool
    #: whether the window is complete: a verdict is due however the comparison goes
    closed: bool
    after_trial: int
    since: Sequence[tuple[Trial, tuple[float, float]]]
    #: trials since the change that did not train with it (not its evidence)
    skipped: Sequence[Trial] = ()

    def verdict(self, word: str, reason: str) -> Judgement:
        return Judgement((Verdict(self.change.version, word, self.after_trial, reason + self.aside(), None,
                                  None),), None)

    def aside(self) -> str:
        """What the reason adds about the trials left out: those started before the change, and those
        that drew from ranges it left alone."""
        early = [t for t in self.skipped if t.tuning_version < self.change.version]
        other = [t for t in self.skipped if t.tuning_version >= self.change.version]
        parts = ([f"{_numbers(early)}, started before it"] if early else []) \
            + ([f"{_numbers(other)}, drawn from ranges it did not change"] if other else [])
        return f" (not counted: {'; '.join(parts)})" if parts else ""

    def gain(self, trial: Trial, than: Trial) -> float:
        """How much better ``trial``'s objective is than ``than``'s (negative: worse)."""
        difference = float(trial.objective) - float(than.objective)  # type: ignore[arg-type]
        return difference if self.maximize else -difference

    def against(self, best_trial: Trial, best: tuple[float, float]) -> Judgement:
        """The trials since the change against the best trial before it (a result worth beating)."""
        for trial, score in self.since:
            if score <= best:
                continue
            if best_trial.infeasible:  # Deb's order: within the limits, or over them by less
                return self.verdict(KEPT, f"trial #{trial.number} ({_result(trial)}) beat #{best_trial.number} "
                                          f"({_result(best_trial)}), the best before it")
            noise = self.noise.between(trial, best_trial)
            gain = self.gain(trial, best_trial)
            if gain > noise.value:
                return self.verdict(KEPT, f"trial #{trial.number} ({_result(trial)}) beat #{best_trial.number} "
                                          f"({_result(best_trial)}), the best before it, by {gain:.4f} > {noise}")
        if not self.closed:
            return Judgement((), None)
        tried = ", ".join(f"#{t.number}" for t, _ in self.since)
        top, top_score = max(self.since, key=lambda item: (item[1], -item[0].number))
        persisting = self.persisting()
        if persisting is not None:
            return self.verdict(KEPT, f"none of trials {tried} beat #{best_trial.number} ({_result(best_trial)}) "
                                      f"clearly, but most of them still show {persisting}: the move was too small, "
                                      "not wrong")
        if top_score > best:
            noise = self.noise.between(top, best_trial)
            return self.verdict(UNDECIDED, f"the best since, #{top.number} ({_result(top)}), against "
                                           f"#{best_trial.number} ({_result(best_trial)}), the best before it: "
                                           f"{self.gain(top, best_trial):+.4f}, within {noise}; {_STAYS}")
        base = self.chain[self.chain.index(self.change) - 1]
        if best_trial.infeasible or top.infeasible:  # Deb's order: over the limits, or over them by more
            if top_score == best:
                return self.verdict(UNDECIDED, f"the best since, #{top.number} ({_result(top)}), is as far over "
                                               f"the limits as #{best_trial.number}, the best before it; {_STAYS}")
            lost = "each of them over the limits" if not best_trial.infeasible else "over them by more"
            return self.revert(f"none of trials {tried} beat #{best_trial.number} ({_result(best_trial)}), the "
                               f"best before it ({lost}); back to version {base.version}")
        noise = self.noise.between(top, best_trial)
        loss = -self.gain(top, best_trial)
        if loss > noise.value:
            return self.revert(f"none of trials {tried} beat #{best_trial.number} ({_result(best_trial)}), the "
                               f"best before it: the best of them, #{top.number} ({_result(top)}), is "
                               f"{loss:.4f} below it, more than {noise}; back to version {base.version}")
        return self.verdict(UNDECIDED, f"the best since, #{top.number} ({_result(top)}), against "
                                       f"#{best_trial.number} ({_result(best_trial)}), the best before it: "
                                       f"{-loss:+.4f}, within {noise}; {_STAYS}")

    def from_chance(self, at_chance: Sequence[Trial], best: tuple[Trial, tuple[float, float]] | None) -> Judgement:
        """No result worth beating before the change (``at_chance``: every trial before it when all of them
        sat at chance level, else the best alone; ``best`` None: no finite result before it): it is kept
        only if one of its trials rises clearly above chance level, and undecided otherwise."""
        noise = self.noise
        if best is None:
            start = "no trial before it has a finite result: no best to beat"
        else:
            sat = _numbers(at_chance) if len(at_chance) > 1 else f"#{best[0].number}, the best before it,"
            lost = [diverged(t) for t in at_chance]
            level = f"sat at chance level ({noise.chance_text()})"
            how = "diverged" if all(lost) else level + (" or diverged" if any(lost) else "")
            start = f"{sat} {how}: no best to beat"
        margin = noise.chance_noise()
        for trial, score in self.since:
            if trial.infeasible or (best is not None and score <= best[1]) or not noise.above_chance(trial):
                continue
            accuracy = float(noise.accuracy(trial))  # type: ignore[arg-type]
            return self.verdict(KEPT, f"{start}; #{trial.number} at {accuracy:.4f} rose clearly above chance "
                                      f"(by {accuracy - float(noise.chance):.4f} > {margin})")  # type: ignore[arg-type]
        if not self.closed:
            return Judgement((), None)
        persisting = self.persisting()
        if persisting is not None:
            return self.verdict(KEPT, f"{start}; most of trials {_numbers([t for t, _ in self.since])} still show "
                                      f"{persisting}: the move was too small, not wrong")
        where = ("none of them rose clearly above chance" if noise.chance is not None
                 else "without a chance level to rise above, nothing they did is evidence")
        return self.verdict(UNDECIDED, f"{start}; trials {_numbers([t for t, _ in self.since])} since it: {where}; "
                                       f"{_STAYS}")

    def persisting(self) -> str | None:
        return _still_shown(self.change, self.actions, [t for t, _ in self.since])

    def revert(self, reason: str) -> Judgement:
        return _undo(self.chain, self.chain.index(self.change), self.verdicts, REVERTED, reason + self.aside(),
                     self.after_trial)


#: What an undecided verdict means, as its reason ends.
_STAYS = "the change stays, no evidence for or against its rule"


def _numbers(trials: Sequence[Trial]) -> str:
    """``#1-#4`` for consecutive trial numbers, ``#2, #5, #6`` otherwise."""
    numbers = sorted(t.number for t in trials)
    if len(numbers) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"#{numbers[0]}-#{numbers[-1]}"
    return ", ".join(f"#{n}" for n in numbers)


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
    """(action, problem, False) for every applied action of every reverted change.

    Only a revert is evidence from a verdict: an undecided change proved
    nothing either way, an ignored one was never tested, and a kept one adds
    nothing to what the first trial to train with each choice already told the rule
    learning (:func:`symtuner.tuning.evidence.trial_evidence`).
    """
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
    """``kept``, ``reverted``, ``undecided``, ``ignored``, ``withdrawn`` or ``under test``."""
    return UNDER_TEST if verdict is None else verdict.verdict


def kept_weight_notes(actions: Sequence[ActionRecord], states: Mapping[int, Verdict | None],
                      weights_now: Mapping[tuple[str, str], float],
                      next_outcomes: Mapping[int, Outcome]) -> dict[tuple[int, str, str], str]:
    """Why the rule of an action whose change was kept weighs less now than when it was chosen.

    A verdict and a rule weight read different trials: the change is kept as
    soon as any trial run since it beats the best from before it by more than
    the noise; the weight learns from the first trial to train with each
    choice of the rule (:mod:`symtuner.tuning.evidence`). The two can disagree,
    and this says how, keyed by (trial, action, problem). Only kept changes
    get a note: an undecided one claims nothing a weight could contradict.
    """
    notes = {}
    for record in actions:
        verdict = states.get(record.trial)
        now = weights_now.get((record.name, record.problem))
        if not record.applied or verdict is None or verdict.verdict != KEPT or now is None \
                or now >= record.probability - 1e-9:
            continue
        outcome = next_outcomes.get(record.trial)
        why = (f"the first trial to train with it: {outcome.reason}" if outcome is not None
               and outcome.improved is False
               else "other trials that trained with the rule's choices fell below the best before them")
        notes[(record.trial, record.name, record.problem)] = (
            f"kept, yet its rule's weight fell {record.probability:.2f} -> {now:.2f}: {why} (a verdict counts "
            "any of the change's trials, a rule's weight the first trial to train with each choice)")
    return notes
