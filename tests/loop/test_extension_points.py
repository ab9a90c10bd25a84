"""Extension points seen from a study: a registered action with its rule, a study callback, a pruner."""

from __future__ import annotations

import pytest

from symtuner.core.errors import ConfigError
from symtuner.core.records import PROBLEMS
from symtuner.core.settings import StudySettings
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.search.pruners import STOPPERS_REGISTRY, register_stopper
from symtuner.storage import StudyStore
from symtuner.tuner import Tuner
from symtuner.tuning.actions import NotApplicable, actions_restored, register_action

#: Chosen for every problem the rules act on, above every shipped rule's weight.
TAG_RULE = "".join(f"0.999::action(halve_batch_ceiling, {problem}) :- acted_on({problem}).\n"
                   for problem in PROBLEMS)


def halve_batch_ceiling(space, architecture, context):
    """A user's action: halve the batch-size range's upper bound."""
    dim = space["batch_size"]
    high = max(dim.low, dim.high // 2)
    if high == dim.high:
        raise NotApplicable("halve_batch_ceiling: the range is a single value")
    return space.with_bounds("batch_size", dim.low, high), architecture


def _tuner(path, dataset, **settings):
    return Tuner(path, dataset=dataset, settings=StudySettings(epochs=5, n_initial=2, **settings),
                 executor_factory=SimulatedExecutor, quiet=True)


def test_a_registered_action_and_a_study_callback_are_both_used(tmp_path, tiny_dataset):
    seen = []

    def callback(study, trial):
        seen.append((trial.number, trial.state, study.best_trial.number if study.best_trial else None))

    with actions_restored():
        register_action("halve_batch_ceiling", halve_batch_ceiling, TAG_RULE)
        _tuner(tmp_path / "s", tiny_dataset).run(4, callbacks=[callback])
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        trials = store.trials(with_curves=False)
        actions = store.actions()
        versions = store.tuning_versions()
    assert [number for number, _, _ in seen] == [t.number for t in trials]
    assert all(state == "complete" for _, state, _ in seen)
    # the callback saw the study as stored: its best trial after each trial
    assert seen[-1][2] == max(trials, key=lambda t: (t.objective, -t.number)).number
    mine = [a for a in actions if a.name == "halve_batch_ceiling"]
    assert mine and any(a.applied for a in mine), [(a.name, a.problem, a.applied, a.detail) for a in actions]
    applied = next(a for a in mine if a.applied)
    after = next(v for v in versions if v.after_trial == applied.trial)
    before = versions[0].space["batch_size"]
    assert after.space["batch_size"].high < before.high


def test_a_callback_can_stop_the_study_and_its_error_reaches_the_caller(tmp_path, tiny_dataset):
    def stop_after_two(study, trial):
        if len(study.trials) >= 2:
            study.stop()

    assert _tuner(tmp_path / "a", tiny_dataset).run(6, callbacks=[stop_after_two]) is not None
    with StudyStore.open(tmp_path / "a", readonly=True) as store:
        assert len(store.trials()) == 2

    def broken(study, trial):
        raise RuntimeError("callback broke")

    with pytest.raises(RuntimeError, match="callback broke"):
        _tuner(tmp_path / "b", tiny_dataset).run(3, callbacks=[broken])
    with StudyStore.open(tmp_path / "b", readonly=True) as store:
        assert [t.state for t in store.trials()] == ["complete"]  # the trial was stored before the callback ran
    with pytest.raises(ConfigError, match="study callback must be a function"):
        _tuner(tmp_path / "c", tiny_dataset).run(3, callbacks=["not a function"])
    assert not (tmp_path / "c").exists()


def test_a_registered_pruner_stops_trials_and_an_unknown_one_is_refused_before_anything_is_stored(
        tmp_path, tiny_dataset):
    def after_two_epochs(context):
        return lambda curve: f"seen {curve.n_epochs} epochs of {context.objective}" if curve.n_epochs >= 2 else ""

    with STOPPERS_REGISTRY.temporarily():
        register_stopper("two_epochs", after_two_epochs)
        _tuner(tmp_path / "s", tiny_dataset, pruner="two_epochs").run(2)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        trials = store.trials()
    assert [t.epochs_run for t in trials] == [2, 2]
    assert all(t.stopped == "seen 2 epochs of val_accuracy" for t in trials)
    with pytest.raises(ConfigError, match="pruner 'two_epochs' is not one of"):
        _tuner(tmp_path / "t", tiny_dataset, pruner="two_epochs").run(2)
    assert not (tmp_path / "t").exists()
