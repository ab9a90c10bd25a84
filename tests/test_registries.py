"""The extension points: the generic registry, optimizers, per-epoch stoppers, tuning actions with their rules."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest

from symtuner.core.architecture import Architecture
from symtuner.core.errors import ConfigError, RulesError
from symtuner.core.records import LearningCurve
from symtuner.core.registry import Registry, check_callable
from symtuner.core.settings import StudySettings
from symtuner.core.space import default_space
from symtuner.search.optimizers import (
    OPTIMIZERS,
    OPTIMIZERS_REGISTRY,
    RandomSearch,
    make_optimizer,
    optimizer_names,
    register_optimizer,
)
from symtuner.search.pruners import (
    STOPPERS_REGISTRY,
    HyperbandStopper,
    MedianPruningStopper,
    StopperContext,
    make_stopper,
    register_stopper,
    stopper_names,
)
from symtuner.symbolic.engine import SymbolicEngine, analyse
from symtuner.symbolic.facts import curve_facts
from symtuner.symbolic.lfi import learn_weights
from symtuner.symbolic.rules import RULE_EXTENSIONS, load_rules, register_rules
from symtuner.tuning.actions import (
    ACTIONS,
    OPPOSITES,
    ActionContext,
    ActionSettings,
    NotApplicable,
    actions_restored,
    apply_action,
    describe_change,
    is_applicable,
    register_action,
    require_known,
    unregister_action,
    why_not,
)


@pytest.fixture(autouse=True)
def fresh_registries():
    """Every test starts from, and leaves, the built-in registrations only."""
    with OPTIMIZERS_REGISTRY.temporarily(), STOPPERS_REGISTRY.temporarily(), actions_restored():
        yield
    assert set(ACTIONS) == {"reg_l2", "batch_norm", "inc_dropout", "data_augmentation", "decr_lr", "inc_lr",
                            "inc_neurons", "inc_batch_size", "new_fc_layer", "new_conv_layer", "drop_optimizer",
                            "decr_neurons", "remove_fc_layer", "remove_conv_layer", "decr_dropout", "decr_l2",
                            "decr_batch_size", "drop_activation"}
    assert len(RULE_EXTENSIONS) == 0


# -- the generic registry -------------------------------------------------------------
def test_registry_registers_gets_and_lists_sorted_names():
    reg: Registry[int] = Registry("colour")
    assert reg.register("red", 1) == 1
    reg.register("blue", 2)
    assert reg.get("red") == 1 and "blue" in reg and "green" not in reg and 5 not in reg
    assert reg.names() == ("blue", "red") and list(reg) == ["blue", "red"] and len(reg) == 2
    with pytest.raises(ConfigError, match=r"colour 'green' is not one of \['blue', 'red'\]"):
        reg.get("green")
    with pytest.raises(ConfigError, match="colour 'red' is already registered"):
        reg.register("red", 3)
    reg.register("red", 3, replace=True)
    assert reg.get("red") == 3
    assert reg.unregister("red") == 3 and reg.names() == ("blue",)
    with pytest.raises(ConfigError, match="colour 'red' is not one of"):
        reg.unregister("red")
    with pytest.raises(TypeError):
        reg.as_mapping()["x"] = 1  # type: ignore[index]


@pytest.mark.parametrize("name", ["", "a b", "1st", 5, None, "x;y"])
def test_registry_rejects_bad_names(name):
    with pytest.raises(ConfigError, match="colour name .* is not valid"):
        Registry[int]("colour").register(name, 1)  # type: ignore[arg-type]


def test_registry_temporarily_restores_and_check_rejects():
    reg: Registry[object] = Registry("hook", check=check_callable("hook"))
    reg.register("a", print)
    with reg.temporarily():
        reg.register("b", len)
        reg.unregister("a")
        assert reg.names() == ("b",)
    assert reg.names() == ("a",)
    with pytest.raises(ConfigError, match="hook 'c' must be registered with a callable"):
        reg.register("c", 42)
    assert "c" not in reg


# -- optimizers -----------------------------------------------------------------------
def test_builtin_optimizers_and_unknown_names():
    assert OPTIMIZERS == ("gp", "random", "tpe")
    assert optimizer_names() == ("gp", "random", "tpe")
    assert make_optimizer("random").name == "random"
    with pytest.raises(ConfigError, match=r"optimizer 'bohb' is not one of \['gp', 'random', 'tpe'\]"):
        make_optimizer("bohb")


def test_register_optimizer():
    made = []

    def factory(n_initial: int) -> RandomSearch:
        made.append(n_initial)
        return RandomSearch()

    register_optimizer("mine", factory)
    assert "mine" in optimizer_names()
    optimizer = make_optimizer("mine", n_initial=7)
    assert isinstance(optimizer, RandomSearch) and made == [7]
    assert default_space().contains(optimizer.ask(default_space(), [], seed=1))
    with pytest.raises(ConfigError, match="optimizer 'gp' is already registered"):
        register_optimizer("gp", factory)
    with pytest.raises(ConfigError, match="must be registered with a callable"):
        register_optimizer("bad", "gp")  # type: ignore[arg-type]


def test_registrations_do_not_leak_between_tests():
    assert "mine" not in optimizer_names()


# -- settings leave names to the registries -------------------------------------------
def test_settings_check_the_shape_and_leave_names_to_the_registries():
    assert StudySettings(optimizer="bohb").optimizer == "bohb"  # the registry rejects it (above)
    assert StudySettings(pruner="hyperband").pruner == "hyperband"
    for name in ("optimizer", "pruner"):
        for bad in ("", "  ", 5, None):
            with pytest.raises(ConfigError, match=f"{name} must be a non-empty string"):
                StudySettings(**{name: bad})
        with pytest.raises(ConfigError, match=f"{name} ' tpe' must not start or end with blanks"):
            StudySettings(**{name: " tpe"})
    with pytest.raises(ConfigError, match=r"pruner 'bohb' is not one of \['hyperband', 'median', 'none'\]"):
        STOPPERS_REGISTRY.get("bohb")


# -- stoppers -------------------------------------------------------------------------
def curve(val_auc, val_loss, val_accuracy=None) -> LearningCurve:
    n = len(val_auc)
    return LearningCurve((1.0,) * n, (0.5,) * n, tuple(val_loss), tuple(val_accuracy or (0.5,) * n),
                         metrics={"val_auc": tuple(val_auc)})


def test_stopper_context_holds_plain_frozen_values():
    ctx = StopperContext("val_auc", True, 3, [[0.5, None, 0.7]], extra={"engine": "x"})  # type: ignore[arg-type]
    assert ctx.finished_curves[0][:1] == (0.5,) and math.isnan(ctx.finished_curves[0][1])
    with pytest.raises(TypeError):
        ctx.extra["engine"] = "y"  # type: ignore[index]
    with pytest.raises(ConfigError, match="epochs must be a positive integer"):
        StopperContext("val_auc", True, 0)
    with pytest.raises(ConfigError, match="make_stopper needs a StopperContext"):
        make_stopper("median", {"objective": "val_auc"})  # type: ignore[arg-type]


def test_builtin_stoppers_and_registering_one_from_above():
    ctx = StopperContext("val_auc", True, 3, ((0.5, 0.6, 0.7),) * 5, extra={"limit": 0.2})
    assert {"none", "median", "hyperband"} <= set(stopper_names())
    assert make_stopper("none", ctx) is None
    assert isinstance(make_stopper("median", ctx), MedianPruningStopper)
    assert isinstance(make_stopper("hyperband", ctx), HyperbandStopper)
    with pytest.raises(ConfigError, match=r"pruner 'asha' is not one of \['hyperband', 'median', 'none'\]"):
        make_stopper("asha", ctx)

    def below_limit(context: StopperContext):
        def stop(running: LearningCurve) -> str:
            value = running.series(context.objective)[-1]
            return f"{context.objective} {value} below {context.extra['limit']}" if value < context.extra["limit"] else ""
        return stop

    register_stopper("below", below_limit)
    stopper = make_stopper("below", ctx)
    assert stopper is not None
    assert stopper(curve([0.1], [1.0])) == "val_auc 0.1 below 0.2"
    assert stopper(curve([0.3], [1.0])) == ""
    with pytest.raises(ConfigError, match="pruner 'median' is already registered"):
        register_stopper("median", below_limit)


#: Five finished trials whose val_auc is 0.6, 0.65, 0.7 after epochs 1-3 (median 0.7 at epoch 3).
FINISHED_AUC = tuple((0.6 + d, 0.65 + d, 0.7 + d) for d in (-0.02, -0.01, 0.0, 0.01, 0.02))


def test_median_pruner_reads_the_objectives_own_series():
    """The running trial's val_auc is compared, not its val_loss (nor its val_accuracy)."""
    stopper = make_stopper("median", StopperContext("val_auc", True, 3, FINISHED_AUC))
    assert stopper is not None
    # good AUC, bad val_loss (and a val_loss below the AUC median, which read as the objective would prune)
    good = curve([0.7, 0.8, 0.9], [0.5, 0.6, 0.69], val_accuracy=[0.1, 0.1, 0.1])
    assert stopper(good) == ""
    # AUC below the median, while val_loss and val_accuracy read as the objective would look fine
    bad = curve([0.5, 0.55, 0.6123], [3.0, 4.0, 5.0], val_accuracy=[0.95, 0.96, 0.97])
    reason = stopper(bad)
    assert reason.startswith("Optuna's MedianPruner: val_auc 0.6123 after epoch 3 is worse than the median")


def test_median_pruner_minimising_a_loss():
    finished = tuple((1.0 + d, 0.8 + d, 0.6 + d) for d in (-0.02, -0.01, 0.0, 0.01, 0.02))
    stopper = MedianPruningStopper(finished, "val_loss", maximize=False)
    assert stopper(curve([0.1, 0.1], [0.9, 0.7])) == ""
    assert "val_loss 0.9000 after epoch 2" in stopper(curve([0.9, 0.9], [1.2, 0.9]))


def _auc_curves(n: int, epochs: int) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(0.5 + 0.04 * e + 0.01 * (i % 5) for e in range(1, epochs + 1)) for i in range(n))


def test_hyperband_stopper(monkeypatch):
    import optuna

    made = []
    real = optuna.pruners.HyperbandPruner

    class Spy(real):  # type: ignore[misc, valid-type]
        def __init__(self, **kwargs):
            made.append(kwargs)
            super().__init__(**kwargs)

    monkeypatch.setattr(optuna.pruners, "HyperbandPruner", Spy)
    ctx = StopperContext("val_auc", True, 9, _auc_curves(12, 9))
    stopper = make_stopper("hyperband", ctx)
    assert stopper is not None
    assert made[0] == {"min_resource": 1, "max_resource": 9, "reduction_factor": 3}

    def first_stop(value: float, loss: float) -> tuple[int, str]:
        for k in range(1, 10):
            reason = stopper(curve([value] * k, [loss] * k))
            if reason:
                return k, reason
        return 0, ""

    # a hopeless AUC is stopped before the end (its val_loss, read as a maximised objective, would look great)
    epoch, reason = first_stop(0.1, 50.0)
    assert 1 <= epoch < 9
    assert reason == (f"Optuna's HyperbandPruner: val_auc 0.1000 after epoch {epoch} is not among the best 1/3 "
                      "of the trials of its bracket at that epoch")
    # a trial better than every finished one goes on, whatever its val_loss; so does the last epoch
    assert first_stop(0.99, -50.0) == (0, "")
    # the same inputs always give the same answer (the replayed study's brackets are fixed)
    again = make_stopper("hyperband", ctx)
    assert again is not None and again(curve([0.1] * epoch, [50.0] * epoch)) == reason
    # a diverged trial is pruned at its first rung
    nan_epoch, nan_reason = first_stop(math.nan, math.nan)
    assert nan_epoch >= 1 and "val_auc nan" in nan_reason


def test_hyperband_needs_epochs():
    with pytest.raises(ConfigError, match="pruner 'hyperband' needs at least 1 epochs"):
        HyperbandStopper((), "val_auc", True, 0)


# -- tuning actions with their rules -----------------------------------------------------
OVERFIT = LearningCurve((1.5, 0.6, 0.2, 0.05, 0.02), (0.6, 0.85, 0.95, 0.98, 0.99),
                        (1.4, 1.0, 1.1, 1.3, 1.5), (0.55, 0.68, 0.70, 0.71, 0.7))
SHRINK_RULE = "0.95::action(shrink_lr, overfitting) :- acted_on(overfitting).\n"


def shrink_lr(space, arch, ctx):
    """Halve the learning rate's upper bound (a space-only action)."""
    dim = space["learning_rate"]
    if dim.high / 2 <= dim.low:
        raise NotApplicable("shrink_lr: learning-rate range too narrow")
    return space.with_bounds("learning_rate", dim.low, dim.high / 2), arch


def test_registered_action_is_chosen_and_applied_by_the_symbolic_step():
    register_action("shrink_lr", shrink_lr, SHRINK_RULE)
    assert "shrink_lr" in ACTIONS
    rules = load_rules()
    assert rules.initial_weights[("shrink_lr", "overfitting")] == 0.95
    assert rules.registered == (("shrink_lr", SHRINK_RULE),)
    require_known(rules.actions)  # the study's check passes
    engine = SymbolicEngine(rules)
    space, arch = default_space(), Architecture()
    ctx = ActionContext(best_params=None, conv_room=1, settings=ActionSettings(batch_norm_steps=0),
                        trial_params={"batch_size": 32, "learning_rate": 5e-4}, n_train=2000, epochs=5)
    diagnosis = analyse(OVERFIT, 10, rules.initial_weights, engine,
                        lambda name, problem: is_applicable(name, space, arch, replace(ctx, problem=problem)),
                        random.Random(0), opposites=OPPOSITES)
    assert diagnosis.problems == ("overfitting",)
    chosen = {a.name: (a.problem, a.probability) for a in diagnosis.actions}
    assert chosen["shrink_lr"] == ("overfitting", pytest.approx(0.95))
    assert "shrink_lr" in diagnosis.explanation
    new_space, new_arch = apply_action("shrink_lr", space, arch, replace(ctx, problem="overfitting"))
    assert new_space["learning_rate"].high == pytest.approx(space["learning_rate"].high / 2) and new_arch == arch
    assert describe_change(space, arch, new_space, new_arch) == ["learning_rate high 0.001 -> 0.0005"]
    # not applicable any more: the choice passes it over and says why
    narrow = space.with_bounds("learning_rate", 4e-4, 6e-4)
    again = analyse(OVERFIT, 10, rules.initial_weights, engine,
                    lambda name, problem: is_applicable(name, narrow, arch, replace(ctx, problem=problem)),
                    random.Random(0), opposites=OPPOSITES,
                    reason_of=lambda name, problem: why_not(name, narrow, arch, replace(ctx, problem=problem)))
    assert "shrink_lr" not in {a.name for a in again.actions}
    assert "shrink_lr (not applicable: shrink_lr: learning-rate range too narrow)" in again.skipped
    # its weight is learned like a shipped rule's, and the learned weight ranks it
    learned = learn_weights(rules.initial_weights, [("shrink_lr", "overfitting", False)] * 3)
    assert learned[("shrink_lr", "overfitting")] < 0.5
    _, ranked = engine.diagnose(curve_facts(OVERFIT, 10), learned)
    names = [name for name, _ in ranked["overfitting"]]
    assert names.index("shrink_lr") > names.index("inc_dropout")  # from 0.95 to below the shipped 0.4


def test_registered_rules_are_checked_like_shipped_ones(tmp_path):
    with pytest.raises(RulesError, match=r"<registered shrink_lr>:2: "):
        register_action("shrink_lr", shrink_lr, "% a comment\n0.5::action(shrink_lr, overfitting :- x.\n")
    assert "shrink_lr" not in ACTIONS and "shrink_lr" not in RULE_EXTENSIONS
    with pytest.raises(RulesError, match=r"<registered shrink_lr>: no rule chooses action shrink_lr"):
        register_action("shrink_lr", shrink_lr, "0.5::action(reg_l2, underfitting) :- acted_on(underfitting).")
    with pytest.raises(RulesError, match=r"<registered shrink_lr>:1: an action/2 rule needs a probability"):
        register_action("shrink_lr", shrink_lr, "action(shrink_lr, overfitting) :- acted_on(overfitting).")
    with pytest.raises(RulesError, match=r"<registered shrink_lr>:1: unknown fact 'acc_gapp'"):
        register_action("shrink_lr", shrink_lr,
                        "0.5::action(shrink_lr, overfitting) :- fact(acc_gapp, G), G > 0.1.")
    assert "shrink_lr" not in ACTIONS and len(RULE_EXTENSIONS) == 0
    # what only the whole rule base tells is checked when it is loaded
    register_action("shrink_lr", shrink_lr,
                    "0.5::action(shrink_lr, overfitting) :- threshold(no_such, T), T > 0.1.")
    with pytest.raises(RulesError, match=r"<registered shrink_lr>:1: unknown threshold 'no_such'"):
        load_rules()


def test_registered_rule_order_and_user_files(tmp_path):
    register_action("shrink_lr", shrink_lr, SHRINK_RULE)
    # a user file may re-weight a registered rule (it comes after the registered rules)
    (tmp_path / "mine.pl").write_text("0.2::action(shrink_lr, overfitting) :- acted_on(overfitting).\n")
    rules = load_rules(tmp_path)
    assert rules.initial_weights[("shrink_lr", "overfitting")] == 0.2
    assert rules.sources[-1] == tmp_path / "mine.pl"


def test_action_names_opposites_and_unregistering():
    with pytest.raises(ConfigError, match="tuning action 'reg_l2' is built in"):
        register_action("reg_l2", shrink_lr, SHRINK_RULE)
    with pytest.raises(ConfigError, match="tuning action name 'Shrink' is not valid"):
        register_action("Shrink", shrink_lr, SHRINK_RULE)
    with pytest.raises(ConfigError, match="must be registered with a callable"):
        register_action("shrink_lr", "nope", SHRINK_RULE)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"opposites of tuning action 'shrink_lr' must be other registered"):
        register_action("shrink_lr", shrink_lr, SHRINK_RULE, opposites=("grow_lr",))
    assert len(RULE_EXTENSIONS) == 0
    register_action("shrink_lr", shrink_lr, SHRINK_RULE, opposites="inc_lr")
    assert OPPOSITES["shrink_lr"] == ("inc_lr",) and OPPOSITES["inc_lr"] == ("decr_lr", "drop_optimizer", "shrink_lr")
    with pytest.raises(ConfigError, match="tuning action 'shrink_lr' is already registered"):
        register_action("shrink_lr", shrink_lr, SHRINK_RULE)
    register_action("shrink_lr", shrink_lr, SHRINK_RULE.replace("0.95", "0.9"), replace=True)
    assert load_rules().initial_weights[("shrink_lr", "overfitting")] == 0.9
    assert "shrink_lr" not in OPPOSITES and OPPOSITES["inc_lr"] == ("decr_lr", "drop_optimizer")
    assert unregister_action("shrink_lr") is shrink_lr
    assert "shrink_lr" not in ACTIONS and ("shrink_lr", "overfitting") not in load_rules().initial_weights
    with pytest.raises(RulesError, match=r"cannot apply: \['shrink_lr'\]"):
        require_known(["shrink_lr"])
    with pytest.raises(ConfigError, match="tuning action 'inc_lr' is built in and cannot be removed"):
        unregister_action("inc_lr")


def test_rules_alone_can_be_registered():
    register_rules("more_dropout", "0.95::action(inc_dropout, underfitting) :- acted_on(underfitting).")
    assert load_rules().initial_weights[("inc_dropout", "underfitting")] == 0.95
    with pytest.raises(ConfigError, match="registered rules 'more_dropout' are already registered"):
        register_rules("more_dropout", "0.5::action(inc_dropout, underfitting).")
