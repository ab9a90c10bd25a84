"""The helper servers the dashboard embeds: Netron for a model, TensorBoard for the logs."""

from __future__ import annotations

import errno
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from symtuner.errors import StudyError


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


class NetronViewer:
    """Serves one model file at a time with Netron on a fixed local port.

    Netron's server shows a single file, so showing another model restarts
    it on the same port; the URL carries the file's name and time so that an
    embedding iframe reloads when the model changes.
    """

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self._lock = threading.Lock()
        self._served: tuple[Path, int] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def show(self, path: Path) -> str:
        """Serve ``path`` (if not served already) and return the URL that displays it."""
        import netron

        path = Path(path).resolve()
        if not path.is_file():
            raise StudyError(f"model file {path} does not exist")
        stamp = path.stat().st_mtime_ns
        with self._lock:
            if self._served != (path, stamp) or not netron.status((self.host, self.port)):
                self._restart(str(path))
                self._served = (path, stamp)
        query = urllib.parse.urlencode({"model": path.name, "v": stamp})
        return f"{self.base_url}?{query}"

    def _restart(self, file: str, timeout: float = 5.0) -> None:
        """Serve ``file``, waiting for the previous server to release the port.

        A stopped Netron server keeps its socket until its polling loop wakes
        (a quarter of a second), so binding again at once can fail.
        """
        import netron

        address = (self.host, self.port)
        netron.stop(address)
        deadline = time.monotonic() + timeout
        while True:
            try:
                netron.serve(file, None, address=address, browse=False)
                return
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                    raise StudyError(f"Netron cannot listen on {self.host}:{self.port}: {exc}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        import netron

        with self._lock:
            netron.stop((self.host, self.port))
            self._served = None


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


__all__ = ["free_port", "NetronViewer", "TensorBoardProcess"]
