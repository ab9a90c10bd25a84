"""SymbolicEngine.diagnose, choose_actions, explain, analyse and diagnose_history."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from symtuner.core.errors import ConfigError, RulesError
from symtuner.core.records import ChosenAction, Diagnosis, LearningCurve
from symtuner.symbolic.engine import (
    SymbolicEngine,
    analyse,
    choose_actions,
    diagnose_history,
    explain,
)
from symtuner.symbolic.facts import curve_facts
from symtuner.symbolic.rules import load_rules

OVERFIT = LearningCurve((1.5, 0.6, 0.2, 0.05), (0.6, 0.85, 0.95, 0.98),
                        (1.4, 1.0, 1.1, 1.3), (0.55, 0.68, 0.70, 0.71))
HEALTHY = LearningCurve((2.0, 1.0, 0.5, 0.3), (0.5, 0.75, 0.88, 0.92),
                        (1.6, 0.8, 0.35, 0.21), (0.6, 0.8, 0.9, 0.93))
ALL = lambda _name, _problem: True  # noqa: E731


@pytest.fixture(scope="module")
def engine() -> SymbolicEngine:
    return SymbolicEngine(load_rules())


def rounded(pairs: list[tuple[str, float]]) -> list[tuple[str, float]]:
    return [(name, round(p, 9)) for name, p in pairs]


def history(curve: LearningCurve, **extra) -> dict:
    return {**curve.to_dict(), **extra}


def test_diagnose_ranks_actions_by_probability(engine):
    facts = curve_facts(OVERFIT, 10)
    problems, ranked = engine.diagnose(facts, engine.rules.initial_weights)
    assert problems == ["overfitting"]
    assert rounded(ranked["overfitting"]) == [("reg_l2", 0.99), ("batch_norm", 0.99), ("data_augmentation", 0.6),
                                              ("inc_dropout", 0.4), ("decr_neurons", 0.3)]


def test_diagnose_uses_the_given_weights(engine):
    facts = curve_facts(OVERFIT, 10)
    weights = {**engine.rules.initial_weights, ("reg_l2", "overfitting"): 0.05,
               ("inc_dropout", "overfitting"): 0.7}
    _, ranked = engine.diagnose(facts, weights)
    assert [name for name, _ in ranked["overfitting"]] == ["batch_norm", "inc_dropout", "data_augmentation",
                                                           "decr_neurons", "reg_l2"]
    _, partial = engine.diagnose(facts, {("reg_l2", "overfitting"): 0.1})  # missing pairs: rules' values
    assert dict(partial["overfitting"])["batch_norm"] == pytest.approx(0.99)
    with pytest.raises(ConfigError, match="weight of reg_l2 for overfitting must lie in"):
        engine.diagnose(facts, {("reg_l2", "overfitting"): 1.5})


def test_problems_come_in_table_order_then_user_ones(tmp_path):
    (tmp_path / "mine.pl").write_text(
        "problem(always_on) :- fact(n_epochs, N), N >= 1.\n"
        "0.8::action(inc_neurons, always_on) :- problem(always_on).\n")
    engine = SymbolicEngine(load_rules(tmp_path))
    nan = math.nan
    diverged = LearningCurve((2.0, nan), (0.3, 0.1), (1.9, nan), (0.3, 0.1))
    problems, ranked = engine.diagnose(curve_facts(diverged, 10), engine.rules.initial_weights)
    assert problems == ["increasing_loss", "high_lr", "always_on"]
    assert rounded(ranked["always_on"]) == [("inc_neurons", 0.8)]
    diagnosis = analyse(diverged, 10, engine.rules.initial_weights, engine, ALL, random.Random(0))
    # the NaN is a symptom of the step (explained by high_lr), acted on through the cause
    assert diagnosis.causes == {"increasing_loss": "high_lr"}
    assert [(a.name, a.problem) for a in diagnosis.actions] == [("decr_lr", "high_lr"), ("inc_neurons", "always_on")]
    assert "by a user rule reading n_epochs 2 -> always_on -> inc_neurons (p 0.80)" in diagnosis.explanation


def test_user_rules_are_explained_by_the_values_they_read(tmp_path):
    (tmp_path / "mine.pl").write_text(
        "threshold(gap_limit, 0.05).\n"
        "problem(small_gap) :- fact(acc_gap, G), threshold(gap_limit, T), G > T, \\+ fact(diverged, 1).\n"
        "0.7::action(reg_l2, small_gap) :- problem(small_gap).\n")
    rules = load_rules(tmp_path)
    assert rules.problem_inputs["small_gap"] == (("acc_gap", "diverged"), ("gap_limit",))
    read_facts, read_thresholds = rules.problem_inputs["overfitting"]
    assert {"acc_gap", "loss_gap"} <= set(read_facts) and "acc_gap" in read_thresholds
    engine = SymbolicEngine(rules)
    curve = LearningCurve((1.0, 0.6, 0.5), (0.6, 0.8, 0.9), (1.0, 0.7, 0.6), (0.5, 0.72, 0.82))
    diagnosis = analyse(curve, 10, rules.initial_weights, engine, ALL, random.Random(0))
    assert diagnosis.problems == ("small_gap",)
    assert diagnosis.explanation == ("by a user rule reading acc_gap 0.08, diverged 0, threshold gap_limit 0.05"
                                     " -> small_gap -> reg_l2 (p 0.70)")


def test_engine_needs_a_rule_base():
    with pytest.raises(RulesError):
        SymbolicEngine("rules/")  # type: ignore[arg-type]


# -- choose_actions ------------------------------------------------------------
RANKED = {
    "overfitting": [("reg_l2", 0.99), ("batch_norm", 0.99), ("data_augmentation", 0.6), ("inc_dropout", 0.4)],
    "underfitting": [("inc_neurons", 0.5), ("new_fc_layer", 0.45), ("new_conv_layer", 0.45),
                     ("decr_lr", 0.3)],
    "high_lr": [("decr_lr", 0.99)],
}


def names(chosen: list[ChosenAction]) -> list[tuple[str, str]]:
    return [(a.name, a.problem) for a in chosen]


def test_fresh_overfitting_weights_pair_reg_l2_with_batch_norm():
    chosen, skipped = choose_actions({"overfitting": RANKED["overfitting"]}, ALL, random.Random(1))
    assert names(chosen) == [("reg_l2", "overfitting"), ("batch_norm", "overfitting")]
    assert [a.probability for a in chosen] == [0.99, 0.99]
    assert skipped == []


def test_opposite_actions_keep_only_the_more_probable():
    ranked = {"overfitting": [("reg_l2", 0.99)], "high_lr": [("decr_lr", 0.63)], "low_lr": [("inc_lr", 0.58)]}
    opposites = {"inc_lr": "decr_lr", "decr_lr": "inc_lr"}
    chosen, skipped = choose_actions(ranked, ALL, random.Random(0), opposites=opposites)
    assert names(chosen) == [("reg_l2", "overfitting"), ("decr_lr", "high_lr")]
    assert skipped == ["inc_lr (opposes decr_lr, more probable)"]
    # without the table both are chosen
    chosen, _ = choose_actions(ranked, ALL, random.Random(0))
    assert [a.name for a in chosen] == ["reg_l2", "decr_lr", "inc_lr"]


def test_equally_probable_opposite_actions_are_both_dropped():
    ranked = {"high_lr": [("decr_lr", 0.7)], "low_lr": [("inc_lr", 0.7)]}
    chosen, skipped = choose_actions(ranked, ALL, random.Random(0),
                                     opposites={"inc_lr": "decr_lr", "decr_lr": "inc_lr"})
    assert chosen == []
    assert sorted(skipped) == ["decr_lr (opposes inc_lr, equally probable)",
                               "inc_lr (opposes decr_lr, equally probable)"]


def test_most_probable_applicable_action_per_problem():
    chosen, _ = choose_actions(RANKED, ALL, random.Random(0))
    assert names(chosen) == [("reg_l2", "overfitting"), ("batch_norm", "overfitting"),
                             ("inc_neurons", "underfitting"), ("decr_lr", "high_lr")]


def test_skips_actions_not_applicable_and_already_chosen():
    ranked = {
        "high_lr": [("decr_lr", 0.99)],
        "overfitting": RANKED["overfitting"],
        "underfitting": [("decr_lr", 0.6), ("inc_neurons", 0.5), ("new_fc_layer", 0.45),
                         ("new_conv_layer", 0.4)],
    }
    capped = {"inc_neurons", "reg_l2"}
    chosen, skipped = choose_actions(ranked, lambda name, _problem: name not in capped, random.Random(0))
    assert names(chosen) == [("decr_lr", "high_lr"), ("batch_norm", "overfitting"),
                             ("new_fc_layer", "underfitting")]
    # only candidates that would have been chosen are reported, not every lower-ranked one
    assert skipped == ["reg_l2 (not applicable)", "decr_lr (already chosen for high_lr)",
                       "inc_neurons (not applicable)"]


def test_nothing_applicable_lists_every_candidate():
    chosen, skipped = choose_actions({"high_lr": [("decr_lr", 0.99)]}, lambda _n, _p: False, random.Random(0))
    assert chosen == [] and skipped == ["decr_lr (not applicable)"]


def test_ties_are_broken_by_the_rng_reproducibly():
    ranked = {"underfitting": [("new_fc_layer", 0.45), ("new_conv_layer", 0.45), ("decr_lr", 0.3)]}
    picks = {seed: choose_actions(ranked, ALL, random.Random(seed))[0][0].name for seed in range(20)}
    assert set(picks.values()) == {"new_fc_layer", "new_conv_layer"}
    assert all(choose_actions(ranked, ALL, random.Random(seed))[0][0].name == pick
               for seed, pick in picks.items())
    reversed_order = {"underfitting": list(reversed(ranked["underfitting"]))}
    assert all(choose_actions(reversed_order, ALL, random.Random(seed))[0][0].name == pick
               for seed, pick in picks.items())


def test_always_threshold():
    chosen, _ = choose_actions({"overfitting": RANKED["overfitting"]}, ALL, random.Random(0),
                               always_threshold=0.5)
    assert [a.name for a in chosen] == ["reg_l2", "batch_norm", "data_augmentation"]
    chosen, _ = choose_actions({"overfitting": RANKED["overfitting"]}, ALL, random.Random(0),
                               always_threshold=1.0)
    assert len(chosen) == 1 and chosen[0].name in {"reg_l2", "batch_norm"}


# -- explain ---------------------------------------------------------------------
def test_explanation_formats_the_reasons_the_rules_derived(engine):
    diagnosis = analyse(OVERFIT, 10, engine.rules.initial_weights, engine, ALL, random.Random(0))
    assert diagnosis.explanation.startswith("train-validation accuracy gap 0.25 > 0.20 at the end of the run")
    assert "train-validation loss gap 0.90 > 0.23 at the end of the run" in diagnosis.explanation
    assert diagnosis.explanation.endswith("-> overfitting -> reg_l2 + batch_norm (p 0.99)")
    terms = [r.term for r in diagnosis.reasons["overfitting"]]
    assert "gap(accuracy, 0.25, 0.20)" in terms


def test_explain_formats_any_reason_it_is_given():
    actions = [ChosenAction("reg_l2", "overfitting", 0.99), ChosenAction("data_augmentation", "overfitting", 0.6)]
    text = explain({}, ["overfitting"], actions, {"overfitting": ["a reason", "another"]})
    assert text == "a reason and another -> overfitting -> reg_l2 (p 0.99), data_augmentation (p 0.60)"
    text = explain({}, ["underfitting", "low_lr"], [ChosenAction("inc_lr", "low_lr", 0.99)],
                   {"underfitting": ["poor"], "low_lr": ["slow"]}, causes={"underfitting": "low_lr"})
    assert text == "poor -> underfitting, explained by low_lr; slow -> low_lr -> inc_lr (p 0.99)"


def test_explanation_of_a_healthy_curve(engine):
    diagnosis = analyse(HEALTHY, 10, engine.rules.initial_weights, engine, ALL, random.Random(0))
    assert diagnosis.explanation == "no problem found (val accuracy 0.93, val loss 0.21)"


def test_a_threshold_changed_in_a_user_rule_file_shows_in_the_explanation(tmp_path):
    (tmp_path / "gap.pl").write_text("threshold(acc_gap, 0.22).\n")
    engine = SymbolicEngine(load_rules(tmp_path))
    diagnosis = analyse(OVERFIT, 10, engine.rules.initial_weights, engine, ALL, random.Random(0))
    assert "accuracy gap 0.25 > 0.22" in diagnosis.explanation
    (tmp_path / "gap.pl").write_text("threshold(acc_gap, 0.3).\n")
    engine = SymbolicEngine(load_rules(tmp_path))
    diagnosis = analyse(OVERFIT, 10, engine.rules.initial_weights, engine, ALL, random.Random(0))
    assert "accuracy gap" not in diagnosis.explanation and "loss gap 0.90" in diagnosis.explanation


def test_a_user_reason_clause_is_explained_like_a_shipped_one(tmp_path):
    (tmp_path / "mine.pl").write_text(
        "threshold(gap_limit, 0.05).\n"
        "reason(small_gap, small_gap(G, T)) :- fact(acc_gap, G), threshold(gap_limit, T), G > T.\n"
        "0.7::action(reg_l2, small_gap) :- problem(small_gap).\n")
    engine = SymbolicEngine(load_rules(tmp_path))
    curve = LearningCurve((1.0, 0.6, 0.5), (0.6, 0.8, 0.9), (1.0, 0.7, 0.6), (0.5, 0.72, 0.82))
    diagnosis = analyse(curve, 10, engine.rules.initial_weights, engine, ALL, random.Random(0))
    assert diagnosis.problems == ("small_gap",)
    assert diagnosis.explanation == "small_gap(0.08, 0.05) -> small_gap -> reg_l2 (p 0.70)"


# -- analyse / diagnose_history ------------------------------------------------------
def test_analyse_returns_a_complete_diagnosis(engine):
    diagnosis = analyse(OVERFIT, 10, engine.rules.initial_weights, engine, ALL, random.Random(0))
    assert isinstance(diagnosis, Diagnosis)
    assert diagnosis.problems == ("overfitting",)
    assert [a.name for a in diagnosis.actions] == ["reg_l2", "batch_norm"]
    assert diagnosis.facts == curve_facts(OVERFIT, 10)
    assert "reg_l2 + batch_norm (p 0.99)" in diagnosis.explanation
    assert Diagnosis.from_dict(diagnosis.to_dict()) == diagnosis


def test_threshold_overrides_change_the_diagnosis():
    loose = SymbolicEngine(load_rules(thresholds={"acc_gap": 0.5, "loss_gap": 1.0}))
    diagnosis = analyse(OVERFIT, 10, loose.rules.initial_weights, loose, ALL, random.Random(0))
    assert "overfitting" not in diagnosis.problems


def test_diagnose_history_with_none_values(engine):
    data = {"loss": [2.0, 4.0, None], "accuracy": [0.3, 0.1, 0.1], "val_loss": [1.9, None, None],
            "val_accuracy": [0.3, 0.1, 0.1]}
    diagnosis = diagnose_history(data, 10, engine)
    assert set(diagnosis.problems) == {"high_lr", "increasing_loss"}
    assert [a.name for a in diagnosis.actions] == ["decr_lr"]
    assert diagnosis.facts["diverged"] == 1.0


def test_diagnose_history_without_a_class_count_measures_losses_on_the_curve(engine):
    data = history(HEALTHY)
    unknown = diagnose_history(data, None, engine)
    assert unknown.facts["loss_scale"] == pytest.approx(2.0)  # the first-epoch level
    assert unknown.facts["n_classes"] == 0.0
    assert "class count unknown" in unknown.explanation
    given = diagnose_history({**data, "n_classes": 10}, None, engine)
    assert "unknown" not in given.explanation and given.facts["n_classes"] == 10.0
    assert given.facts["loss_scale"] == pytest.approx(math.log(10))
    with pytest.raises(ConfigError, match="n_classes must be an integer"):
        diagnose_history({**data, "n_classes": "ten"}, None, engine)
    with pytest.raises(ConfigError, match="'loss' series"):
        diagnose_history({"val_loss": [1.0]}, 10, engine)


def test_rules_file_paths_survive_in_the_rule_base(tmp_path: Path):
    (tmp_path / "x.pl").write_text("0.3::action(inc_dropout, overfitting) :- problem(overfitting).\n")
    engine = SymbolicEngine(load_rules(tmp_path))
    _, ranked = engine.diagnose(curve_facts(OVERFIT, 10), engine.rules.initial_weights)
    assert dict(ranked["overfitting"])["inc_dropout"] == pytest.approx(0.3)


def test_explain_restates_no_threshold_or_condition_of_the_rules():
    import re

    import symtuner.symbolic.explain as module

    source = Path(module.__file__).read_text()
    rules = load_rules()
    named = [name for name in rules.thresholds if re.search(rf"\b{re.escape(name)}\b", source)]
    assert named == []
