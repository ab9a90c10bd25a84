"""What the rule learning shows: no change without evidence, and a kept change whose rule weighs less
said to be so, with why."""

from __future__ import annotations

from pathlib import Path

from symtuner.app.console import changes_summary
from symtuner.app.dashboard.tables import actions_table
from symtuner.core.architecture import Architecture
from symtuner.core.records import ActionRecord, Verdict
from symtuner.core.settings import StudySettings
from symtuner.core.space import default_space
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.storage import INITIAL_WEIGHTS_TRIAL, StudyStore, TuningVersion
from symtuner.tuner import Tuner
from symtuner.tuning.evidence import Outcome
from symtuner.tuning.hypotheses import change_states, kept_weight_notes


def test_a_trial_that_gives_no_evidence_changes_no_weight(tmp_path: Path, tiny_dataset) -> None:
    Tuner(tmp_path / "s", dataset=tiny_dataset, settings=StudySettings(epochs=4),
          executor_factory=SimulatedExecutor, quiet=True).run(1)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        history = store.weights_history()
    assert history[INITIAL_WEIGHTS_TRIAL][("reg_l2", "overfitting")] == 0.99
    assert history[1] == history[INITIAL_WEIGHTS_TRIAL]  # one trial: nothing to learn from, nothing shown as learnt


def _kept_drop() -> tuple[list[ActionRecord], dict, dict, list[TuningVersion]]:
    space = default_space()
    versions = [TuningVersion(1, space, Architecture(), None, "initial search space", 0.0),
                TuningVersion(2, space, Architecture(), 3, "after trial 3: drop_optimizer", 0.0)]
    verdicts = {2: Verdict(2, "kept", 5, "#5 beat #1 (0.9547 > 0.9268)", None, None)}
    actions = [ActionRecord(3, "drop_optimizer", "low_lr", 0.9, True, "optimizer categories -> ['Adam']")]
    return actions, verdicts, {("drop_optimizer", "low_lr"): 0.6}, versions


def test_a_kept_change_whose_rule_weighs_less_says_why() -> None:
    actions, verdicts, now, versions = _kept_drop()
    states = change_states(versions, verdicts)
    fell = Outcome(4, False, "#4 fell 0.0800 below #1, the best before it (noise 0.0550 (binomial))")
    notes = kept_weight_notes(actions, states, now, {3: fell})
    note = notes[(3, "drop_optimizer", "low_lr")]
    assert "its rule's weight fell 0.90 -> 0.60: the first trial to train with it: #4 fell 0.0800 below #1" in note
    state = actions_table(actions, states, notes).rows[0][4]
    assert state.startswith("kept after trial 5: #5 beat #1") and "fell 0.90 -> 0.60" in state
    summary = changes_summary(versions, verdicts, notes)
    assert "version 2 (after trial 3: drop_optimizer): kept after trial 5" in summary
    assert "    drop_optimizer: kept, yet its rule's weight fell 0.90 -> 0.60" in summary
    # a kept change whose rule weighs as much as when it was chosen needs no note
    assert kept_weight_notes(actions, states, {("drop_optimizer", "low_lr"): 0.9}, {3: Outcome(4, True, "")}) == {}
