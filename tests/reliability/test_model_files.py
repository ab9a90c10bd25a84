"""A study's model files are not trusted: a crafted ``.keras`` archive (a config nested thousands deep,
a config that unpacks to gigabytes) is named in the report, never a crash or a memory blow-up."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from symtuner.app.cli import main
from symtuner.app.dashboard.model_summary import read_layers
from symtuner.core.errors import StudyError
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.storage.models import MAX_CONFIG_BYTES
from symtuner.tuner import Tuner


def _archive(path: Path, config: bytes) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", config)
    return path


def _nested_layers(depth: int) -> bytes:
    inner = b'{"class_name": "Dense", "config": {"name": "d", "units": 3}}'
    for _ in range(depth):
        inner = b'{"class_name": "Sequential", "config": {"name": "m", "layers": [' + inner + b"]}}"
    return inner


CRAFTED = {
    "lists-nested-200000-deep": b"[" * 200_000 + b"]" * 200_000,
    "models-nested-3000-deep": _nested_layers(3000),
    "a-shape-nested-900-deep": b'{"class_name": "Dense", "config": {"name": "d", "batch_shape": '
                               + b"[" * 900 + b"]" * 900 + b"}}",
    "unpacks-past-the-limit": b'{"pad": "' + b" " * (MAX_CONFIG_BYTES + 10) + b'"}',
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_a_crafted_model_file_is_refused_or_listed(tmp_path, name):
    path = _archive(tmp_path / "m.keras", CRAFTED[name])
    try:
        layers = read_layers(path)
    except StudyError as exc:
        assert str(path) in str(exc)
    else:
        assert layers


def test_a_model_that_unpacks_to_gigabytes_is_not_read(tmp_path):
    path = _archive(tmp_path / "m.keras", CRAFTED["unpacks-past-the-limit"])
    assert path.stat().st_size < MAX_CONFIG_BYTES // 100  # small on disk
    with pytest.raises(StudyError, match="more than 16 MB"):
        read_layers(path)


def test_report_names_a_crafted_model_file_and_writes_the_rest(tmp_path, tiny_dataset, capfd):
    study = tmp_path / "study"
    Tuner(study, dataset=tiny_dataset, executor_factory=SimulatedExecutor, quiet=True).run(2)
    (study / "models").mkdir(exist_ok=True)
    for number in (1, 2):
        _archive(study / "models" / f"trial_{number:04d}.keras", CRAFTED["lists-nested-200000-deep"])
    out = tmp_path / "r.html"
    assert main(["report", str(study), "-o", str(out)]) == 0
    assert "nested too deeply" in out.read_text()
    assert "internal error" not in capfd.readouterr().err
