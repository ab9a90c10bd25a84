"""The dashboard's serving helpers: free ports, a quiet request handler, TensorBoard on the logs."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler

from symtuner.core.errors import StudyError


def free_port(host: str = "127.0.0.1", preferred: int | None = None) -> int:
    """``preferred`` if it can be bound on ``host``, else a port the system picks."""
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise StudyError(f"no free TCP port on {host}")


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler without a log line per request, except for server errors.

    The dashboard polls its study every few seconds and Netron fetches dozens
    of scripts per model, so werkzeug's line per request would bury anything
    worth reading; a failing request (status 500 and above) is still logged.
    """

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        status = int(code) if str(code).isdigit() else 0
        if status >= 500:
            super().log_request(code, size)


class TensorBoardProcess:
    """TensorBoard on a log directory, as a child process that :meth:`stop` ends."""

    def __init__(self, logdir: Path, port: int, host: str = "127.0.0.1") -> None:
        self.logdir = Path(logdir)
        self.host = host
        self.port = port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self) -> TensorBoardProcess:
        command = [sys.executable, "-m", "tensorboard.main", "--logdir", str(self.logdir),
                   "--host", self.host, "--port", str(self.port)]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """True once TensorBoard answers; False if it exits or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(self.url, timeout=2):
                    return True
            except OSError:
                time.sleep(0.5)
        return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


__all__ = ["free_port", "QuietRequestHandler", "TensorBoardProcess"]
