"""The README's Python example runs as written (on a tiny budget, in a temporary directory)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"


@pytest.mark.keras
def test_readme_python_api_example(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    example = next(b for b in blocks if "Tuner(" in b)
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})  # noqa: S102 - our own documentation
    number, objective, model_path = capsys.readouterr().out.splitlines()[-1].split()  # after the progress lines
    assert 0.0 <= float(objective) <= 1.0
    assert Path(model_path).is_file() and (tmp_path / "my-study" / "study.db").is_file()


def test_readme_network_example_builds(tmp_path):
    import keras

    from symtuner.architecture import Architecture
    from symtuner.neural.checks import check_network

    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    namespace: dict = {}
    exec(compile(next(b for b in blocks if "def build" in b), "README.md", "exec"), namespace)  # noqa: S102
    arch = Architecture(l2=True, batch_norm=True, augmentation=True, extra_dense=1)
    params = {"unit_c1": 8, "unit_d": 16, "unit_fc1": 8, "l2": 1e-4, "activation": "relu"}
    model = namespace["build"](params, arch, (12, 12, 1), 3)
    assert isinstance(model, keras.Model) and model.output_shape == (None, 3)
    assert check_network(model, arch, params) == []


def test_readme_own_rules_example_gives_the_output_shown(tmp_path, capsys):
    from symtuner.cli import main

    text = README.read_text()
    rules = re.search(r"```prolog\n(% my_rules/still_improving.pl\n.*?)```", text, flags=re.S).group(1)
    shown = re.search(r"\$ symtuner diagnose (\S+) --rules my_rules\n(.*?)```", text, flags=re.S)
    (tmp_path / "my_rules").mkdir()
    (tmp_path / "my_rules" / "still_improving.pl").write_text(rules)
    root = README.parent
    assert main(["diagnose", str(root / shown.group(1)), "--rules", str(tmp_path / "my_rules")]) == 0
    assert capsys.readouterr().out == shown.group(2)


def test_readme_diagnose_text_example_gives_the_output_shown(capsys):
    from symtuner.cli import main

    text = README.read_text()
    shown = re.search(r"\$ symtuner diagnose (tests/data/curves/digits_low_lr_sgd\.json)\n(.*?)\$ ", text,
                      flags=re.S)
    assert main(["diagnose", str(README.parent / shown.group(1))]) == 0
    assert capsys.readouterr().out == shown.group(2)
