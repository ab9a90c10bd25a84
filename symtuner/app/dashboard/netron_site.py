"""Netron inside the dashboard: its page, its scripts and the study's models, from the dashboard's own server.

Netron's browser host (``browser.js`` in the netron package) decides what to
do before it draws a model from the page it is served in, and served as a
plain copy it gets in the way of an embedded, offline viewer:

- It asks for consent ("This app uses cookies ...", an *Accept* button)
  unless a ``consent`` cookie is present, after asking ipinfo.io for the
  visitor's country. Its own attempt to store that cookie fails on an IP
  host such as 127.0.0.1 (it adds a ``domain=`` built from the last two
  dot-separated labels, which the browser refuses), so the question came back
  on every trial switch. The page response here sets the cookie, so Netron
  never asks and never looks the country up.
- It sends Google Analytics beacons and offers to report errors on GitHub
  only in a "packaged" build, which it recognises by the ``version`` meta tag
  of its page. The page is served without that tag.
- It replaces the graph with "Please update to the newest version" 180 days
  after the build ``date`` meta tag, forever. The page is served without it:
  Netron is pinned, and the dashboard must keep drawing models after those
  180 days.

The page is Netron's own ``index.html`` with those two meta tags removed and
the tags Netron's own Python server adds (which file to open) inserted, the
same way that server does it. Every response also carries a
Content-Security-Policy that allows connections to this origin only, so a
request to an outside host that a later Netron might make is refused by the
browser instead of leaving the machine. The browser tests check all of this
against the installed Netron, so an upgrade that changes how it works fails
a test instead of breaking the view silently.
"""

from __future__ import annotations

import html
import importlib.util
import re
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import flask

from symtuner.core.errors import StudyError

#: Where the dashboard serves Netron.
PREFIX = "/netron"

#: The only files of the netron package that are served, with their types (Netron's server serves the same).
_TYPES = {".js": "text/javascript", ".json": "application/json", ".css": "text/css", ".png": "image/png",
          ".ico": "image/x-icon", ".svg": "image/svg+xml"}

#: Connections, images, fonts, scripts and workers from this origin only; Netron's page has inline styles.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' data: blob:; "
                           "worker-src 'self' blob:; frame-src 'none'; object-src 'none'; base-uri 'self'; "
                           "form-action 'none'; frame-ancestors 'self'")

#: The meta tags Netron reads to decide that it is a packaged build and how old it is.
_DROPPED_META = re.compile(r'\s*<meta\s+name="(?:version|date)"\s+content="[^"]*"\s*/?>')

#: How long the consent cookie lasts (Netron's own lasts 30 days); every page sets it again.
_CONSENT_SECONDS = 30 * 24 * 3600

ModelFinder = Callable[[int], Path | None]


def netron_files() -> Path | None:
    """The directory of the installed netron package's web files, or None if netron is not installed.

    The package is found without being imported: the dashboard only serves its files.
    """
    spec = importlib.util.find_spec("netron")
    if spec is None or not spec.submodule_search_locations:
        return None
    directory = Path(next(iter(spec.submodule_search_locations)))
    return directory if (directory / "index.html").is_file() else None


def viewer_url(trial: int, model: Path) -> str:
    """The URL (on the dashboard's origin) of Netron showing ``trial``'s ``model``.

    It changes when the file does, so an embedding frame reloads a rewritten model.
    """
    try:
        stamp = model.stat().st_mtime_ns
    except OSError:  # removed meanwhile: the page will say so
        stamp = 0
    return f"{PREFIX}/?{urllib.parse.urlencode({'trial': trial, 'v': stamp})}"


def netron_page(template: str, model_url: str, identifier: str, title: str) -> str:
    """Netron's ``index.html`` set up to open ``model_url`` at once, as an unpackaged build of no age.

    Raises :class:`StudyError` when ``template`` is not a page this can set
    up (no ``</head>``), naming what is missing.
    """
    if template.count("</head>") != 1:
        raise StudyError("Netron's index.html has no single </head>: this version of netron cannot be embedded")
    page = _DROPPED_META.sub("", template)
    tags = {"type": "Python", "file": model_url, "identifier": identifier, "name": title}
    meta = "".join(f'<meta name="{name}" content="{html.escape(value, quote=True)}">\n'
                   for name, value in tags.items())
    return page.replace("</head>", meta + "</head>")


def netron_blueprint(files: Path, find_model: ModelFinder) -> flask.Blueprint:
    """A Flask blueprint serving Netron under :data:`PREFIX`.

    ``/netron/?trial=N`` is the page that shows trial N's model,
    ``/netron/model/N/NAME`` that model (only a file ``find_model(N)``
    names, so nothing else on the machine can be fetched), and every other
    ``/netron/FILE`` one of Netron's scripts or style sheets.
    """
    template = (files / "index.html").read_text(encoding="utf-8")
    blueprint = flask.Blueprint("netron", __name__, url_prefix=PREFIX)

    @blueprint.after_request
    def protect(response: flask.Response) -> flask.Response:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @blueprint.route("/")
    def page() -> flask.Response:
        number = flask.request.args.get("trial", "")
        if not number.isdigit():
            flask.abort(400, description=f"trial must be a trial number, got {number!r}")
        model = find_model(int(number))
        if model is None:
            flask.abort(404, description=f"trial {number} has no model file in this study")
        name = urllib.parse.quote(model.name)
        text = netron_page(template, f"model/{int(number)}/{name}", model.name, f"trial {number}: {model.name}")
        response = flask.make_response(text)
        response.headers["Content-Type"] = "text/html; charset=utf-8"
        response.headers["Cache-Control"] = "no-store"
        response.set_cookie("consent", str(int(time.time() * 1000)), max_age=_CONSENT_SECONDS, path=PREFIX + "/",
                            samesite="Strict")
        return response

    @blueprint.route("/model/<int:number>/<name>")
    def model(number: int, name: str) -> flask.Response:
        path = find_model(number)
        if path is None or path.name != name:
            flask.abort(404, description=f"trial {number} has no model file {name!r} in this study")
        return flask.send_file(path, mimetype="application/octet-stream", max_age=0)

    @blueprint.route("/<path:asset>")
    def static_file(asset: str) -> flask.Response:
        kind = _TYPES.get(Path(asset).suffix)
        if kind is None:
            flask.abort(404)
        return flask.send_from_directory(files, asset, mimetype=kind)

    return blueprint


__all__ = ["PREFIX", "CONTENT_SECURITY_POLICY", "netron_files", "viewer_url", "netron_page", "netron_blueprint"]
