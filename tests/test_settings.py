import pytest

from symtuner.core.errors import ConfigError
from symtuner.core.plugins import load_callable
from symtuner.core.settings import StudySettings, load_config
from symtuner.core.space import default_space


def test_full_config(tmp_path):
    (tmp_path / "rules").mkdir()
    path = tmp_path / "study.toml"
    path.write_text('''
[study]
dataset = "digits-small"
trials = 7
epochs = 2
seed = 3
optimizer = "random"
objective = "val_loss"

[network]
flip = true
max_dense_layers = 2

[rules]
dir = "rules"
[rules.thresholds]
acc_gap = 0.25

[[space]]
type = "int"
name = "unit_c1"
low = 8
high = 32

[[space]]
type = "cat"
name = "optimizer"
categories = ["Adam"]
''')
    config = load_config(path)
    settings = StudySettings.from_dict(config.settings)
    assert config.trials == 7
    assert settings.dataset == "digits-small" and settings.epochs == 2 and settings.seed == 3
    assert settings.optimizer == "random" and not settings.maximize
    assert settings.flip and settings.max_dense_layers == 2
    assert settings.rules_dir == str(tmp_path / "rules") and settings.thresholds == {"acc_gap": 0.25}
    # [[space]] entries override the default space's dimensions of their name, the rest stays
    space = config.space.apply()  # the entries, applied to the default space of images
    assert space.names == default_space().names
    assert (space["unit_c1"].low, space["unit_c1"].high) == (8, 32)
    assert space["optimizer"].categories == ("Adam",)
    assert space["unit_d"] == default_space()["unit_d"]


def test_config_space_entries_add_new_dimensions_last(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text("[[space]]\ntype = 'real'\nname = 'learning_rate'\nlow = 1e-3\nhigh = 1e-2\n"
                    "[[space]]\ntype = 'int'\nname = 'unit_x'\nlow = 1\nhigh = 4\n")
    space = load_config(path).space.apply()
    assert space.names == default_space().names + ["unit_x"]
    assert space["learning_rate"].low == 1e-3 and space["learning_rate"].prior == "uniform"


def test_config_space_replace_mode_is_a_whole_space(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text("[space]\nmode = 'replace'\n[[space.dimensions]]\ntype = 'int'\nname = 'units'\n"
                    "low = 1\nhigh = 4\n")
    assert load_config(path).space.names == ["units"]
    path.write_text("[space]\nmode = 'merge'\n[[space.dimensions]]\ntype = 'int'\nname = 'unit_c1'\n"
                    "low = 2\nhigh = 4\n")
    assert load_config(path).space.apply().names == default_space().names


def test_config_network_callbacks(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[network]\ncallbacks = 'pkg.mod:make'\n")
    assert load_config(path).callbacks == "pkg.mod:make"
    path.write_text("[network]\ncallbacks = 3\n")
    with pytest.raises(ConfigError, match="\\[network\\] callbacks must be a 'module:function'.*got 3"):
        load_config(path)


@pytest.mark.parametrize("text, message", [
    ("[space]\nmode = 'swap'\n", "\\[space\\] mode 'swap' is not one of \\['merge', 'replace'\\]"),
    ("[space]\nmode = 'replace'\n", "a search space needs at least one dimension"),
    ("[space]\nkind = 1\n", "unknown keys \\['kind'\\] in \\[space\\]"),
    ("space = 3\n", "space must be an array of tables"),
    ("[[space]]\ntype = 'int'\nname = 'a'\nlow = 1\nhigh = 2\n[[space]]\ntype = 'int'\nname = 'a'\n"
     "low = 1\nhigh = 3\n", "dimension name 'a' appears twice"),
])
def test_bad_config_spaces(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


@pytest.mark.parametrize("text, message", [
    ("[study]\nepochs = 0\n", "epochs must be a positive integer, got 0"),
    # names are the registries' to check (symtuner.search.optimizers / .pruners), the shape is checked here
    ("[study]\noptimizer = 5\n", "optimizer must be a non-empty string, got 5"),
    ("[study]\npruner = ''\n", "pruner must be a non-empty string, got ''"),
    ("[study]\ncolour = 'red'\n", "unknown keys \\['colour'\\] in \\[study\\]"),
    ("[trainer]\n", "unknown sections \\['trainer'\\]"),
    ("[[space]]\ntype = 'int'\nname = 'a'\nlow = 9\nhigh = 2\n", "'a': low 9 must be < high 2"),
    ("[study\n", "is not valid TOML"),
])
def test_bad_configs(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        StudySettings.from_dict(load_config(path).settings)


def test_missing_config(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_load_callable(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text("def build():\n    return 42\n")
    assert load_callable(f"{path}:build")() == 42
    assert load_callable("json:dumps")([1]) == "[1]"
    with pytest.raises(ConfigError, match="has no function 'nope'"):
        load_callable(f"{path}:nope")
    with pytest.raises(ConfigError, match="cannot import module 'no_such_mod'"):
        load_callable("no_such_mod:f")
    with pytest.raises(ConfigError, match="must look like"):
        load_callable("just_a_name")
    with pytest.raises(ConfigError, match="does not exist"):
        load_callable(str(tmp_path / "missing.py") + ":f")


def test_seeds_stay_in_the_32_bit_range():
    from symtuner.study.seeds import derived_seed

    assert derived_seed(3, 7) == 3 * 100_003 + 7
    assert 0 <= derived_seed(2**32 - 1, 10**6) < 2**32
    StudySettings(seed=2**32 - 1)
    with pytest.raises(ConfigError, match="seed must be below 2\\*\\*32"):
        StudySettings(seed=2**32)
