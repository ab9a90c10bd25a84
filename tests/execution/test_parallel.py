"""Trials in parallel: the local pool and Ray, with simulated and real trainings."""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symtuner.app.cli import main
from symtuner.core.errors import ConfigError
from symtuner.core.settings import StudySettings
from symtuner.execution import ExecutionSettings
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.storage import StudyStore
from symtuner.study.observer import SilentProgress
from symtuner.tuner import Tuner

HERE = Path(__file__).parent
DATA_PY = '''
import numpy as np

def tiny():
    rng = np.random.default_rng(0)
    x = rng.random((60, 28, 28, 1), dtype=np.float32)
    y = np.arange(60) % 3
    return x[:48], x[48:], y[:48], y[48:], 3
'''
SLOW = functools.partial(SimulatedExecutor, epoch_seconds=0.2)


@pytest.fixture
def data(tmp_path: Path) -> str:
    (tmp_path / "data.py").write_text(DATA_PY)
    return f"{tmp_path / 'data.py'}:tiny"


class _Overlap(SilentProgress):
    """Records which trials report epochs between others' start and finish."""

    def __init__(self) -> None:
        self.active: set[int] = set()
        self.most = 0

    def trial_started(self, number, index, total, params):
        self.active.add(number)
        self.most = max(self.most, len(self.active))

    def trial_finished(self, trial, best, advice):
        self.active.discard(trial.number)

    def trial_failed(self, number, error):
        self.active.discard(number)


def _trials(directory: Path):
    with StudyStore.open(directory, readonly=True) as store:
        return store.trials()


def _assert_no_running_duplicates(trials) -> None:
    """Trials whose runs overlapped in time never had the same params."""
    for a in trials:
        for b in trials:
            if a.number < b.number and b.started_at < (a.finished_at or float("inf")):
                assert a.params != b.params or b.extra.get("retry_of") == a.number


def test_a_two_worker_pool_study_runs_trials_at_once(tmp_path, data):
    progress = _Overlap()
    best = Tuner(tmp_path / "s", dataset=data, executor_factory=SLOW, progress=progress,
                 execution=ExecutionSettings(workers=2)).run(6)
    trials = _trials(tmp_path / "s")
    assert best is not None
    assert [t.state for t in trials] == ["complete"] * 6
    assert progress.most == 2
    assert all(t.curve is not None and t.curve.n_epochs == 4 for t in trials)
    _assert_no_running_duplicates(trials)
    assert len({json.dumps(t.params, sort_keys=True) for t in trials}) == 6


def test_one_worker_proposes_what_the_loop_always_proposed(tmp_path):
    """With one worker the loop is the sequential one: the same 12 proposals as before parallel runs."""
    import numpy as np

    from symtuner.data import validate_dataset

    rng = np.random.default_rng(0)
    x = rng.random((60, 28, 28, 1), dtype=np.float32)
    y = np.arange(60) % 3
    dataset = validate_dataset(x[:48], x[48:], y[:48], y[48:], 3, name="tiny")
    from symtuner.search.optimizers import make_optimizer
    from symtuner.search.surrogate import observations, surrogate
    from symtuner.study.seeds import derived_seed

    golden = json.loads((HERE / "golden_proposals.json").read_text())
    for name, kw in {"symbolic": {}, "plain": {"symbolic": False}}.items():
        settings = StudySettings(seed=3, **kw)
        Tuner(tmp_path / name, dataset=dataset, settings=settings, executor_factory=SimulatedExecutor,
              quiet=True).run(12)
        with StudyStore.open(tmp_path / name, readonly=True) as store:
            trials, versions = store.trials(), store.tuning_versions()
        # the random start is the same on every machine: as recorded before parallel runs existed
        start = [{"params": t.params, "objective": t.objective, "tuning_version": t.tuning_version}
                 for t in trials[:settings.n_initial]]
        assert start == golden[name][:settings.n_initial]
        # every proposal is the sequential loop's: the optimizer asked on the trials before it, nothing
        # pending (the GP's floating point depends on the machine's BLAS, so it is recomputed here, not
        # compared with numbers recorded elsewhere)
        optimizer = make_optimizer(settings.optimizer, settings.n_initial)
        by_version = {v.version: v for v in versions}
        for trial in trials:
            known = [v for v in versions if v.after_trial is None or v.after_trial < trial.number]
            history = observations([t for t in trials if t.number < trial.number], known, settings.maximize)
            asked = optimizer.ask(by_version[trial.tuning_version].space, history,
                                  seed=derived_seed(settings.seed, trial.number - 1),
                                  surrogate=surrogate(known, by_version[trial.tuning_version]))
            assert dict(asked) == trial.params, f"trial {trial.number}"
        assert len({json.dumps(t.params, sort_keys=True) for t in trials}) == 12


def test_a_killed_worker_leaves_its_trial_to_rerun(tmp_path, data, monkeypatch):
    pids = tmp_path / "pids"
    pids.mkdir()
    monkeypatch.setenv("SYMTUNER_TEST_PID_DIR", str(pids))
    monkeypatch.setenv("PYTHONPATH", str(HERE / "workers") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.syspath_prepend(str(HERE / "workers"))
    from parallel_helpers import PidRecordingExecutor

    class KillTrialTwo(SilentProgress):
        killed = False

        def epoch_finished(self, number, epoch, epochs, logs):
            if number == 2 and not self.killed:
                os.kill(int((pids / "trial_2.pid").read_text()), signal.SIGKILL)
                self.killed = True

    progress = KillTrialTwo()
    Tuner(tmp_path / "s", dataset=data, executor_factory=PidRecordingExecutor, progress=progress,
          execution=ExecutionSettings(workers=2, retries=1)).run(4)
    trials = _trials(tmp_path / "s")
    assert progress.killed
    two = next(t for t in trials if t.number == 2)
    assert two.state == "interrupted" and "worker process died" in two.error and "-9" in two.error
    rerun = next(t for t in trials if t.extra.get("retry_of") == 2)
    assert rerun.state == "complete" and rerun.params == two.params and rerun.extra["seed"] == two.extra["seed"]
    assert sum(t.state == "complete" for t in trials) == 4


def test_isolate_runs_each_trial_of_one_worker_in_a_fresh_process_and_proposes_the_same(tmp_path, data,
                                                                                        monkeypatch):
    """One worker with ``isolate``: every trial in a process of its own, none in this one, and the same
    trials as the study run in this process (the loop is the sequential one either way)."""
    pids = tmp_path / "pids"
    pids.mkdir()
    monkeypatch.setenv("SYMTUNER_TEST_PID_DIR", str(pids))
    monkeypatch.setenv("PYTHONPATH", str(HERE / "workers") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.syspath_prepend(str(HERE / "workers"))
    from parallel_helpers import PidRecordingExecutor

    Tuner(tmp_path / "isolated", dataset=data, executor_factory=PidRecordingExecutor, quiet=True,
          execution=ExecutionSettings(isolate=True)).run(3)
    isolated = {int(f.stem.split("_")[1]): int(f.read_text()) for f in pids.glob("*.pid")}
    assert sorted(isolated) == [1, 2, 3]
    assert os.getpid() not in isolated.values() and len(set(isolated.values())) == 3
    # the trainer in the worker gets the data set whole, as in this process (so it makes the same split)
    isolated_data = given = {f.read_text() for f in pids.glob("*.data")}
    assert len(given) == 1
    for f in pids.iterdir():
        f.unlink()
    Tuner(tmp_path / "inline", dataset=data, executor_factory=PidRecordingExecutor, quiet=True).run(3)
    assert {int(f.read_text()) for f in pids.glob("*.pid")} == {os.getpid()}
    assert {f.read_text() for f in pids.glob("*.data")} == set(isolated_data)
    assert [t.params for t in _trials(tmp_path / "isolated")] == [t.params for t in _trials(tmp_path / "inline")]
    assert [t.state for t in _trials(tmp_path / "isolated")] == ["complete"] * 3


def test_isolate_is_checked_and_said_to_be_unused_where_it_does_not_apply():
    with pytest.raises(ConfigError, match="isolate must be true or false, got 'yes'"):
        ExecutionSettings.from_dict({"isolate": "yes"})
    assert ExecutionSettings(isolate=True).unused(["threads_per_trial", "retries"]) == []
    assert any("isolate" in line for line in ExecutionSettings(ray="local", isolate=True).unused(["isolate"]))
    assert ExecutionSettings().unused(["threads_per_trial"])  # one worker in this process: no threads to set


def test_a_killed_parallel_study_resumes_with_nothing_lost(tmp_path, data):
    script = f'''
import functools, sys
from symtuner.execution import ExecutionSettings
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.tuner import Tuner
print("ready", flush=True)
Tuner(sys.argv[1], dataset={data!r}, executor_factory=functools.partial(SimulatedExecutor, epoch_seconds=0.25),
      execution=ExecutionSettings(workers=2), quiet=True).run(8)
'''
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "s")], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.readline()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill once some trials are complete and others running
        time.sleep(0.3)
        if (tmp_path / "s" / "study.db").exists():
            states = [t.state for t in _trials(tmp_path / "s")]
            if states.count("complete") >= 2 and "running" in states:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {t.number: (t.params, t.objective, t.curve) for t in _trials(tmp_path / "s") if t.is_complete}
    assert before
    Tuner(tmp_path / "s", executor_factory=SLOW, execution=ExecutionSettings(workers=2)).run(8)
    trials = _trials(tmp_path / "s")
    assert {t.number: (t.params, t.objective, t.curve) for t in trials if t.number in before} == before
    assert sum(t.state == "complete" for t in trials) == 8
    for trial in trials:
        if trial.state == "interrupted":
            rerun = next(t for t in trials if t.extra.get("retry_of") == trial.number)
            assert rerun.params == trial.params


def test_a_tiny_real_keras_study_in_the_pool(tmp_path, data):
    Tuner(tmp_path / "s", dataset=data, settings=StudySettings(epochs=1),
          execution=ExecutionSettings(workers=2, threads_per_trial=1)).run(2)
    trials = _trials(tmp_path / "s")
    assert [t.state for t in trials] == ["complete", "complete"]
    assert all(Path(t.model_path).is_file() for t in trials)


def test_execution_settings_are_checked(tmp_path, data, capsys):
    for bad in ({"workers": 0}, {"retries": -1}, {"threads_per_trial": 0}, {"cpus_per_trial": 0},
                {"ray": ""}, {"colour": 1}):
        with pytest.raises(ConfigError):
            ExecutionSettings.from_dict(bad)
    (tmp_path / "c.toml").write_text("[execution]\nworkers = 'many'\n")
    assert main(["run", "--study-dir", str(tmp_path / "new"), "--config", str(tmp_path / "c.toml")]) == 2
    assert "workers" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_a_network_function_that_cannot_reach_workers_is_refused(tmp_path, data):
    with pytest.raises(ConfigError, match="cannot be sent to worker processes"):
        Tuner(tmp_path / "s", dataset=data, network=lambda *a: None,
              execution=ExecutionSettings(workers=2)).run(2)
    assert not (tmp_path / "s").exists()


# -- Ray ------------------------------------------------------------------------------------------

ray = pytest.importorskip("ray", reason="Ray is an optional dependency")


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    """A Ray head on this machine, started for these tests and stopped after them."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    ray_bin = Path(sys.executable).with_name("ray")
    subprocess.run([str(ray_bin), "start", "--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false",
                    "--disable-usage-stats"], env=env, check=True, capture_output=True, timeout=180)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(ray_bin), "stop", "--force"], env=env, capture_output=True, timeout=120)


def test_a_two_worker_ray_study_on_a_running_head(tmp_path, data, ray_head):
    progress = _Overlap()
    Tuner(tmp_path / "s", dataset=data, executor_factory=SLOW, progress=progress,
          execution=ExecutionSettings(workers=2, ray=ray_head)).run(6)
    trials = _trials(tmp_path / "s")
    assert [t.state for t in trials] == ["complete"] * 6
    assert progress.most == 2
    _assert_no_running_duplicates(trials)


def test_a_tiny_real_keras_study_on_ray(tmp_path, data, ray_head):
    Tuner(tmp_path / "s", dataset=data, settings=StudySettings(epochs=1),
          execution=ExecutionSettings(workers=2, ray=ray_head, threads_per_trial=1)).run(2)
    trials = _trials(tmp_path / "s")
    assert [t.state for t in trials] == ["complete", "complete"]
    assert all(Path(t.model_path).is_file() for t in trials)


def test_an_unreachable_ray_address_is_one_line_before_anything_is_stored(tmp_path, data, capsys):
    code = main(["run", "--study-dir", str(tmp_path / "s"), "--dataset", data, "--ray", "127.0.0.1:1",
                 "--trials", "1"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "127.0.0.1:1" in err[0]
    assert not (tmp_path / "s").exists()


def test_proposals_made_ahead_keep_freed_workers_busy_and_go_stale_with_the_space(tmp_path, data):
    """With more than one worker the driver proposes while every worker trains; a freed worker takes such a
    proposal at once, unless the space or the architecture changed after it was made."""
    from symtuner.study.ahead import Ahead as _Ahead
    from symtuner.study.ahead import AheadQueue

    class _IdleProposer:
        busy = False

        def done(self):
            return False

    settings = StudySettings(n_initial=2, seed=1)
    Tuner(tmp_path / "s", dataset=data, executor_factory=SLOW, settings=settings, quiet=True,
          execution=ExecutionSettings(workers=3)).run(9)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        trials, versions = store.trials(), {v.version: v for v in store.tuning_versions()}
    assert [t.state for t in trials] == ["complete"] * 9
    made = [t for t in trials if t.extra.get("proposed_ahead")]
    assert made, "no proposal was made ahead although three workers trained at once"
    for trial in made:
        assert versions[trial.tuning_version].space.contains(trial.params)
    _assert_no_running_duplicates(trials)
    assert len({json.dumps(t.params, sort_keys=True) for t in trials}) == 9

    from symtuner.core.space import Integer, SearchSpace

    class _Version:
        def __init__(self, version, space):
            self.version, self.space = version, space

    narrowed = _Version(3, SearchSpace([Integer("a", 3, 9)]))
    ahead = [_Ahead({"a": 1}, 1), _Ahead({"a": 5, "b": 0}, 1), _Ahead({"a": 2}, 2), _Ahead({"a": 4}, 2),
             _Ahead({"a": 6}, 2)]
    queue = AheadQueue(_IdleProposer())
    queue.made = ahead
    # {"a": 1} and {"a": 2} fall outside the narrowed bounds, {"a": 5, "b": 0} has an HP the space lacks,
    # {"a": 4} is running: the first still valid one is {"a": 6}
    taken = queue.take(narrowed, running=[{"a": 4}])
    assert taken is not None and taken.params == {"a": 6} and taken.drawn == ()
    assert queue.made == []


def test_a_proposal_made_ahead_gets_an_hp_added_since_drawn_in_its_range():
    from symtuner.core.space import Integer, Real, SearchSpace
    from symtuner.study.ahead import Ahead as _Ahead
    from symtuner.study.ahead import up_to_date as _up_to_date

    class _Version:
        def __init__(self, version, space):
            self.version, self.space = version, space

    with_l2 = _Version(2, SearchSpace([Integer("a", 0, 9)]).with_dimension(Real("l2", 1e-6, 1e-2, "log-uniform"),
                                                                            fill=1e-6))
    kept = _up_to_date([_Ahead({"a": 5}, 1), _Ahead({"a": 5, "l2": 1e-3}, 2)], with_l2)
    assert [k.drawn for k in kept] == [("l2",), ()]
    assert with_l2.space.contains(kept[0].params) and kept[0].params["a"] == 5 and kept[0].version == 2
    # seeded by the proposal: the same proposal gets the same value
    assert _up_to_date([_Ahead({"a": 5}, 1)], with_l2)[0].params == kept[0].params


def test_an_hp_added_since_with_a_range_per_choice_is_drawn_in_the_proposal_choices_range():
    from symtuner.core.space import Categorical, Real, SearchSpace
    from symtuner.study.ahead import Ahead as _Ahead
    from symtuner.study.ahead import up_to_date as _up_to_date

    class _Version:
        def __init__(self, version, space):
            self.version, self.space = version, space

    rate = Real("lr", 1e-4, 1e-2, "log-uniform", given="opt", ranges=(("Adadelta", 0.1, 1.0),))
    base = SearchSpace([Categorical("opt", ("Adam", "Adadelta"))])
    space = SearchSpace([*base.dimensions, rate])
    made = [_Ahead({"opt": "Adadelta", "n": k}, 1) for k in range(8)] + \
        [_Ahead({"opt": "Adam", "n": k}, 1) for k in range(8)]
    space = SearchSpace([*space.dimensions, Categorical("n", tuple(range(8)))])
    kept = _up_to_date(made, _Version(2, space))
    assert len(kept) == 16 and all(k.drawn == ("lr",) for k in kept)
    assert all(0.1 <= k.params["lr"] <= 1.0 for k in kept if k.params["opt"] == "Adadelta")
    assert all(1e-4 <= k.params["lr"] <= 1e-2 for k in kept if k.params["opt"] == "Adam")


def test_spare_workers_are_kept_only_where_the_trials_leave_cores_free():
    from symtuner.execution.pool import MAX_SPARES, spare_count

    # Keras trials with TensorFlow on every core: a spare importing it would take CPU from them
    assert spare_count(ExecutionSettings(workers=2), preload=True, cores=2) == 0
    assert spare_count(ExecutionSettings(workers=2, threads_per_trial=1), preload=True, cores=2) == 0
    assert spare_count(ExecutionSettings(workers=2, threads_per_trial=1), preload=True, cores=3) == 1
    assert spare_count(ExecutionSettings(workers=2, threads_per_trial=2), preload=True, cores=16) == 2
    assert spare_count(ExecutionSettings(workers=8, threads_per_trial=1), preload=True, cores=64) == MAX_SPARES
    # a stand-in trainer imports no Keras: one spare per worker; a given count wins
    assert spare_count(ExecutionSettings(workers=3), preload=False, cores=2) == 3
    assert spare_count(ExecutionSettings(workers=2, spare_workers=1), preload=True, cores=2) == 1
    with pytest.raises(ConfigError, match="spare_workers must be a non-negative integer, got -1"):
        ExecutionSettings(spare_workers=-1)


class _Together:
    """Two workers whose trials always finish together: ``wait`` runs every submitted trial (simulated)
    and returns all their outcomes at once, recording when each was submitted."""

    capacity = 2

    def __init__(self, events: list) -> None:
        self.executor, self.events, self.specs = None, events, []

    def load(self, dataset, network, config) -> None:
        self.executor = SimulatedExecutor(dataset, network, config)

    def check(self, space, architecture) -> None:
        pass

    def submit(self, spec) -> None:
        assert len(self.specs) < self.capacity, "more trials submitted than there are free workers"
        self.events.append(("submit", spec.number))
        self.specs.append(spec)

    def wait(self, on_epoch, timeout):
        done = [(spec.number, self.executor.run(spec, on_epoch=functools.partial(on_epoch, spec.number)))
                for spec in self.specs]
        self.specs = []
        return done

    def cancel(self) -> None:
        self.specs = []

    def close(self) -> None:
        pass


def test_trials_that_finish_together_free_their_workers_one_by_one(tmp_path, data, monkeypatch):
    """Of two trials handed back together, the first one's worker gets its next trial as soon as that trial is
    handled (its symbolic step and store transaction), not after the second one is too."""
    from symtuner.data import load_dataset

    events: list = []

    class _Progress(SilentProgress):
        def trial_finished(self, trial, best, advice):
            events.append(("finish", trial.number))

    monkeypatch.setattr("symtuner.study.tuner.start_dispatcher", lambda execution, factory: _Together(events))
    Tuner(tmp_path / "s", dataset=load_dataset(data), executor_factory=SimulatedExecutor, progress=_Progress(),
          execution=ExecutionSettings(workers=2)).run(6)
    assert [t.state for t in _trials(tmp_path / "s")] == ["complete"] * 6
    assert events == [("submit", 1), ("submit", 2), ("finish", 1), ("submit", 3), ("finish", 2), ("submit", 4),
                      ("finish", 3), ("submit", 5), ("finish", 4), ("submit", 6), ("finish", 5), ("finish", 6)]


def _numbers_named(text: str) -> set[int]:
    """The trial numbers a reason names: ``#3``, and ``#3-#5`` for 3, 4 and 5."""
    out: set[int] = set()
    for first, last in re.findall(r"#(\d+)(?:-#(\d+))?", text):
        out.update(range(int(first), int(last or first) + 1))
    return out


def test_a_change_is_judged_only_on_trials_dispatched_after_it(tmp_path, data):
    """With two workers a trial is still running when the change made after another one is stored: it did
    not train with the change, so no verdict counts it, and the verdict's reason says so."""
    fast = functools.partial(SimulatedExecutor, epoch_seconds=0.05)
    Tuner(tmp_path / "s", dataset=data, executor_factory=fast, execution=ExecutionSettings(workers=2)).run(8)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        trials = {t.number: t for t in store.trials()}
        versions = {v.version: v for v in store.tuning_versions()}
        verdicts = list(store.verdicts().values())
    judged = [v for v in verdicts if v.verdict in ("kept", "reverted", "undecided")]
    assert judged, "the simulated study made no change that was judged"
    # trials started before a change and finished by the time of its verdict (so the verdict saw them)
    early = [(v.version, n) for v in judged for n, t in trials.items()
             if n > versions[v.version].after_trial and t.tuning_version < v.version
             and t.finished_at <= trials[v.after_trial].finished_at]
    assert early, "no trial was running when a change was made"
    for version, number in early:
        reason = next(v.reason for v in judged if v.version == version)
        assert number in _numbers_named(reason.split("not counted:")[1].split("started before it")[0]), reason
    for v in judged:  # a trial that beat the best before the change trained with it
        if v.verdict == "kept" and v.reason.startswith("trial #"):
            number = int(v.reason.split()[1].lstrip("#"))
            assert trials[number].tuning_version >= v.version, v.reason
