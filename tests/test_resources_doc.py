"""docs/resources.md says what the code does: its config, Python and command-line examples, and its explanations."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

import symtuner
from symtuner.app.cli_parser import build_parser
from symtuner.core.records import LearningCurve
from symtuner.core.settings import StudySettings, load_config
from symtuner.symbolic.engine import SymbolicEngine, analyse
from symtuner.symbolic.resources import cost_facts
from symtuner.symbolic.rules import load_rules

DOC = Path(__file__).resolve().parent.parent / "docs" / "resources.md"


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_config_block_reads(tmp_path):
    (config := tmp_path / "c.toml").write_text(blocks("toml")[0], encoding="utf-8")
    settings = StudySettings.from_dict(load_config(config).settings)
    assert settings.limits == {"params": 2.5e6, "flops": 150e6}
    assert (settings.limit_mode, settings.limit_penalty) == ("hard", 1.0)


def test_the_python_block_gives_the_tuner_its_limits(monkeypatch):
    made = {}

    class Recording:
        def __init__(self, directory, **options):
            made.update(options, directory=directory)

        def run(self, trials):
            made["trials"] = trials

    monkeypatch.setattr(symtuner, "Tuner", Recording, raising=False)
    exec(blocks("python")[0], {})  # noqa: S102 - the documentation's own example
    assert made["settings"].limits == {"params": 100_000, "latency_ms": 5.0} and made["trials"] == 10


def test_the_command_lines_parse():
    for line in blocks("sh")[0].strip().splitlines():
        args = build_parser().parse_args(line.split()[1:])
        assert args.max_params in (100_000, 2.5e6)


@pytest.mark.parametrize("costs, limits, previous", [
    ({"params": 3.1e6}, {"params": 2.5e6}, None),
    ({"params": 2.4e6}, {"params": 2.5e6}, {"params": 2.0e6}),
])
def test_the_explanations_shown_are_the_rules_own(costs, limits, previous):
    curve = LearningCurve((2.0, 1.0, 0.6, 0.5), (0.5, 0.8, 0.9, 0.92), (1.8, 1.1, 0.8, 0.7), (0.5, 0.7, 0.8, 0.82))
    engine = SymbolicEngine(load_rules())
    found = analyse(curve, 10, engine.rules.initial_weights, engine, lambda _a, _p: True, random.Random(0),
                    extra_facts=cost_facts(costs, limits, previous))
    part = next(p for p in found.explanation.split("; ") if "model_size" in p)
    assert part in blocks("text")[0]
