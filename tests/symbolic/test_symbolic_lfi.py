"""LFI re-learning of the tuning rules' weights from evidence (the evidence itself: tests/tuning/test_evidence.py)."""

from __future__ import annotations

import pytest

from symtuner.core.errors import ConfigError
from symtuner.symbolic.lfi import PRIOR_STRENGTH, learn_weights
from symtuner.symbolic.rules import load_rules

INITIAL = load_rules().initial_weights


# -- learning ----------------------------------------------------------------
def test_no_evidence_keeps_the_weights_the_rules_were_written_with():
    weights = learn_weights(INITIAL, [])
    assert weights == INITIAL  # 0.99 too: no evidence, no change shown as learning
    assert all(type(v) is float for v in weights.values())


def test_a_rule_written_above_the_ceiling_keeps_its_weight_while_it_helps():
    helped = learn_weights(INITIAL, [("reg_l2", "overfitting", True)] * 3)
    assert helped[("reg_l2", "overfitting")] == 0.99
    failed = learn_weights(INITIAL, [("reg_l2", "overfitting", False)])
    assert failed[("reg_l2", "overfitting")] == pytest.approx(PRIOR_STRENGTH * 0.99 / (1 + PRIOR_STRENGTH))


def test_weights_move_toward_actions_that_helped_and_away_from_failures():
    evidence = ([("inc_neurons", "underfitting", True)] * 3 + [("new_fc_layer", "underfitting", False)] * 3
                + [("reg_l2", "overfitting", False)])
    weights = learn_weights(INITIAL, evidence)
    assert weights[("inc_neurons", "underfitting")] > INITIAL[("inc_neurons", "underfitting")]
    assert weights[("new_fc_layer", "underfitting")] < INITIAL[("new_fc_layer", "underfitting")]
    assert weights[("reg_l2", "overfitting")] < 0.95
    # posterior mean of a Beta prior worth PRIOR_STRENGTH interpretations, centred on the initial weight
    assert weights[("inc_neurons", "underfitting")] == pytest.approx((3 + PRIOR_STRENGTH * 0.5) / (3 + PRIOR_STRENGTH))
    assert weights[("new_fc_layer", "underfitting")] == pytest.approx((0 + PRIOR_STRENGTH * 0.45) / (3 + PRIOR_STRENGTH))
    untouched = {k: v for k, v in weights.items() if k[0] not in ("inc_neurons", "new_fc_layer", "reg_l2")}
    assert untouched == {k: INITIAL[k] for k in untouched}


def test_learning_uses_all_evidence_in_proportion():
    mixed = [("inc_batch_size", "fluctuating_loss", True)] * 30 + [("inc_batch_size", "fluctuating_loss", False)] * 10
    weight = learn_weights(INITIAL, mixed)[("inc_batch_size", "fluctuating_loss")]
    assert weight == pytest.approx((30 + PRIOR_STRENGTH * 0.85) / (40 + PRIOR_STRENGTH))


def test_weights_never_leave_the_floor_and_ceiling():
    evidence = [("decr_lr", "high_lr", False)] * 200 + [("inc_dropout", "overfitting", True)] * 200
    weights = learn_weights(INITIAL, evidence)
    assert weights[("decr_lr", "high_lr")] == 0.05
    assert weights[("inc_dropout", "overfitting")] == 0.95
    narrow = learn_weights(INITIAL, evidence, floor=0.2, ceiling=0.7)
    assert narrow[("decr_lr", "high_lr")] == 0.2 and narrow[("inc_dropout", "overfitting")] == 0.7
    # a locked-down action recovers once it starts helping again
    recovered = learn_weights(INITIAL, evidence + [("decr_lr", "high_lr", True)] * 400)
    assert recovered[("decr_lr", "high_lr")] > 0.5


def test_learning_is_deterministic_and_order_free():
    evidence = [("inc_neurons", "underfitting", True), ("reg_l2", "overfitting", False),
                ("inc_neurons", "underfitting", False), ("decr_lr", "high_lr", True)] * 5
    first = learn_weights(INITIAL, evidence)
    assert learn_weights(INITIAL, evidence) == first
    assert learn_weights(INITIAL, list(reversed(evidence))) == first


def test_evidence_on_pairs_the_rules_lack_is_ignored():
    weights = learn_weights(INITIAL, [("teleport", "overfitting", True)])
    assert set(weights) == set(INITIAL)


def test_bad_arguments():
    with pytest.raises(ConfigError, match="floor"):
        learn_weights(INITIAL, [], floor=0.6, ceiling=0.5)
    with pytest.raises(ConfigError, match="ceiling"):
        learn_weights(INITIAL, [], ceiling=1.5)
    with pytest.raises(ConfigError, match="initial weight"):
        learn_weights({("a", "p"): 2.0}, [])
    with pytest.raises(ConfigError, match="evidence must be"):
        learn_weights(INITIAL, [("reg_l2", "overfitting", "yes")])  # type: ignore[list-item]


def test_zero_initial_weight_can_still_grow():
    weights = learn_weights({("a", "p"): 0.0}, [("a", "p", True)] * 4, floor=0.0, ceiling=1.0)
    assert weights[("a", "p")] == pytest.approx(4 / (4 + PRIOR_STRENGTH))
