"""The dashboard's serving helpers: free ports, host and port checks, a quiet request handler, TensorBoard on
the logs."""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import sys
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler

from symtuner.core.errors import ConfigError, StudyError


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


def check_port_free(host: str, port: int) -> None:
    """Fail with one clear line, before anything starts, when ``host:port`` cannot be bound."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ConfigError(f"dashboard host {host!r} cannot be resolved: {exc}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        try:
            probe.bind(address)
        except OSError as exc:
            raise ConfigError(f"cannot serve the dashboard on {host}:{port}: {exc.strerror or exc} "
                              "(choose another --port or --host)") from None


def is_loopback(host: str) -> bool:
    """True when ``host`` names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


__all__ = ["free_port", "check_port_free", "is_loopback", "QuietRequestHandler", "TensorBoardProcess"]
