"""The tuning loop with the simulated trainer: storage, resume, errors, symbolic step."""

import json
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from symtuner.core.errors import ConfigError, StudyError
from symtuner.core.records import TrialState
from symtuner.core.settings import StudySettings
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.storage import StudyStore
from symtuner.tuner import Tuner


def _tuner(path, dataset, **settings):
    return Tuner(path, dataset=dataset, settings=StudySettings(epochs=5, n_initial=3, **settings),
                 executor_factory=SimulatedExecutor)


def _snapshot(path):
    conn = sqlite3.connect(path / "study.db")
    tables = ["trials", "epochs", "actions", "rule_weights", "tuning_versions"]
    return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}


def test_study_stores_trials_diagnoses_and_weights(tmp_path, tiny_dataset):
    best = _tuner(tmp_path / "s", tiny_dataset).run(6)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        trials = store.trials()
        assert [t.state for t in trials] == [TrialState.COMPLETE] * 6
        assert best.objective == max(t.objective for t in trials)
        for trial in trials:
            # 5 epochs, or fewer when symbolic early stopping said why
            assert trial.curve.n_epochs == 5 or (trial.curve.n_epochs < 5 and trial.extra["stopped"])
            assert trial.extra["epochs_run"] == trial.curve.n_epochs
            assert trial.diagnosis is not None and trial.diagnosis.explanation
            assert trial.test_accuracy is not None
        history = store.weights_history()
        assert sorted(history) == [-1, 1, 2, 3, 4, 5, 6]
        assert store.actions(), "the simulated curves overfit: some action must have been chosen"
        versions = store.tuning_versions()
        assert len(versions) >= 2
        # Every trial's params lie in the space of the version it ran with.
        for trial in trials:
            assert store.tuning(trial.tuning_version).space.contains(trial.params)
    log = (tmp_path / "s" / "study.log").read_text()
    assert "trial 6 complete" in log and "diagnosis" in log


def test_resume_gives_the_same_study_as_one_run(tmp_path, tiny_dataset):
    _tuner(tmp_path / "once", tiny_dataset).run(6)
    _tuner(tmp_path / "twice", tiny_dataset).run(3)
    _tuner(tmp_path / "twice", tiny_dataset).run(6)
    once, twice = _snapshot(tmp_path / "once"), _snapshot(tmp_path / "twice")
    strip = lambda rows: [tuple(v for i, v in enumerate(r) if i not in (9, 10, 11, 13, 14)) for r in rows]  # noqa: E731
    assert strip(once["trials"]) == strip(twice["trials"])  # params, objectives, diagnoses (not timings)
    assert once["rule_weights"] == twice["rule_weights"]
    assert [r[1:4] for r in once["tuning_versions"]] == [r[1:4] for r in twice["tuning_versions"]]


def test_plain_bo_has_no_symbolic_records(tmp_path, tiny_dataset):
    _tuner(tmp_path / "s", tiny_dataset, symbolic=False).run(4)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        assert all(t.diagnosis is None for t in store.trials())
        assert store.weights_history() == {} and store.actions() == []
        assert len(store.tuning_versions()) == 1


def test_resume_with_other_settings_is_refused_and_changes_nothing(tmp_path, tiny_dataset):
    _tuner(tmp_path / "s", tiny_dataset).run(2)
    before = _snapshot(tmp_path / "s")
    with pytest.raises(ConfigError, match="other settings \\(stored -> given: seed 0 -> 4; optimizer 'gp' -> 'random'\\)"):
        _tuner(tmp_path / "s", tiny_dataset, optimizer="random", seed=4).run(3)
    assert _snapshot(tmp_path / "s") == before


def test_rerunning_what_created_a_study_continues_it_space_included(tmp_path, tiny_dataset):
    from symtuner.core.space import default_space

    space = default_space().with_bounds("learning_rate", 1e-4, 3e-3)

    def tuner(**settings):
        return Tuner(tmp_path / "s", dataset=tiny_dataset, space=space,
                     settings=StudySettings(epochs=5, n_initial=3, **settings), executor_factory=SimulatedExecutor)

    tuner().run(2)
    assert tuner().run(4) is not None  # the same script run again: continues
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        assert len(store.trials()) == 4
    tuner(keep_models=0).run(5)  # what a resume may change
    before = _snapshot(tmp_path / "s")
    space = default_space().with_bounds("learning_rate", 1e-4, 1e-2).with_bounds("batch_size", 32, 256)
    with pytest.raises(ConfigError) as caught:
        tuner().run(6)
    assert "search space: learning_rate 0.0001..0.003 log-uniform -> learning_rate 0.0001..0.01 log-uniform" \
        in str(caught.value)
    assert "search space: batch_size 16..256 -> batch_size 32..256" in str(caught.value)
    assert _snapshot(tmp_path / "s") == before


def test_bad_input_creates_nothing(tmp_path):
    with pytest.raises(ConfigError, match="'nope'"):
        Tuner(tmp_path / "s", dataset="nope", executor_factory=SimulatedExecutor).run(2)
    assert not (tmp_path / "s" / "study.db").exists()
    with pytest.raises(ConfigError, match="positive integer, got 0"):
        Tuner(tmp_path / "s").run(0)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(StudyError, match="not an empty directory"):
        Tuner(tmp_path / "busy", dataset="digits", executor_factory=SimulatedExecutor).run(1)
    assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == ["notes.txt"]


KILLED_RUN = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    from symtuner.data import validate_dataset
    from symtuner.core.settings import StudySettings
    from symtuner.execution.simulate import SimulatedExecutor
    from symtuner.tuner import Tuner

    class Hangs(SimulatedExecutor):
        def run(self, spec, on_epoch=None):
            if spec.number == 3 and os.environ.get("HANG"):
                on_epoch(0, {"loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4})
                print("hanging", flush=True)
                time.sleep(600)
            return super().run(spec, on_epoch)

    rng = np.random.default_rng(0)
    x = rng.random((60, 28, 28, 1), dtype=np.float32)
    y = np.arange(60) % 3
    data = validate_dataset(x[:48], x[48:], y[:48], y[48:], 3, name="tiny")
    Tuner(sys.argv[1], dataset=data, settings=StudySettings(epochs=5, n_initial=3),
          executor_factory=Hangs, quiet=True).run(int(sys.argv[2]))
    print("done", flush=True)
""")


def test_killed_process_resumes_and_reruns_the_interrupted_trial(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(KILLED_RUN)
    study = tmp_path / "s"
    proc = subprocess.Popen([sys.executable, str(script), str(study), "5"], stdout=subprocess.PIPE, text=True,
                            env={**__import__("os").environ, "HANG": "1"})
    assert proc.stdout.readline().strip() == "hanging"
    # While it runs, a second process is refused.
    second = subprocess.run([sys.executable, str(script), str(study), "5"], capture_output=True, text=True)
    assert second.returncode != 0 and "being run by another process" in second.stderr
    proc.kill()
    proc.wait()
    with StudyStore.open(study, readonly=True) as store:
        assert store.trial(3).state == TrialState.RUNNING  # as the killed process left it
    done = subprocess.run([sys.executable, str(script), str(study), "5"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with StudyStore.open(study, readonly=True) as store:
        trials = store.trials()
        assert trials[2].state == TrialState.INTERRUPTED
        retry = [t for t in trials if t.extra.get("retry_of") == 3]
        assert len(retry) == 1 and retry[0].params == trials[2].params
        assert sum(t.state == TrialState.COMPLETE for t in trials) == 5
        assert any(e.kind == "trial_interrupted" for e in store.events())


def test_diagnosis_json_round_trip(tmp_path, tiny_dataset):
    _tuner(tmp_path / "s", tiny_dataset).run(2)
    conn = sqlite3.connect(tmp_path / "s" / "study.db")
    raw = conn.execute("SELECT diagnosis FROM trials WHERE number=1").fetchone()[0]
    data = json.loads(raw)
    assert set(data) >= {"problems", "actions", "facts", "explanation"}


def test_rules_with_unknown_actions_fail_before_anything_is_stored(tmp_path, tiny_dataset):
    from symtuner.core.errors import RulesError

    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "mine.pl").write_text("0.5::action(add_attention, overfitting) :- problem(overfitting).\n")
    with pytest.raises(RulesError, match="add_attention"):
        _tuner(tmp_path / "s", tiny_dataset, rules_dir=str(rules)).run(2)
    assert not (tmp_path / "s" / "study.db").exists()


def test_user_rules_extend_the_study(tmp_path, tiny_dataset):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "always.pl").write_text(
        "problem(always) :- fact(n_epochs, N), N >= 1.\n"
        "0.8::action(inc_dropout, always) :- problem(always).\n")
    _tuner(tmp_path / "s", tiny_dataset, rules_dir=str(rules)).run(2)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        first = store.trials()[0]
        assert "always" in first.diagnosis.problems
        assert any(a.name == "inc_dropout" and a.problem == "always" for a in store.actions())
        assert ("inc_dropout", "always") in store.weights_history()[-1]


@pytest.mark.parametrize("dim, message", [
    ("optimizer", "dimension 'optimizer': unknown optimizer 'Adamw2'"),
    ("activation", "dimension 'activation': unknown activation 'relu7'"),
])
def test_unusable_categories_fail_before_anything_is_stored(tmp_path, tiny_dataset, dim, message):
    from symtuner.core.space import Categorical, default_space

    bad = {"optimizer": ("Adam", "Adamw2"), "activation": ("relu", "relu7")}[dim]
    space = default_space()
    space = type(space)(tuple(Categorical(dim, bad) if d.name == dim else d for d in space.dimensions))
    with pytest.raises(ConfigError, match=message):
        Tuner(tmp_path / "s", dataset=tiny_dataset, space=space, executor_factory=SimulatedExecutor).run(2)
    assert not (tmp_path / "s" / "study.db").exists()


def test_a_study_killed_while_being_created_can_be_run_again(tmp_path, tiny_dataset):
    study = tmp_path / "s"
    study.mkdir()
    (study / "study.db.partial").write_bytes(b"SQLite format 3\x00 and then nothing")
    _tuner(study, tiny_dataset).run(2)
    with StudyStore.open(study, readonly=True) as store:
        assert len(store.trials()) == 2
    assert not (study / "study.db.partial").exists()


def test_a_diverged_trial_is_never_the_best():
    from symtuner.core.records import Trial
    from symtuner.tuning.advisor import best_trial

    trials = [Trial(1, TrialState.COMPLETE, {}, 1, objective=float("nan")),
              Trial(2, TrialState.COMPLETE, {}, 1, objective=0.7),
              Trial(3, TrialState.COMPLETE, {}, 1, objective=0.5),
              Trial(4, TrialState.COMPLETE, {}, 1, objective=0.5),
              Trial(5, TrialState.COMPLETE, {}, 1, objective=float("inf"))]
    assert best_trial(trials, maximize=False).number == 3  # the earliest of the lowest losses
    assert best_trial(trials, maximize=True).number == 2
    assert best_trial(trials[:1], maximize=False) is None


def test_file_paths_are_stored_relative_so_a_study_can_be_moved(tmp_path, tiny_dataset, monkeypatch):
    import shutil
    from pathlib import Path

    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    _tuner("my-study", tiny_dataset).run(2)  # a relative study directory
    stored = sqlite3.connect("my-study/study.db").execute("SELECT model_path, log_dir FROM trials").fetchall()
    assert stored[0] == ("models/trial_0001.keras", "logs/trial_0001")
    shutil.copytree("my-study", tmp_path / "moved")
    monkeypatch.chdir(tmp_path)  # read from elsewhere, through a copy
    Path("moved/models/trial_0001.keras").parent.mkdir(exist_ok=True)
    Path("moved/models/trial_0001.keras").write_bytes(b"model")
    with StudyStore.open(tmp_path / "moved", readonly=True) as store:
        trial = store.trials()[0]
    assert Path(trial.model_path) == tmp_path / "moved" / "models" / "trial_0001.keras"
    assert Path(trial.log_dir) == tmp_path / "moved" / "logs" / "trial_0001"


def test_keep_models_bounds_the_model_files_to_the_best_and_the_latest(tmp_path, tiny_dataset):
    import functools

    from symtuner.tuning.advisor import best_trial

    factory = functools.partial(SimulatedExecutor, write_files=True)
    Tuner(tmp_path / "s", dataset=tiny_dataset, settings=StudySettings(epochs=5, n_initial=3, keep_models=2),
          executor_factory=factory, quiet=True).run(7)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        trials = store.trials(with_curves=False)
        events = [e.message for e in store.events() if e.kind == "models_pruned"]
    complete = sorted((t for t in trials if t.is_complete), key=lambda t: -t.objective)
    kept = {t.number for t in complete[:2]} | {max(t.number for t in trials)}
    on_disk = {int(p.stem.split("_")[1]) for p in (tmp_path / "s" / "models").glob("trial_*.keras")}
    assert on_disk == kept and len(trials) == 7
    assert best_trial(trials, True).number in on_disk
    assert events and "keep_models=2" in events[0]
    # a resume may keep more from then on; what was deleted stays deleted
    Tuner(tmp_path / "s", dataset=tiny_dataset, settings=StudySettings(epochs=5, n_initial=3, keep_models=0),
          executor_factory=factory, quiet=True).run(9)
    assert len(list((tmp_path / "s" / "models").glob("trial_*.keras"))) == len(kept) + 2
