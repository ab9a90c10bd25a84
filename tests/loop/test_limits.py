"""Limits on what a network costs, in a study (simulated training): hard and soft modes, what the optimizer,
the verdicts and the rule learning see, and what ``status`` shows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from symtuner.app.cli import main
from symtuner.core.architecture import Architecture
from symtuner.core.costs import limit_outcome, pareto_front, standing, trade_points
from symtuner.core.errors import ConfigError
from symtuner.core.records import ChosenAction, Diagnosis, Trial, TrialState, TuningVersion
from symtuner.core.settings import StudySettings, load_config
from symtuner.core.space import Integer, SearchSpace, default_space
from symtuner.data import validate_dataset
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.search.optimizers.base import Observation
from symtuner.search.surrogate import observations
from symtuner.storage import StudyStore
from symtuner.storage.models import rank_trials
from symtuner.tuner import Tuner
from symtuner.tuning.evidence import trial_evidence
from symtuner.tuning.hypotheses import KEPT, judge
from symtuner.tuning.view import best_trial

#: The simulated default network has 0.46 M (narrowest) to 1.9 M (widest) parameters on 28x28 images.
LIMIT = 150_000


def run(path, dataset, trials=8, **settings):
    return Tuner(path, dataset=dataset, settings=StudySettings(epochs=5, n_initial=3, **settings),
                 executor_factory=SimulatedExecutor, quiet=True).run(trials)


@pytest.fixture(scope="module")
def hard_study(tmp_path_factory):
    rng = np.random.default_rng(0)
    x, y = rng.random((60, 28, 28, 1), dtype=np.float32), np.arange(60) % 3
    dataset = validate_dataset(x[:48], x[48:], y[:48], y[48:], 3, name="tiny")
    path = tmp_path_factory.mktemp("hard") / "s"
    best = run(path, dataset, max_params=LIMIT)
    with StudyStore.open(path, readonly=True) as store:
        return path, best, store.trials(), store.actions(), store.tuning_versions(), store.verdicts()


def test_every_trial_records_its_costs_and_the_first_default_network_is_infeasible(hard_study):
    _, _, trials, _, _, _ = hard_study
    assert all(set(t.extra["costs"]) == {"params", "flops", "model_mb", "latency_ms"} for t in trials)
    first = trials[0]
    assert first.infeasible and first.extra["costs"]["params"] > LIMIT
    assert first.extra["over_limits"] == {"params": [first.extra["costs"]["params"], LIMIT]}
    assert first.extra["violation"] == pytest.approx(first.extra["costs"]["params"] / LIMIT - 1)


def test_a_network_over_its_limit_is_never_the_best(hard_study):
    _, best, trials, _, _, _ = hard_study
    feasible = [t for t in trials if not t.infeasible]
    assert feasible, "decr_neurons must have brought the networks within the limit"
    assert best is not None and not best.infeasible
    assert best.objective == max(t.objective for t in feasible)
    assert best_trial(trials, True) == best
    assert [t.number for t in rank_trials(trials, True)] == sorted(
        (t.number for t in feasible), key=lambda n: -next(t.objective for t in trials if t.number == n))
    # an infeasible trial that scores above every feasible one still loses
    top = max(trials, key=lambda t: t.objective)
    doped = [t if t is not top else _with(t, infeasible=True, violation=0.1) for t in trials]
    assert best_trial(doped, True) is not top


def test_the_rules_shrink_the_network_after_a_trial_over_the_limit(hard_study):
    _, _, trials, actions, versions, verdicts = hard_study
    first = trials[0]
    assert "model_size" in first.diagnosis.problems
    assert "M parameters > 150 k -> model_size -> decr_neurons" in first.diagnosis.explanation
    applied = [a for a in actions if a.trial == first.number and a.applied]
    assert "decr_neurons" in [a.name for a in applied]
    shrunk = next(v for v in versions if v.after_trial == first.number)
    assert shrunk.space["unit_d"].high < default_space()["unit_d"].low
    # judged like any change: the first trial within the limit beats the one over it
    assert verdicts[shrunk.version].verdict == KEPT
    assert "over its limits" in verdicts[shrunk.version].reason


def test_status_shows_the_costs_the_limits_and_the_pareto_front(hard_study, capsys):
    path, best, trials, _, _, _ = hard_study
    assert main(["status", str(path), "--pareto"]) == 0
    out = capsys.readouterr().out
    assert "limits (hard): 150 k parameters" in out
    assert "infeasible: " in out and "parameters > 150 k" in out
    assert "Pareto front of val_accuracy against parameters" in out
    assert "Pareto front of val_accuracy against FLOPs" in out
    assert f"best: trial #{best.number}" in out


def test_soft_mode_ranks_by_a_penalised_objective(tmp_path, tiny_dataset):
    best = run(tmp_path / "s", tiny_dataset, trials=4, max_params=LIMIT, limit_mode="soft", limit_penalty=0.5)
    with StudyStore.open(tmp_path / "s", readonly=True) as store:
        trials = store.trials()
    first = trials[0]
    assert not first.infeasible and first.extra["over_limits"]
    assert first.objective == pytest.approx(first.extra["raw_objective"] - 0.5 * first.extra["violation"])
    assert best.objective == max(t.objective for t in trials)


def test_limit_outcome_in_each_mode():
    hard, soft = StudySettings(max_flops=100.0), StudySettings(max_flops=100.0, limit_mode="soft")
    assert limit_outcome({"flops": 50.0}, hard, 0.9) == (0.9, {})
    assert limit_outcome({}, hard, 0.9) == (0.9, {})
    value, extra = limit_outcome({"flops": 150.0}, hard, 0.9)
    assert value == 0.9 and extra == {"over_limits": {"flops": [150.0, 100.0]}, "violation": 0.5,
                                      "infeasible": True}
    value, extra = limit_outcome({"flops": 150.0}, soft, 0.9)
    assert value == pytest.approx(0.4) and extra["raw_objective"] == 0.9 and "infeasible" not in extra
    loss = StudySettings(max_flops=100.0, limit_mode="soft", objective="val_loss")
    assert limit_outcome({"flops": 150.0}, loss, 0.3)[0] == pytest.approx(0.8)  # a minimised objective rises


# -- what the optimizer, the verdicts and the rule learning see -------------------------------------
def _trial(number, objective, params=None, **extra):
    return Trial(number, TrialState.COMPLETE, params or {"u": number}, number, objective=objective, extra=extra)


def _with(trial, **extra):
    return Trial(trial.number, trial.state, trial.params, trial.tuning_version, objective=trial.objective,
                 extra={**trial.extra, **extra})


def test_the_optimizer_sees_infeasible_trials_as_worse_than_any_feasible_one():
    versions = [TuningVersion(1, SearchSpace((Integer("u", 1, 100),)), Architecture(), None, "", 0.0)]
    trials = [_trial(1, 0.9, costs={"params": 200.0}, infeasible=True, violation=1.0),
              _trial(2, 0.95, costs={"params": 300.0}, infeasible=True, violation=2.0),
              _trial(3, 0.6, costs={"params": 50.0}), _trial(4, 0.8, costs={"params": 90.0})]
    seen = observations(trials, versions, True, {"params": 100.0})
    losses = [o.loss for o in seen]
    assert losses[2:] == [-0.6, -0.8]
    assert min(losses[:2]) > max(losses[2:]) + 0.1  # at least half the spread (0.2) above the worst feasible
    assert losses[1] > losses[0]  # further over the limit: worse
    assert [o.constraints for o in seen] == [(1.0,), (2.0,), (-0.5,), pytest.approx((-0.1,))]
    assert [o.raw_loss for o in seen] == [-0.9, -0.95, -0.6, -0.8]
    unflagged = [_trial(t.number, t.objective, costs=t.extra["costs"]) for t in trials]
    plain = observations(unflagged, versions, True)  # soft mode, or no limits: nothing changed
    assert [o.loss for o in plain] == [-0.9, -0.95, -0.6, -0.8] and plain[0].constraints == ()


def test_tpe_is_told_the_constraints():
    pytest.importorskip("optuna")
    from symtuner.search.optimizers.tpe import TPEOptimizer

    space = SearchSpace((Integer("u", 1, 100),))
    history = [Observation({"u": u}, -u, (u / 30 - 1,), -u) for u in range(5, 100, 4)]
    proposals = [TPEOptimizer(n_initial=5).ask(space, history, seed) for seed in range(6)]
    assert all(p["u"] <= 40 for p in proposals), proposals  # the best feasible region, not u near 100


def test_a_trial_within_the_limits_beats_every_trial_over_them():
    over, within, worse = (_trial(1, 0.9, infeasible=True, violation=3.0), _trial(2, 0.5),
                           _trial(3, 0.95, infeasible=True, violation=0.5))
    assert standing(within, True) > standing(worse, True) > standing(over, True)
    assert standing(_trial(4, math.nan), True) is None
    first, changed = TuningVersion(1, default_space(), Architecture(), None, "", 0.0), \
        TuningVersion(2, default_space(), Architecture(), 1, "after trial 1: decr_neurons", 0.0)
    verdict = judge([first, changed], {}, [over, within], True, 3, 2).verdicts[0]
    assert verdict.verdict == KEPT
    assert verdict.reason == "trial #2 (0.5000) beat #1 (0.9000, over its limits), the best before it"
    chosen = Diagnosis({}, ("model_size",), (ChosenAction("decr_neurons", "model_size", 0.8),), "")
    diagnosed = Trial(1, TrialState.COMPLETE, {}, 1, objective=0.9, diagnosis=chosen,
                      extra={"infeasible": True, "violation": 3.0})
    assert trial_evidence([diagnosed, within]) == [("decr_neurons", "model_size", True)]


def test_trade_points_and_the_pareto_front():
    trials = [_trial(1, 0.9, costs={"params": 300.0, "flops": 1.0}), _trial(2, 0.8, costs={"params": 100.0}),
              _trial(3, 0.7, costs={"params": 200.0}), _trial(4, 0.95, costs={"params": 400.0},
                                                              over_limits={"params": [400.0, 350.0]}),
              _trial(5, 0.99)]
    points = trade_points(trials, True)
    assert [p.number for p in points] == [1, 2, 3, 4]
    assert [p.number for p in pareto_front(points, "params")] == [2, 1, 4]
    assert [p.number for p in pareto_front(points, "flops")] == [1]
    assert [p.feasible for p in points] == [True, True, True, False]
    assert [p.score for p in trade_points(trials[:1], False)] == [-0.9]


# -- settings, config and command line -------------------------------------------------------------
def test_limits_in_settings_and_config(tmp_path):
    settings = StudySettings(max_params=2.5e6, max_latency_ms=5)
    assert settings.limits == {"params": 2.5e6, "latency_ms": 5.0}
    assert StudySettings().limits == {}
    config = tmp_path / "c.toml"
    config.write_text('[limits]\nmax_params = 2.5e6\nmax_flops = 150e6\nmode = "soft"\npenalty = 0.3\n')
    loaded = StudySettings.from_dict(load_config(config).settings)
    assert (loaded.max_params, loaded.max_flops, loaded.limit_mode, loaded.limit_penalty) == \
        (2.5e6, 150e6, "soft", 0.3)


@pytest.mark.parametrize("values, names", [
    ({"max_params": 0}, "max_params must be a positive number, got 0"),
    ({"max_flops": -1.0}, "max_flops must be a positive number, got -1.0"),
    ({"max_latency_ms": math.inf}, "max_latency_ms must be a positive number, got inf"),
    ({"max_model_mb": "big"}, "max_model_mb must be a positive number, got 'big'"),
    ({"max_params": True}, "max_params must be a positive number, got True"),
    ({"limit_mode": "strict"}, "limit mode 'strict' is not one of ['hard', 'soft']"),
    ({"limit_penalty": -0.5}, "limit penalty must be a non-negative number, got -0.5"),
])
def test_bad_limits_are_named(values, names):
    with pytest.raises(ConfigError, match=names.replace("[", r"\[").replace("]", r"\]")):
        StudySettings(**values)


@pytest.mark.parametrize("argv, names", [
    (["--max-params", "0"], "'0'"),
    (["--max-params", "lots"], "'lots'"),
    (["--max-flops=-3M"], "'-3M'"),
    (["--max-latency-ms", "nan"], "'nan'"),
    (["--limit-mode", "strict"], "'strict'"),
    (["--limit-penalty", "-1"], "'-1'"),
])
def test_bad_limit_options_stop_with_one_line(tmp_path, capsys, argv, names):
    with pytest.raises(SystemExit) as stopped:
        main(["run", "--study-dir", str(tmp_path / "new"), *argv])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and names in err
    assert not (tmp_path / "new").exists()


def test_a_bad_limit_in_a_config_stops_with_one_line(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text("[limits]\nmax_params = -5\n")
    assert main(["run", "--study-dir", str(tmp_path / "new"), "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "max_params must be a positive number, got -5" in err


def test_a_finished_trial_line_says_it_is_over_the_limits():
    from symtuner.app.console import result_lines

    over = _trial(3, 0.9, over_limits={"params": [3.1e6, 2.5e6]}, infeasible=True, violation=0.24)
    assert "  #3 over the limits (infeasible, never the best): 3.1 M parameters > 2.5 M" in \
        result_lines(over, None, None, "val_accuracy")
    soft = _trial(4, 0.7, over_limits={"flops": [2e8, 1.5e8]}, raw_objective=0.8, violation=0.33)
    assert "  #4 over the limits (objective penalised): 200 M FLOPs > 150 M" in \
        result_lines(soft, None, None, "val_accuracy")
    assert not any("over the limits" in line for line in result_lines(_trial(5, 0.5), None, None, "val_accuracy"))


def test_a_run_with_no_trial_within_the_limits_says_so(tmp_path, tiny_dataset, capsys):
    from symtuner.app.commands.study import _none_within_limits

    assert run(tmp_path / "s", tiny_dataset, trials=2, max_params=10) is None  # no network is that small
    assert _none_within_limits(tmp_path / "s")
    out = capsys.readouterr().out
    assert out.startswith("no trial within the limits yet: 2 completed over them (the last: trial #2, ")
    assert "parameters > 10)" in out
    assert main(["status", str(tmp_path / "s")]) == 0
    assert "no complete trial within the limits yet" in capsys.readouterr().out
    run(tmp_path / "free", tiny_dataset, trials=1)
    assert not _none_within_limits(tmp_path / "free")
