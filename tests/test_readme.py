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
    number, objective, model_path = capsys.readouterr().out.split()
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
