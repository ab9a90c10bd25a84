"""rules/resources.pl: model_size and latency from measured costs and limits; growth blocked, shrinking chosen."""

from __future__ import annotations

import random

import pytest

from symtuner.core.records import LearningCurve
from symtuner.symbolic.engine import SymbolicEngine, analyse
from symtuner.symbolic.explain import format_reason
from symtuner.symbolic.resources import COST_FACT_NAMES, cost_facts
from symtuner.symbolic.rules import load_rules

#: Underfitting that has levelled off: the tuning rules would grow the network (inc_neurons first).
UNDERFIT = LearningCurve((2.2, 1.9, 1.8, 1.78, 1.77), (0.2, 0.3, 0.33, 0.34, 0.34),
                         (2.1, 1.9, 1.85, 1.84, 1.84), (0.22, 0.3, 0.32, 0.33, 0.33))
GROWTH = {"inc_neurons", "new_fc_layer", "new_conv_layer"}


@pytest.fixture(scope="module")
def engine() -> SymbolicEngine:
    return SymbolicEngine(load_rules())


def diagnose(engine, facts):
    return analyse(UNDERFIT, 10, engine.rules.initial_weights, engine, lambda _a, _p: True, random.Random(0),
                   extra_facts=facts)


def test_cost_facts_give_each_cost_its_limit_and_growth():
    facts = cost_facts({"params": 3e6, "flops": 2e8, "latency_ms": float("nan")}, {"params": 2.5e6},
                       {"params": 2e6, "flops": 0.0})
    assert facts == {"params": 3e6, "params_growth": 1.5, "flops": 2e8, "flops_growth": 1.0, "max_params": 2.5e6}
    assert set(facts) <= set(COST_FACT_NAMES)
    assert cost_facts({"params": 10.0}, {}) == {"params": 10.0, "params_growth": 1.0}


def test_without_limits_the_growth_actions_stay(engine):
    plain = diagnose(engine, cost_facts({"params": 3.1e6, "flops": 9e9}, {}))
    assert plain.problems == ("underfitting",)
    assert [a.name for a in plain.actions] == ["inc_neurons"]


def test_over_the_parameter_limit_blocks_growth_and_chooses_decr_neurons_with_the_explanation(engine):
    found = diagnose(engine, cost_facts({"params": 3.1e6}, {"params": 2.5e6}))
    assert found.problems == ("underfitting", "model_size")
    chosen = {a.name: a.problem for a in found.actions}
    assert chosen["decr_neurons"] == "model_size"
    assert not GROWTH & set(chosen)
    assert {f"{name} (blocked by model_size)" for name in GROWTH} <= set(found.skipped)
    assert "3.1 M parameters > 2.5 M -> model_size -> decr_neurons (p 0.80)" in found.explanation
    assert found.reasons["model_size"][0].term == "over(params, 3.1e+06, 2.5e+06)"


def test_over_the_saved_size_limit_is_model_size_too(engine):
    found = diagnose(engine, cost_facts({"model_mb": 12.4}, {"model_mb": 10.0}))
    assert "model_size" in found.problems
    assert "12.4 MB saved > 10.0 -> model_size" in found.explanation


@pytest.mark.parametrize("cost, value, limit, text", [
    ("flops", 2e8, 1.5e8, "200 M FLOPs > 150 M -> latency"),
    ("latency_ms", 9.0, 5.0, "9.00 ms latency > 5.00 -> latency"),
])
def test_over_a_flops_or_latency_limit_is_latency(engine, cost, value, limit, text):
    found = diagnose(engine, cost_facts({cost: value}, {cost: limit}))
    assert found.problems == ("underfitting", "latency")
    assert text in found.explanation
    assert [a.name for a in found.actions if a.problem == "latency"] == ["decr_neurons"]
    assert "inc_neurons (blocked by latency)" in found.skipped


def test_near_the_limit_only_while_growing(engine):
    growing = diagnose(engine, cost_facts({"params": 2.4e6}, {"params": 2.5e6}, {"params": 2.0e6}))
    assert "model_size" in growing.problems
    assert ("2.4 M parameters, near the limit of 2.5 M and 20% up on the trial before -> model_size -> "
            "decr_neurons") in growing.explanation
    steady = diagnose(engine, cost_facts({"params": 2.4e6}, {"params": 2.5e6}, {"params": 2.39e6}))
    far = diagnose(engine, cost_facts({"params": 2.0e6}, {"params": 2.5e6}, {"params": 1.0e6}))
    for found in (steady, far):
        assert "model_size" not in found.problems
        assert [a.name for a in found.actions] == ["inc_neurons"]


def test_the_margin_and_growth_are_thresholds_a_user_may_change():
    engine = SymbolicEngine(load_rules(thresholds={"size_margin": 0.3}))
    found = diagnose(engine, cost_facts({"params": 2.0e6}, {"params": 2.5e6}, {"params": 1.0e6}))
    assert "model_size" in found.problems


def test_the_reasons_are_worded_with_their_units():
    assert format_reason(("over", ("params", 3.1e6, 2.5e6))) == "3.1 M parameters > 2.5 M"
    assert format_reason(("over", ("flops", 1.52e8, 1.5e8))) == "152 M FLOPs > 150 M"
    assert format_reason(("near", ("latency_ms", 4.8, 5.0, 1.1))) == \
        "4.80 ms latency, near the limit of 5.00 and 10% up on the trial before"
