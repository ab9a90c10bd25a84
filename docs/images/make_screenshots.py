"""Screenshots of every dashboard page of the default study, for the user guide.

    make run && .venv/bin/python docs/images/make_screenshots.py

The study is ``studies/default`` (what ``make run`` makes; ``--study-dir``
names another). ``--run`` first runs ``make run``'s study (``symtuner run
--trials 10 --epochs 4``) when the directory holds none; ``--fixture``
instead writes the small synthetic study the dashboard tests use. The
pictures are written next to this script as ``dashboard-<page>.png``: every
page on the picker's first entry (the best trial of a finished study), the
Diagnosis page on the newest trial with a problem. Needs Chromium at
/usr/bin/chromium (``make browser``) and the ``playwright`` Python package.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-quic", "--disable-gpu",
                 "--disable-component-update"]
#: page path -> element that shows the page is drawn
PAGES = {
    "metrics": "#fig-best .js-plotly-plot",
    "compare": "#fig-side-by-side .js-plotly-plot .scatterlayer",
    "hyperparameters": "#fig-bounds .js-plotly-plot",
    "weights": "#fig-actions .js-plotly-plot",
    "diagnosis": "#diagnosis-list",
    "architecture": "#netron-view",
    "tradeoff": "#fig-tradeoff-flops .js-plotly-plot",
    "tensorboard": "#page-tensorboard",
}


def _prepare(study_dir: Path, run: bool, fixture: bool) -> None:
    from symtuner.storage import StudyStore

    if StudyStore.exists(study_dir):
        return
    if fixture:
        sys.path.insert(0, str(ROOT / "tests" / "dashboard"))
        from dashboard_study_factory import make_study, write_keras_model

        make_study(study_dir, running=False)
        write_keras_model(study_dir / "models" / "trial_0001.keras")
        write_keras_model(study_dir / "models" / "trial_0002.keras")
        return
    if not run:
        raise SystemExit(f"{study_dir} holds no study: pass --run or --fixture")
    command = [str(Path(sys.executable).parent / "symtuner"), "run", "--study-dir", str(study_dir),
               "--trials", "10", "--epochs", "4"]
    subprocess.run(command, check=True)


def _serve(app: object) -> tuple[str, object]:
    from werkzeug.serving import make_server

    from symtuner.app.dashboard.servers import QuietRequestHandler

    server = make_server("127.0.0.1", 0, app.server, threaded=True,  # type: ignore[attr-defined]
                         request_handler=QuietRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def take(study_dir: Path, out_dir: Path, chromium: Path, pages: tuple[str, ...] = tuple(PAGES)) -> list[Path]:
    """Screenshot the ``pages`` (default: every page) of the dashboard of ``study_dir`` into ``out_dir``."""
    from playwright.sync_api import sync_playwright

    from symtuner.app.dashboard.app import create_app
    from symtuner.app.dashboard.data import load_snapshot

    snapshot = load_snapshot(study_dir)
    shown = snapshot.best() or snapshot.selected(None)
    troubled = next((t for t in reversed(snapshot.trials) if t.diagnosis and t.diagnosis.problems), None)
    url, server = _serve(create_app(study_dir, refresh_ms=2000))
    written = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(30_000)
            for name, ready in ((name, PAGES[name]) for name in pages):
                page.goto(f"{url}/{name}")
                page.wait_for_selector(ready)
                if name == "architecture" and shown is not None:
                    _pick(page, shown.number)
                    _wait_for_netron(page)
                if name == "diagnosis" and troubled is not None:
                    _pick(page, troubled.number)
                    page.wait_for_selector(f"#diagnosis-{troubled.number}[open]")
                # every figure drawn (none still the "Loading…" placeholder) and the picker set: on busy cores
                # the callbacks take seconds
                page.wait_for_function("() => ![...document.querySelectorAll('.annotation-text')]"
                                       ".some(e => e.textContent.includes('Loading'))")
                page.wait_for_timeout(1500)  # let plotly finish its transitions
                path = out_dir / f"dashboard-{name}.png"
                page.screenshot(path=path, full_page=True)
                written.append(path)
            browser.close()
    finally:
        server.shutdown()  # type: ignore[attr-defined]
    return written


def _pick(page: object, number: int) -> None:
    page.click("#trial-select")  # type: ignore[attr-defined]
    page.get_by_role("option", name=re.compile(rf"^Trial {number} ")).click()  # type: ignore[attr-defined]


def _wait_for_netron(page: object, timeout: float = 30.0) -> None:
    """Wait until Netron has drawn the graph (the dashboard serves it with no first-run notice)."""
    if not page.locator("iframe#netron-frame").count():  # type: ignore[attr-defined]
        return
    netron = page.frame_locator("#netron-frame")  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    while netron.locator("#canvas .node").count() == 0:
        if time.monotonic() > deadline:
            raise TimeoutError("Netron drew no graph")
        time.sleep(0.25)
    time.sleep(1.0)  # let it finish the layout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--study-dir", type=Path, default=ROOT / "studies" / "default")
    parser.add_argument("--run", action="store_true", help="run a small study first if there is none")
    parser.add_argument("--fixture", action="store_true", help="write the tests' synthetic study instead")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--chromium", type=Path, default=Path("/usr/bin/chromium"))
    parser.add_argument("--pages", default=",".join(PAGES), help=f"comma list of {', '.join(PAGES)} (default: all)")
    args = parser.parse_args()
    pages = tuple(name.strip() for name in args.pages.split(",") if name.strip())
    unknown = [name for name in pages if name not in PAGES]
    if unknown:
        raise SystemExit(f"unknown page {unknown[0]!r}; the pages are {', '.join(PAGES)}")
    if not args.chromium.exists():
        raise SystemExit(f"{args.chromium} is missing: run `make browser`")
    _prepare(args.study_dir, args.run, args.fixture)
    for path in take(args.study_dir, args.out, args.chromium, pages):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
