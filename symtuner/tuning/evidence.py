"""What each choice of a rule achieved: the rule learning's evidence, judged against the study's noise.

For every complete trial whose diagnosis chose actions, the next complete
trial trained with them (for actions that only moved one optimizer's
learning-rate range, the next trial of that optimizer, see
:func:`next_trial_outcomes`). Each chosen (action, problem) pair is then

- **improved** when that trial beat the best of all complete trials up to
  and including the diagnosed one by more than the noise of the difference
  (:mod:`symtuner.tuning.noise`, as the verdicts on changes measure it);
- **not improved** when it fell below that best by more than the noise,
  except for a move of the learning-rate range (``inc_lr`` for ``low_lr``,
  ``decr_lr`` for ``high_lr``) after which that trial still shows the
  problem the move answered: the move was too small, not wrong (a range far
  off takes several moves), and that is no evidence against it, as the
  verdict on the move reads it;
- **undecided** otherwise, which is no evidence for or against the rule, as
  an undecided verdict is none: a rule's weight does not follow the coin
  flips of a small validation set.

A best that sat at chance level (or diverged) is no result to beat: the
next trial is an improvement when it rose clearly above chance, and
undecided otherwise (a learning-rate range far off takes several moves).
Under hard limits on what a network costs, trials over a limit are ranked
by Deb's order (:func:`symtuner.core.costs.standing`), measured, so with no
margin. With nothing to measure the noise (no number of validation
samples, no curve), any margin counts, and a tie is no improvement.

Pure: the same trials and task facts always give the same evidence, so a
resumed study re-learns the weights it had.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from symtuner.core.costs import standing
from symtuner.core.records import Trial, TuningVersion, Verdict
from symtuner.core.settings import StudySettings
from symtuner.core.space import changed_for
from symtuner.tuning.noise import NoiseModel
from symtuner.tuning.view import TaskFacts

if TYPE_CHECKING:  # ProbLog stays unimported where only the evidence is read (status, the dashboard)
    from symtuner.symbolic.lfi import Evidence


#: Moves of the learning-rate range, and the problem each answers. Each move is bounded (``lr_factor``),
#: so a range far off takes several: while the trials after such a move still show the problem it
#: answered, the move was too small, not wrong.
DIRECTIONAL = {"inc_lr": "low_lr", "decr_lr": "high_lr"}


@dataclass(frozen=True)
class Outcome:
    """What the first trial to train with a diagnosis's chosen actions showed of them."""

    #: the trial that trained with the chosen actions
    following: int
    #: True: improved beyond the noise; False: fell below the best beyond it (or, unmeasured, did not beat it);
    #: None: within the noise, no evidence
    improved: bool | None
    #: how it was decided, for people
    reason: str


#: A change's verdict waits for its own trials at most this many times its window
#: (:func:`symtuner.tuning.hypotheses.judge`).
WAIT_FACTOR = 2

#: A change that only moved some choices' ranges (one optimizer's learning rates) is tested by the
#: first of this many complete trials after it that drew from a moved range: as many as a change's
#: verdict waits for with the default window.
FOLLOWING_WAIT = WAIT_FACTOR * StudySettings.revert_after


def next_trial_outcomes(trials: Sequence[Trial], maximize: bool = True, task: TaskFacts | None = None,
                        versions: Sequence[TuningVersion] = (),
                        verdicts: Mapping[int, Verdict] | None = None) -> dict[int, Outcome]:
    """Per complete trial whose diagnosis chose actions and that a complete trial followed: the outcome.

    With the study's ``versions`` and ``verdicts``, a diagnosis whose actions
    only moved the ranges of some choices (Adam's learning rates, not
    Adadelta's) is followed by the first complete trial that drew from a
    moved range, within :data:`FOLLOWING_WAIT` trials (none: no outcome): a
    trial of another optimizer did not train with what the actions chose.
    """
    complete = sorted(((t, rank) for t in trials if (rank := standing(t, maximize)) is not None),
                      key=lambda item: item[0].number)
    drew = _drew_from(versions, verdicts or {})
    outcomes: dict[int, Outcome] = {}
    best: tuple[Trial, tuple[float, float]] | None = None
    for index, (trial, rank) in enumerate(complete):
        if best is None or rank > best[1]:
            best = (trial, rank)
        if trial.diagnosis is None or not trial.diagnosis.actions:
            continue
        later = complete[index + 1:index + 1 + FOLLOWING_WAIT]
        at = next((i for i, (t, _) in enumerate(later) if drew(trial.number, t)), None)
        if at is None:
            continue
        noise = NoiseModel.of(task, [t for t, _ in complete[:index + 2 + at]])
        outcomes[trial.number] = _outcome(best, later[at], noise, maximize)
    return outcomes


def _drew_from(versions: Sequence[TuningVersion], verdicts: Mapping[int, Verdict]) -> Callable[[int, Trial], bool]:
    """``drew(n, t)``: whether trial ``t`` trained with what the actions after trial ``n`` changed.

    True unless the version those actions made differs from the one before
    it only in ranges that ``t``'s choices did not draw from
    (:func:`symtuner.core.space.changed_for`); so True without versions, for
    actions that changed nothing, and for a change of the network.
    """
    restores = {v.restored_by for v in verdicts.values() if v.restored_by is not None}
    by_number = sorted(versions, key=lambda v: v.version)
    made: dict[int, tuple[TuningVersion, TuningVersion]] = {}
    for previous, version in zip(by_number, by_number[1:]):
        if version.after_trial is not None and version.version not in restores:
            made[version.after_trial] = (previous, version)

    def drew(number: int, trial: Trial) -> bool:
        return number not in made or trained_with(*made[number], trial)
    return drew


def trained_with(base: TuningVersion, change: TuningVersion, trial: Trial) -> bool:
    """Whether ``trial`` trained with what ``change`` made of ``base``.

    Not when it started under an older version (a parallel study's trial
    already running when the change was made). Otherwise when it drew from
    a range the change made (:func:`symtuner.core.space.changed_for`), or
    the change altered the network (which every later trial trains), or it
    altered neither (nothing to tell trials apart by).
    """
    if trial.tuning_version < change.version:
        return False
    if base.architecture != change.architecture or base.space == change.space:
        return True
    return changed_for(base.space, change.space, trial.params)


def _outcome(best: tuple[Trial, tuple[float, float]], following: tuple[Trial, tuple[float, float]],
             noise: NoiseModel, maximize: bool) -> Outcome:
    (top, top_rank), (trial, rank) = best, following
    number = trial.number
    if top.infeasible or trial.infeasible:  # Deb's order: costs are measured, no margin
        word = "beat" if rank > top_rank else "did not beat"
        return Outcome(number, rank > top_rank, f"#{number} {word} #{top.number}, the best before it, "
                                                "in the order of the limits")
    if noise.at_chance(top):
        if noise.above_chance(trial):
            return Outcome(number, True, f"#{number} rose clearly above chance ({noise.chance_text()}), "
                                         f"where #{top.number}, the best before it, sat")
        return Outcome(number, None, f"#{top.number}, the best before it, sat at chance level and #{number} "
                                     "did not rise clearly above it: no evidence")
    difference = float(trial.objective) - float(top.objective)  # type: ignore[arg-type]
    gain = difference if maximize else -difference
    margin = noise.between(trial, top)
    if gain > margin.value:
        return Outcome(number, True, f"#{number} beat #{top.number}, the best before it, by {gain:.4f} > {margin}")
    if -gain > margin.value:
        return Outcome(number, False, f"#{number} fell {-gain:.4f} below #{top.number}, the best before it "
                                      f"({margin})")
    if margin.value == 0.0:
        return Outcome(number, False, f"#{number} did not beat #{top.number}, the best before it ({gain:+.4f}; "
                                      f"{margin})")
    return Outcome(number, None, f"#{number} against #{top.number}, the best before it: {gain:+.4f}, within "
                                 f"{margin}: no evidence")


def trial_evidence(trials: Sequence[Trial], maximize: bool = True, task: TaskFacts | None = None,
                   versions: Sequence[TuningVersion] = (), verdicts: Mapping[int, Verdict] | None = None
                   ) -> list[Evidence]:
    """(action, problem, improved) for every chosen action whose outcome was decided (:func:`next_trial_outcomes`)."""
    by_number = {t.number: t for t in trials}
    return [(a.name, a.problem, bool(outcome.improved))
            for number, outcome in next_trial_outcomes(trials, maximize, task, versions, verdicts).items()
            if outcome.improved is not None
            for a in by_number[number].diagnosis.actions  # type: ignore[union-attr]
            if outcome.improved or not still_shown(a.name, a.problem, by_number[outcome.following])]


def still_shown(action: str, problem: str, following: Trial) -> bool:
    """Whether ``following`` still shows the problem that ``action``, a bounded move of the learning-rate
    range (:data:`DIRECTIONAL`), answered: the move was too small, not wrong, so a shortfall is no
    evidence against it (as a verdict on the move reads it)."""
    return DIRECTIONAL.get(action) == problem and following.diagnosis is not None \
        and problem in following.diagnosis.problems


def stored_task_facts(data_info: Mapping[str, Any], settings: Mapping[str, Any]) -> TaskFacts:
    """The task facts the noise needs, as a study's store holds them (for views of a stored study):
    the number of classes, the objective, the validation samples and the majority class's share (the
    last two None for a study created before they were stored, whose noise is then the curves' spread)."""
    def positive_int(value: Any) -> int | None:
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

    majority = data_info.get("majority")
    classification = data_info.get("task", "classification") == "classification"
    return TaskFacts(n_classes=positive_int(data_info.get("n_classes")) if classification else None,
                     image_input=len(data_info.get("input_shape") or ()) == 3,
                     n_train=positive_int(data_info.get("n_train")),
                     epochs=positive_int(settings.get("epochs")) or 1,
                     objective=str(settings.get("objective", "val_accuracy")),
                     n_val=positive_int(data_info.get("n_val")),
                     majority=float(majority) if isinstance(majority, (int, float)) and 0 < majority <= 1 else None)
