"""Ray runs that could never make progress are refused in seconds, before anything is stored; a private
Ray instance listens on the loopback interface only."""

from __future__ import annotations

import inspect
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from symtuner.app.cli import main

pytest.importorskip("ray", reason="Ray is an optional dependency")

DATA_PY = '''
import numpy as np

def tiny():
    rng = np.random.default_rng(0)
    x = rng.random((48, 28, 28, 1), dtype=np.float32)
    y = np.arange(48) % 3
    return x[:40], x[40:], y[:40], y[40:], 3
'''


class _NotRay:
    """A TCP server that is not Ray: it answers with ``reply`` (or nothing) and keeps the connection."""

    def __init__(self, reply: bytes) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.port = self.server.getsockname()[1]
        self.reply = reply
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.held.append(conn)
            if self.reply:
                conn.sendall(self.reply)

    def close(self) -> None:
        for conn in self.held:
            conn.close()
        self.server.close()


@pytest.mark.parametrize("reply", [b"", b"HTTP/1.1 400 Bad Request\r\n\r\n", b"SSH-2.0-OpenSSH_9.2\r\n"],
                         ids=["silent", "http", "ssh"])
def test_a_server_that_is_not_ray_is_refused_in_seconds(tmp_path, capfd, reply):
    (tmp_path / "data.py").write_text(DATA_PY)
    from symtuner.core.errors import ConfigError
    from symtuner.execution.ray_tasks import CONNECT_TIMEOUT, _check_reachable

    server = _NotRay(reply)
    try:
        code = main(["run", "--study-dir", str(tmp_path / "s"), "--dataset", f"{tmp_path / 'data.py'}:tiny",
                     "--ray", f"127.0.0.1:{server.port}", "--trials", "1"])
        started = time.monotonic()
        with pytest.raises(ConfigError, match="not a Ray head"):
            _check_reachable(f"127.0.0.1:{server.port}")
        took = time.monotonic() - started
    finally:
        server.close()
    err = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(err) == 1, err
    assert f"127.0.0.1:{server.port}" in err[0] and "not a Ray head" in err[0]
    assert took < 2 * CONNECT_TIMEOUT + 1  # seconds, where Ray itself retries for minutes
    assert not (tmp_path / "s").exists()


#: Runs with a private Ray instance run in a process of their own: Ray joins a process to one cluster in
#: its life, so one started here would keep later tests from joining theirs.
LOCAL_RAY = """
import json, sys
import ray
from symtuner.execution import ExecutionSettings
from symtuner.execution.ray_tasks import RayDispatcher
from symtuner.execution.simulate import SimulatedExecutor
dispatcher = RayDispatcher(ExecutionSettings(workers=1, ray="local"), SimulatedExecutor)
try:
    host, port = ray.get_runtime_context().gcs_address.rsplit(":", 1)
    print(json.dumps([host, int(port), sorted(listening(int(port)))]))
finally:
    dispatcher.close()
"""


def test_gpus_a_machine_lacks_are_refused_before_the_study_is_created(tmp_path):
    (tmp_path / "data.py").write_text(DATA_PY)
    proc = subprocess.run([sys.executable, "-m", "symtuner.app.cli", "run", "--study-dir", str(tmp_path / "s"),
                           "--dataset", f"{tmp_path / 'data.py'}:tiny", "--ray", "local", "--gpus-per-trial", "64",
                           "--trials", "1"], capture_output=True, text=True, timeout=300)
    err = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(err) == 1, err
    assert "64 GPU" in err[0] and "gpus_per_trial" in err[0]
    assert not (tmp_path / "s").exists()


def _listening_addresses(port: int) -> set[str]:
    """The local addresses sockets listen on at ``port`` (Linux: /proc/net/tcp and tcp6)."""
    found = set()
    for name in ("tcp", "tcp6"):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/net")
def test_a_private_ray_instance_listens_on_the_loopback_interface_only():
    source = inspect.getsource(_listening_addresses).replace("def _listening_addresses", "def listening")
    script = "from pathlib import Path\n" + source + LOCAL_RAY
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    host, _, addresses = json.loads(proc.stdout.strip().splitlines()[-1])
    addresses = set(addresses)
    assert host == "127.0.0.1"
    # 127.0.0.1 as /proc/net/tcp writes it, or as an IPv4-mapped IPv6 address in tcp6
    assert addresses and addresses <= {"0100007F", "0000000000000000FFFF00000100007F"}, addresses
