"""Loading the rule base: shipped rules, extension, replacement, and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from symtuner.core.errors import RulesError
from symtuner.core.records import PROBLEMS
from symtuner.symbolic.rules import SHIPPED_DIR, load_rules

TABLE2 = {
    ("reg_l2", "overfitting"): 0.99, ("batch_norm", "overfitting"): 0.99,
    ("inc_dropout", "overfitting"): 0.4, ("data_augmentation", "overfitting"): 0.6,
    ("decr_lr", "underfitting"): 0.3, ("inc_neurons", "underfitting"): 0.5,
    ("new_fc_layer", "underfitting"): 0.45, ("new_conv_layer", "underfitting"): 0.45,
    ("decr_lr", "increasing_loss"): 0.99,
    ("inc_batch_size", "fluctuating_loss"): 0.85, ("decr_lr", "fluctuating_loss"): 0.15,
    ("decr_lr", "high_lr"): 0.99, ("inc_lr", "low_lr"): 0.99,
}


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_rules():
    rules = load_rules()
    # the paper's Table 2, plus a larger batch as the second remedy for a step that makes the loss swing and
    # dropping an optimizer that fails where another one trains well at the same rate; and the resource
    # rules' shrinking actions for a network over (or near) its limits
    assert rules.initial_weights == {**TABLE2, ("inc_batch_size", "high_lr"): 0.5,
                                     ("drop_optimizer", "low_lr"): 0.5, ("drop_optimizer", "high_lr"): 0.5,
                                     ("drop_optimizer", "underfitting"): 0.7, ("drop_activation", "underfitting"): 0.6,
                                     ("decr_dropout", "underfitting"): 0.55,
                                     ("decr_l2", "underfitting"): 0.55, ("decr_batch_size", "underfitting"): 0.6,
                                     ("decr_neurons", "overfitting"): 0.3,
                                     ("decr_neurons", "model_size"): 0.8, ("remove_fc_layer", "model_size"): 0.5,
                                     ("decr_neurons", "latency"): 0.8, ("remove_conv_layer", "latency"): 0.5,
                                     ("remove_fc_layer", "latency"): 0.3}
    assert rules.problems == PROBLEMS + ("model_size", "latency")
    assert rules.sources == (SHIPPED_DIR / "diagnosis.pl", SHIPPED_DIR / "tuning.pl", SHIPPED_DIR / "resources.pl")
    assert rules.thresholds["acc_gap"] == 0.2
    assert set(rules.actions) == {"reg_l2", "batch_norm", "inc_dropout", "data_augmentation", "decr_lr",
                                  "inc_lr", "inc_neurons", "inc_batch_size", "new_fc_layer", "new_conv_layer",
                                  "drop_optimizer", "decr_neurons", "remove_fc_layer", "remove_conv_layer",
                                  "decr_dropout", "decr_l2", "decr_batch_size", "drop_activation"}
    assert all(":- unknown(fail)." in text for text in rules.texts[:1])


def test_threshold_override_and_unknown_names():
    rules = load_rules(thresholds={"acc_gap": 0.25, "high_loss": 1})
    assert rules.thresholds["acc_gap"] == 0.25 and rules.thresholds["high_loss"] == 1.0
    with pytest.raises(RulesError, match="unknown thresholds acc_gapp, zz"):
        load_rules(thresholds={"acc_gapp": 0.3, "zz": 1.0, "acc_gap": 0.1})
    with pytest.raises(RulesError, match="threshold acc_gap must be a finite number, got 'x'"):
        load_rules(thresholds={"acc_gap": "x"})


def test_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "mine.pl", "problem(x) :- fact(acc_gap, G),\n    G > 0.5.\nfoo(a :- bar.\n")
    with pytest.raises(RulesError, match=f"{path}:3: "):
        load_rules(tmp_path)


def test_single_colon_typo_is_reported(tmp_path):
    path = write(tmp_path, "mine.pl", "% weights\n0.5:action(inc_lr, low_lr) :- problem(low_lr).\n")
    with pytest.raises(RulesError, match=f"{path}:2: .*two colons"):
        load_rules(tmp_path)


def test_action_rule_without_probability(tmp_path):
    path = write(tmp_path, "mine.pl", "\naction(inc_lr, low_lr) :- problem(low_lr).\n")
    with pytest.raises(RulesError, match=f"{path}:2: an action/2 rule needs a probability"):
        load_rules(tmp_path)


def test_two_rules_for_one_pair_in_one_file(tmp_path):
    path = write(tmp_path, "mine.pl", "0.5::action(inc_lr, low_lr) :- problem(low_lr).\n"
                                      "0.6::action(inc_lr, low_lr) :- problem(low_lr).\n")
    with pytest.raises(RulesError, match=f"{path}:2: a second rule for action inc_lr and problem low_lr"):
        load_rules(tmp_path)


def test_misspelt_fact_and_threshold_names(tmp_path):
    write(tmp_path / "a", "mine.pl", "problem(odd) :- fact(acc_gapp, G), G > 0.\n")
    with pytest.raises(RulesError, match=r"mine.pl:1: unknown fact 'acc_gapp'"):
        load_rules(tmp_path / "a")
    write(tmp_path / "b", "mine.pl", "\nproblem(odd) :- fact(acc_gap, G), threshold(gapp, T), G > T.\n")
    with pytest.raises(RulesError, match=r"mine.pl:2: unknown threshold 'gapp'"):
        load_rules(tmp_path / "b")


def test_runtime_error_in_a_rule_names_file_and_line(tmp_path):
    path = write(tmp_path, "mine.pl", "% one\n% two\nproblem(odd) :- fact(acc_gap, G), G > T.\n")
    with pytest.raises(RulesError, match=f"{path}:3: .*'>/2'"):
        load_rules(tmp_path)


def test_threshold_must_be_a_numeric_fact(tmp_path):
    path = write(tmp_path, "mine.pl", "threshold(acc_gap, big).\n")
    with pytest.raises(RulesError, match=f"{path}:1: threshold/2 needs a name and a finite number"):
        load_rules(tmp_path)


def test_replace_mode_needs_both_files(tmp_path):
    write(tmp_path, "diagnosis.pl", "threshold(t, 1).\nproblem(p) :- fact(acc_gap, G), G > 1.\n")
    with pytest.raises(RulesError, match=f"needs {tmp_path / 'tuning.pl'}"):
        load_rules(tmp_path, mode="replace")


@pytest.mark.parametrize("missing, diagnosis, tuning", [
    ("problem/1", "threshold(t, 1).\n", "0.5::action(a, p) :- problem(p).\n"),
    ("action", "threshold(t, 1).\nproblem(p) :- fact(acc_gap, G), G > 1.\n", "% nothing\n"),
    ("threshold", "problem(p) :- fact(acc_gap, G), G > 1.\n", "0.5::action(a, p) :- problem(p).\n"),
])
def test_missing_predicates_name_the_files(tmp_path, missing, diagnosis, tuning):
    write(tmp_path, "diagnosis.pl", diagnosis)
    write(tmp_path, "tuning.pl", tuning)
    with pytest.raises(RulesError, match=f"no .*{missing}.* in .*{tmp_path / 'diagnosis.pl'}"):
        load_rules(tmp_path, mode="replace")


def test_replace_mode_uses_only_the_users_rules(tmp_path):
    write(tmp_path, "diagnosis.pl", "threshold(gap, 0.1).\n"
                                    "problem(overfitting) :- fact(acc_gap, G), threshold(gap, T), G > T.\n")
    write(tmp_path, "tuning.pl", "0.9::action(reg_l2, overfitting) :- problem(overfitting).\n")
    rules = load_rules(tmp_path, mode="replace", thresholds={"gap": 0.3})
    assert rules.initial_weights == {("reg_l2", "overfitting"): 0.9}
    assert rules.thresholds == {"gap": 0.3}
    assert rules.problems == ("overfitting",)
    with pytest.raises(RulesError, match="unknown threshold acc_gap"):
        load_rules(tmp_path, mode="replace", thresholds={"acc_gap": 0.3})


def test_extend_mode_adds_problems_actions_and_reweights(tmp_path):
    write(tmp_path, "plateau.pl",
          "threshold(plateau_drop, 0.001).\n"
          "problem(plateau) :- fact(n_epochs, N), N >= 3, fact(first_loss, F), fact(last_loss, L),\n"
          "    threshold(plateau_drop, T), F - L < T.\n"
          "0.7::action(inc_lr, plateau) :- problem(plateau).\n"
          "0.2::action(inc_dropout, overfitting) :- problem(overfitting).\n"
          "threshold(acc_gap, 0.3).\n")
    rules = load_rules(tmp_path)
    assert rules.problems == (*PROBLEMS, "model_size", "latency", "plateau")
    assert rules.initial_weights[("inc_lr", "plateau")] == 0.7
    assert rules.initial_weights[("inc_dropout", "overfitting")] == 0.2  # the later file wins
    assert rules.thresholds["acc_gap"] == 0.3 and rules.thresholds["plateau_drop"] == 0.001
    assert rules.sources[-1] == tmp_path / "plateau.pl"


def test_extend_dir_must_exist_and_hold_rules(tmp_path):
    with pytest.raises(RulesError, match="holds no .pl files"):
        load_rules(tmp_path)
    with pytest.raises(RulesError, match="does not exist"):
        load_rules(tmp_path / "nope")
    with pytest.raises(RulesError, match="rules mode 'both'"):
        load_rules(mode="both")


def test_shipped_files_are_not_modified(tmp_path):
    before = [(p, p.read_bytes()) for p in sorted(SHIPPED_DIR.glob("*.pl"))]
    write(tmp_path, "x.pl", "0.2::action(inc_dropout, overfitting) :- problem(overfitting).\n")
    load_rules(tmp_path, thresholds={"acc_gap": 0.5})
    assert [(p, p.read_bytes()) for p in sorted(SHIPPED_DIR.glob("*.pl"))] == before
