import pytest

from symtuner.errors import ConfigError
from symtuner.plugins import load_callable
from symtuner.settings import StudySettings, load_config


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
    assert config.space.names == ["unit_c1", "optimizer"]


@pytest.mark.parametrize("text, message", [
    ("[study]\nepochs = 0\n", "epochs must be a positive integer, got 0"),
    ("[study]\noptimizer = 'bohb'\n", "optimizer 'bohb' is not one of"),
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
    from symtuner.tuner import derived_seed

    assert derived_seed(3, 7) == 3 * 100_003 + 7
    assert 0 <= derived_seed(2**32 - 1, 10**6) < 2**32
    StudySettings(seed=2**32 - 1)
    with pytest.raises(ConfigError, match="seed must be below 2\\*\\*32"):
        StudySettings(seed=2**32)
