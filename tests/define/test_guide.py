"""The define-by-run guide's Keras, PyTorch and Lightning examples run as written (real tiny training)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).parent.parent.parent / "docs" / "define-by-run.md"
EXAMPLES = {name: body for name, body in re.findall(r"## (\w+)\n.*?```python\n(.*?)```", GUIDE.read_text(),
                                                    flags=re.S)}


@pytest.mark.parametrize("framework", ["Keras", "PyTorch", "Lightning"])
def test_the_guide_example_runs_as_written(framework, tmp_path, monkeypatch, capsys):
    pytest.importorskip({"Keras": "keras", "PyTorch": "torch", "Lightning": "lightning"}[framework])
    from symtuner.storage import StudyStore

    monkeypatch.chdir(tmp_path)
    exec(compile(EXAMPLES[framework], str(GUIDE), "exec"), {})  # noqa: S102 - our own documentation
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"best val_accuracy \d\.\d\d with \{.*'learning_rate'.*\}", line), line
    directory = next(tmp_path.glob("*-study"))
    with StudyStore.open(directory, readonly=True) as store:
        trials = store.trials()
    assert [str(t.state) for t in trials] == ["complete"] * 3
    assert all(t.diagnosis is not None and t.curve.n_epochs == t.epochs_run for t in trials)


def test_every_runnable_example_of_the_guide_is_run():
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.S)
    runnable = [b for b in blocks if "..." not in b]
    assert sorted(runnable) == sorted(EXAMPLES.values())
