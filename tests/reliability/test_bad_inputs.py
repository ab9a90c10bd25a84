"""Every bad input of the corpus in ``bad_inputs.py`` and ``bad_inputs_more.py``: exit 2, one line naming it, nothing changed.

The cases run in this process through ``symtuner.app.cli.main`` (fast); a few
run as real subprocesses too, which also shows that TensorFlow's start-up
noise does not reach stderr.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from symtuner.app.cli import main
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.tuner import Tuner

from .bad_inputs import DAMAGES, DATA_PY, Case, all_cases
from .bad_inputs_more import more_cases

CASES = all_cases() + more_cases()


def test_the_corpus_is_large_and_covers_every_family():
    families = {case.family for case in CASES}
    assert families == {"config", "cli", "data", "network", "rules", "history", "dashboard", "damaged",
                        "callbacks", "execution", "doctor", "ranges",
                        "diagnose", "streams"}
    assert len(CASES) >= 150
    assert len({(case.family, case.id) for case in CASES}) == len(CASES)


@pytest.fixture(scope="session")
def good_study(tmp_path_factory) -> Path:
    """A finished 4-trial study (simulated training) to copy and damage; its data set is a file
    outside the copies, so that a resume can load it."""
    base = tmp_path_factory.mktemp("good")
    (base / "data.py").write_text(DATA_PY, encoding="utf-8")
    root = base / "study"
    Tuner(root, dataset=f"{base / 'data.py'}:tiny", executor_factory=SimulatedExecutor).run(4)
    return root


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def _prepare(case: Case, cwd: Path, good_study: Path) -> None:
    for name, content in case.files.items():
        path = cwd / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    if case.study is not None:
        shutil.copytree(good_study, cwd / "study", ignore=shutil.ignore_patterns(".lock"))
        if case.study != "good":
            damage, _ = DAMAGES[case.study]
            damage(cwd / "study" / "study.db")


def _exit_code(argv: tuple[str, ...]) -> int:
    if "--ray" in argv and argv[argv.index("--ray") + 1] == "local":
        # a private Ray instance in this process would keep it from joining the test cluster later (Ray
        # connects a process to one cluster in its life): in a process of its own, stderr on this one's
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        return subprocess.run([sys.executable, "-m", "symtuner.app.cli", *argv], env=env, timeout=300).returncode
    try:
        return main(list(argv))
    except SystemExit as exc:  # argparse
        return int(exc.code or 0)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.family}-{c.id}" for c in CASES])
def test_bad_input_is_one_clear_line_and_changes_nothing(case, tmp_path, good_study, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    if case.family == "streams":  # a set that never ends is given up on after 1 s, not 20
        from symtuner.training.quiet import import_keras_quietly

        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # as the command sets it
        import_keras_quietly()  # as the command does before it reads a data set
        from symtuner.data import stream_checks

        monkeypatch.setattr(stream_checks, "ENDLESS_SECONDS", 1.0)
    _prepare(case, tmp_path, good_study)
    before = _snapshot(tmp_path)
    code = _exit_code(case.argv)
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, f"exit {code}, stderr: {err}"
    assert "Traceback" not in err
    assert len(lines) == 1, f"expected one line on stderr, got: {lines}"
    assert case.names.lower() in lines[0].lower(), f"{case.names!r} not named in: {lines[0]}"
    assert lines[0].startswith("symtuner")
    assert _snapshot(tmp_path) == before, "a bad input changed or created files"
    assert not (tmp_path / "new").exists()


SUBPROCESS_CASES = [c for c in CASES if (c.family, c.id) in {
    ("config", "space-partial"), ("data", "images_2x2"), ("network", "net_none"), ("damaged", "garbage-page-run"),
    ("cli", "seed-huge"), ("history", "loss-strings"), ("callbacks", "resume-raises"),
    ("callbacks", "run-new-needs-args"), ("ranges", "objective-top5-three-classes"), ("doctor", "repair-newer-schema")}]


@pytest.mark.parametrize("case", SUBPROCESS_CASES, ids=[f"{c.family}-{c.id}" for c in SUBPROCESS_CASES])
def test_bad_input_from_a_real_process(case, tmp_path, good_study):
    """The same promise from a real ``symtuner`` process: no TensorFlow noise on stderr either."""
    _prepare(case, tmp_path, good_study)
    before = _snapshot(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "SYMTUNER_TF_LOGS")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    proc = subprocess.run([sys.executable, "-m", "symtuner.app.cli", *case.argv], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, lines
    assert case.names.lower() in lines[0].lower()
    assert _snapshot(tmp_path) == before
