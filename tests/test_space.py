import pytest

from symtuner.core.errors import ConfigError
from symtuner.core.space import Categorical, Integer, Real, SearchSpace, default_space, dimension_from_dict


def test_default_space_is_the_papers():
    space = default_space()
    assert space.names == ["unit_c1", "dr1_2", "unit_c2", "unit_d", "dr_f", "learning_rate", "batch_size",
                           "optimizer", "activation"]
    assert (space["unit_c1"].low, space["unit_c1"].high) == (16, 64)
    assert space["learning_rate"].prior == "log-uniform"
    assert space["activation"].categories == ("relu", "elu", "selu")


@pytest.mark.parametrize("make, message", [
    (lambda: Integer("a", 5, 5), "'a': low 5 must be < high 5"),
    (lambda: Integer("a", 1.5, 5), "not an integer"),
    (lambda: Real("lr", 0.1, 0.01), "'lr': low 0.1 must be < high 0.01"),
    (lambda: Real("lr", 0.0, 1.0, "log-uniform"), "log-uniform prior needs low > 0"),
    (lambda: Real("lr", 0.1, 1.0, "gaussian"), "prior 'gaussian'"),
    (lambda: Real("x", float("nan"), 1.0), "not a finite number"),
    (lambda: Categorical("opt", ()), "'opt': categories must not be empty"),
    (lambda: Categorical("opt", ("a", "a")), "repeat a value"),
    (lambda: Integer("bad name", 1, 2), "'bad name' must be a Python identifier"),
    (lambda: SearchSpace((Integer("a", 1, 2), Real("a", 0.0, 1.0))), "'a' appears twice"),
    (lambda: SearchSpace(()), "at least one dimension"),
])
def test_validation_names_the_bad_dimension(make, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()


def test_changes_return_new_spaces():
    space = default_space()
    narrowed = space.with_bounds("learning_rate", 1e-4, 5e-4)
    assert narrowed["learning_rate"].high == 5e-4
    assert space["learning_rate"].high == 1e-3  # unchanged
    added = space.with_dimension(Real("l2", 1e-5, 1e-2, "log-uniform"), fill=1e-5)
    assert "l2" in added and "l2" not in space
    assert added.fill_for("l2") == 1e-5
    with pytest.raises(ConfigError, match="low 0.5 must be < high 0.1"):
        space.with_bounds("dr_f", 0.5, 0.1)
    with pytest.raises(ConfigError, match="categorical"):
        space.with_bounds("optimizer", 0, 1)
    with pytest.raises(ConfigError, match="appears twice"):
        added.with_dimension(Real("l2", 1e-5, 1e-2), fill=1e-5)
    with pytest.raises(KeyError, match="no dimension named 'nope'"):
        space["nope"]


def test_project_clips_and_fills():
    old = {"unit_c1": 20, "dr1_2": 0.1, "unit_c2": 100, "unit_d": 300, "dr_f": 0.2, "learning_rate": 9e-4,
           "batch_size": 32, "optimizer": "Adadelta", "activation": "relu"}
    new = (default_space().with_bounds("learning_rate", 1e-4, 5e-4).with_bounds("unit_c1", 32, 64)
           .with_dimension(Real("l2", 1e-5, 1e-2, "log-uniform"), fill=1e-5)
           .with_dimension(Integer("unit_fc1", 32, 512), fill=32))
    projected = new.project(old)
    assert projected["learning_rate"] == 5e-4
    assert projected["unit_c1"] == 32
    assert projected["l2"] == 1e-5 and projected["unit_fc1"] == 32
    assert projected["optimizer"] == "Adadelta"
    assert new.contains(projected)
    assert not new.contains(old)


def test_round_trip_through_dict():
    space = default_space().with_dimension(Real("l2", 1e-5, 1e-2, "log-uniform"), fill=1e-5)
    assert SearchSpace.from_dict(space.to_dict()) == space
    with pytest.raises(ConfigError, match="type 'float'"):
        dimension_from_dict({"type": "float", "name": "x", "low": 0, "high": 1})
    with pytest.raises(ConfigError, match="missing key 'high'"):
        dimension_from_dict({"type": "int", "name": "x", "low": 0})
