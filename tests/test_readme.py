"""Every example in README.md and in the user guide (docs/, built with MkDocs) runs as written, so neither
can drift from the code. (The define-by-run guide and the resource-limits guide have tests of their own:
tests/define/test_guide.py and tests/test_resources_doc.py.)

Each fenced block is one of:

- ``console``: ``$ symtuner ...`` commands with the output they print; each is
  run (in a temporary directory, after the set-up its prose describes) and
  its output compared. In the expected output a line ``...`` stands for any
  lines, and ``...`` inside a line for any text.
- ``python``: run as written (the callback example gets a tiny ``model``,
  ``x`` and ``y``, which it assumes).
- ``toml``: loaded as a config; the study config is run on a tiny budget.
- ``prolog``: the rules file the console example after it uses.
- ``text``: recorded output of a long run; nothing to run.
- plain: command lines. ``symtuner`` lines are parsed by the real parser
  (every ``--option`` of a synopsis must exist), ``make`` targets must exist
  in the Makefile.

A block of another kind fails the inventory test.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import sqlite3
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
#: The pages of the user guide whose examples this test runs, in the order of its navigation.
GUIDE = tuple(ROOT / "docs" / name for name in (
    "index.md", "getting-started.md", "cli.md", "parallel.md", "python-api.md", "how-it-decides.md", "rules.md",
    "dashboard.md", "results.md"))
BLOCKS = [block for page in (README, *GUIDE)
          for block in re.findall(r"```(\w*)\n(.*?)```", page.read_text(), flags=re.S)]
KINDS = {"console", "python", "toml", "prolog", "text", ""}


def blocks(kind: str) -> list[str]:
    return [body for lang, body in BLOCKS if lang == kind]


def test_every_readme_block_is_of_a_kind_this_test_runs():
    assert {lang for lang, _ in BLOCKS} <= KINDS
    assert len(blocks("console")) >= 6 and len(blocks("python")) >= 3 and len(blocks("toml")) >= 2


# -- console sessions ---------------------------------------------------------
def sessions() -> list[list[tuple[str, list[str]]]]:
    """Per console block: (command, expected output lines) of every ``$`` line, run in order."""
    out: list[list[tuple[str, list[str]]]] = []
    for body in blocks("console"):
        session: list[tuple[str, list[str]]] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                session.append((line[2:], []))
            else:
                session[-1][1].append(line)
        out.append(session)
    return out


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` lines fit ``expected`` (``...`` lines and ``...`` inside lines are wildcards)."""
    pattern = "".join(r"(?:.*\n)*?" if line == "..." else
                      ".*".join(re.escape(part) for part in line.split("...")) + r"\n" for line in expected)
    return re.fullmatch(pattern, "".join(line + "\n" for line in actual)) is not None


def _damaged_study(root: Path) -> None:
    """The README's damaged study: four trials, the params of trial 2 broken."""
    import numpy as np

    from symtuner.core.settings import StudySettings
    from symtuner.data import validate_dataset
    from symtuner.execution.simulate import SimulatedExecutor
    from symtuner.tuner import Tuner

    rng = np.random.default_rng(0)
    x, y = rng.random((60, 28, 28, 1), dtype=np.float32), np.arange(60) % 3
    data = validate_dataset(x[:48], x[48:], y[:48], y[48:], 3, name="tiny")
    Tuner(root / "study", dataset=data, settings=StudySettings(epochs=3, n_initial=2),
          executor_factory=SimulatedExecutor, quiet=True).run(4)
    with contextlib.closing(sqlite3.connect(root / "study" / "study.db")) as conn, conn:
        conn.execute("UPDATE trials SET params='{bad' WHERE number=2")


def _set_up(command: str, root: Path) -> None:
    """What the prose before each example says exists."""
    if command.startswith("symtuner status study"):
        _damaged_study(root)
    if "--rules my_rules" in command:
        rules = next(b for b in blocks("prolog") if b.startswith("% my_rules/"))
        (root / "my_rules").mkdir(exist_ok=True)
        (root / "my_rules" / "still_improving.pl").write_text(rules)
    if "--rules broken_rules" in command:
        (root / "broken_rules").mkdir(exist_ok=True)
        (root / "broken_rules" / "broken.pl").write_text("threshold(acc_gap 0.1).\n")
    if not (root / "tests").exists():  # examples name the repository's own test data
        (root / "tests").symlink_to(ROOT / "tests")


SLOW = ("--epochs",)  # sessions that train real (one-epoch) networks


@pytest.mark.parametrize("session", [
    pytest.param(session, marks=[pytest.mark.keras] if any(s in c for c, _ in session for s in SLOW) else [],
                 id=session[0][0][:60]) for session in sessions()])
def test_readme_console_example_prints_what_it_shows(session, tmp_path, monkeypatch):
    from symtuner.app.cli import main

    monkeypatch.chdir(tmp_path)
    for command, expected in session:
        _set_up(command, tmp_path)
        argv = shlex.split(command)
        assert argv[0] == "symtuner"
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            main(argv[1:])
        actual = captured.getvalue().splitlines()
        assert matches(expected, actual), "\n".join([f"$ {command}", "expected:", *expected, "got:", *actual])


def test_the_wildcard_matcher_is_strict_where_it_must_be():
    assert matches(["a ...", "...", "z"], ["a b", "x", "y", "z"])
    assert not matches(["a ...", "z"], ["a b", "x", "z"])
    assert not matches(["exact"], ["exact", "more"])


# -- python blocks -----------------------------------------------------------
@pytest.mark.keras
def test_readme_python_api_example_runs_and_a_rerun_continues_the_study(tmp_path, monkeypatch, capsys):
    example = next(b for b in blocks("python") if "Tuner(" in b and "my-study" in b)
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})  # noqa: S102 - our own documentation
    number, objective, model_path = capsys.readouterr().out.splitlines()[-1].split()  # after the progress lines
    assert 0.0 <= float(objective) <= 1.0
    assert Path(model_path).is_file() and (tmp_path / "my-study" / "study.db").is_file()
    exec(compile(example, "README.md", "exec"), {})  # noqa: S102 - the same script again: the study continues
    assert capsys.readouterr().out.splitlines()[-1].split()[0] == number  # 3 trials reached: nothing new ran


def test_readme_network_example_builds():
    import keras

    from symtuner.core.architecture import Architecture
    from symtuner.training.checks import check_network

    namespace: dict = {}
    exec(compile(next(b for b in blocks("python") if "def build" in b), "README.md", "exec"), namespace)  # noqa: S102
    arch = Architecture(l2=True, batch_norm=True, augmentation=True, extra_dense=1)
    params = {"unit_c1": 8, "unit_d": 16, "unit_fc1": 8, "l2": 1e-4, "activation": "relu"}
    model = namespace["build"](params, arch, (12, 12, 1), 3)
    assert isinstance(model, keras.Model) and model.output_shape == (None, 3)
    assert check_network(model, arch, params) == []


@pytest.mark.keras
def test_readme_callback_example_runs_on_a_tiny_model(capsys):
    import keras
    import numpy as np

    example = next(b for b in blocks("python") if "DiagnosisCallback" in b)
    rng = np.random.default_rng(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(1e-5), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    namespace = {"model": model, "x": rng.random((40, 4)), "y": np.arange(40) % 3}
    exec(compile(example, "README.md", "exec"), namespace)  # noqa: S102
    found = namespace["diagnosis"].diagnosis
    assert found is not None and found.problems  # a learning rate of 1e-5 for 20 epochs: a problem to find
    assert all(problem in capsys.readouterr().out for problem in found.problems)  # printed at the end


def test_readme_streamed_data_example_runs_a_study_on_a_generator(tmp_path, monkeypatch, capsys):
    from symtuner.storage import StudyStore

    example = next(b for b in blocks("python") if "from_generator" in b)
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})  # noqa: S102 - our own documentation
    words = capsys.readouterr().out.splitlines()[-1].split()
    assert words[:2] == ["best", "val_accuracy"] and 0.0 <= float(words[2]) <= 1.0
    with StudyStore.open(tmp_path / "bands-study", readonly=True) as store:
        assert store.data_info()["streamed"] and sum(t.is_complete for t in store.trials()) == 2


@pytest.mark.keras
def test_readme_study_callback_example_stops_the_study(tmp_path, monkeypatch):
    from symtuner.storage import StudyStore

    example = next(b for b in blocks("python") if "callbacks=[stop_at_90]" in b)
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})  # noqa: S102 - our own documentation
    with StudyStore.open(tmp_path / "cb-study", readonly=True) as store:
        objectives = [t.objective for t in store.trials()]
    # it stopped after the first trial at 0.9 or more, or ran its 5 trials without one
    reached = [i for i, value in enumerate(objectives) if value >= 0.9]
    assert (reached and len(objectives) == reached[0] + 1) or (not reached and len(objectives) == 5)


def test_readme_action_example_registers_an_action_its_rule_chooses():
    from symtuner.core.architecture import Architecture
    from symtuner.core.space import default_space
    from symtuner.symbolic.rules import load_rules
    from symtuner.tuning.actions import ActionContext, ActionSettings, actions_restored, apply_action

    example = next(b for b in blocks("python") if "register_action(" in b)
    with actions_restored():
        exec(compile(example, "README.md", "exec"), {})  # noqa: S102 - our own documentation
        rules = load_rules()
        assert rules.initial_weights[("halve_batch_ceiling", "fluctuating_loss")] == 0.6
        space = default_space()
        context = ActionContext(best_params=None, conv_room=0, settings=ActionSettings())
        after, _ = apply_action("halve_batch_ceiling", space, Architecture(), context)
        assert after["batch_size"].high == space["batch_size"].high // 2


def test_readme_define_by_run_pytorch_example_runs_as_written(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    from symtuner.storage import StudyStore

    example = next(b for b in blocks("python") if "create_study(" in b)
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})  # noqa: S102 - our own documentation
    params, value = capsys.readouterr().out.strip().splitlines()[-1].rsplit(" ", 1)
    assert "'learning_rate'" in params and 0.0 <= float(value) <= 1.0
    with StudyStore.open(tmp_path / "torch-study", readonly=True) as store:
        trials = store.trials()
    assert [str(t.state) for t in trials] == ["complete"] * 3 and all(t.diagnosis for t in trials)


def test_every_python_block_is_run_by_a_test():
    markers = ("my-study", "def build", "DiagnosisCallback", "from_generator", "callbacks=[stop_at_90]",
               "register_action(", "create_study(")
    assert all(sum(marker in b for marker in markers) == 1 for b in blocks("python"))


# -- config files --------------------------------------------------------------
@pytest.mark.keras
def test_readme_config_example_runs(tmp_path, monkeypatch, capsys):
    from symtuner.app.cli import main
    from symtuner.core.settings import load_config
    from symtuner.core.space import default_space

    study_config = next(b for b in blocks("toml") if b.startswith("[study]"))
    monkeypatch.chdir(tmp_path)
    Path("study.toml").write_text(study_config)
    config = load_config(Path("study.toml"))
    assert config.space.apply().names == default_space().names  # three entries change three of the nine dimensions
    assert config.space.apply()["learning_rate"].bounds("Adamax") == (1e-3, 2e-2)  # a range of its own
    assert main(["run", "--config", "study.toml", "--dataset", "digits-small", "--trials", "1", "--epochs", "1",
                 "--workers", "1", "--quiet"]) == 0, capsys.readouterr().err
    assert "best trial #1" in capsys.readouterr().out


def test_readme_replace_space_example_is_a_whole_space(tmp_path):
    from symtuner.core.settings import load_config

    replace = next(b for b in blocks("toml") if b.startswith("[space]"))
    (tmp_path / "space.toml").write_text(replace)
    assert load_config(tmp_path / "space.toml").space.names == ["units", "learning_rate"]


# -- command lines -----------------------------------------------------------
def command_lines() -> list[str]:
    lines = []
    for body in blocks(""):
        joined = body.replace("\\\n", " ")
        for line in joined.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line.startswith("[") and lines:  # a synopsis continued
                lines[-1] += " " + line
            elif line:
                lines.append(line)
    return lines


def _subparser(name: str):
    from symtuner.app.cli import build_parser

    parser = build_parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return action.choices[name]


@pytest.mark.parametrize("line", [line for line in command_lines() if line.startswith("symtuner ")])
def test_readme_command_line_parses(line):
    argv = shlex.split(line)[1:]
    sub = _subparser(argv[0])
    if "[" in line or "DIR" in line:  # a synopsis: every option it names exists
        options = {o for o in re.findall(r"(--[a-z][a-z-]*|-o)\b", line)}
        assert options <= set(sub._option_string_actions), options - set(sub._option_string_actions)
    else:
        sub.parse_args(argv[1:])


def test_readme_make_targets_and_other_lines_exist():
    makefile = (ROOT / "Makefile").read_text()
    for line in command_lines():
        if line.startswith("make "):
            assert re.search(rf"^{line.split()[1]}:", makefile, flags=re.M), line
        elif line.startswith("source "):  # the environment `make` creates, activated
            venv = re.search(r"^VENV \?= (\S+)", makefile, flags=re.M).group(1)
            assert line.split()[1] == venv + "/bin/activate", line
        else:
            assert line.startswith(("symtuner ", "python -m venv", "pip install", "|")) or "symtuner" in line, line


def test_user_guide_builds_with_every_link_resolved(tmp_path):
    """`make docs`: MkDocs in strict mode fails on a page missing from the navigation or a broken link."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "python-api" / "index.html").exists()
