"""The quick start as a new user meets it: ``make run`` in a fresh shell (no virtual environment
active), then the commands it prints, typed as printed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from symtuner.app import invocation

ROOT = Path(__file__).parent.parent
#: A shell's PATH with no virtual environment on it.
BARE_PATH = "/usr/local/bin:/usr/bin:/bin"


def _shell(command: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = BARE_PATH
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, **kwargs)


def _printed_commands(output: str) -> list[str]:
    lines = output.splitlines()
    start = lines.index("next:")
    return [line.strip() for line in lines[start + 1:] if line.startswith("  ") and not line.strip().startswith("(")]


@pytest.mark.keras
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_prints_next_commands_that_work_as_printed(tmp_path: Path) -> None:
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))  # the checkout's environment, as `make run` made it
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    run = _shell("make run TRIALS=1 EPOCHS=1 -o .venv/.installed -o .venv/bin/python", tmp_path, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    commands = _printed_commands(run.stdout)
    assert commands == [".venv/bin/symtuner status studies/default", ".venv/bin/symtuner dashboard studies/default"]
    assert "source .venv/bin/activate" in run.stdout

    status = _shell(commands[0], tmp_path, timeout=120)
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith("study studies/default: dataset digits")
    activated = _shell("source .venv/bin/activate && symtuner status studies/default", tmp_path, timeout=120)
    assert activated.returncode == 0 and activated.stdout == status.stdout

    port = _free_port()
    dashboard = subprocess.Popen(["bash", "-c", f"exec {commands[1]} --port {port}"], cwd=tmp_path,
                                 env={**os.environ, "PATH": BARE_PATH}, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
    try:
        assert _page(f"http://127.0.0.1:{port}/architecture", 90).startswith("<!DOCTYPE html>")
    finally:
        dashboard.terminate()
        dashboard.wait(timeout=30)


def test_the_program_is_named_as_it_can_be_typed_here(tmp_path: Path, monkeypatch) -> None:
    script = tmp_path / "env" / "bin" / "symtuner"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", BARE_PATH)
    monkeypatch.setattr(sys, "argv", [str(script), "run"])
    assert invocation.command("status", Path("my study")) == "env/bin/symtuner status 'my study'"
    monkeypatch.setenv("PATH", f"{script.parent}:{BARE_PATH}")  # its environment is active
    assert invocation.command("status", "s") == "symtuner status s"
    monkeypatch.setattr(sys, "argv", ["-c"])  # the Python API
    assert invocation.program() == "symtuner"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _page(url: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
