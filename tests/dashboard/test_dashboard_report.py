"""The offline HTML report: self-contained, complete, and the study left unchanged."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from dashboard_helpers import study_fingerprint
from dashboard_study_factory import SETTINGS, make_study

from symtuner.app.dashboard.data import load_snapshot
from symtuner.app.dashboard.report import write_report
from symtuner.core.errors import StudyError


class _Links(HTMLParser):
    """Collects every src/href attribute and the text of style elements (script bodies are not tags)."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "action") and value is not None:
                self.refs.append((tag, name, value))

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def _parse(text: str) -> _Links:
    parser = _Links()
    parser.feed(text)
    return parser


def test_report_is_complete_and_offline(study: Path, tmp_path: Path) -> None:
    shutil.copy(study / "models" / "trial_0001.keras", study / "models" / "trial_0002.keras")  # the best
    before = study_fingerprint(study)
    out = write_report(study, tmp_path / "out" / "report.html")
    assert out == tmp_path / "out" / "report.html"
    text = out.read_text(encoding="utf-8")
    links = _parse(text)
    external = [ref for ref in links.refs if re.match(r"\s*(https?:)?//", ref[2])]
    assert external == []
    assert all(ref[2].startswith("#") for ref in links.refs)  # only links inside the page
    assert "link" not in links.tags  # no style sheet or font is loaded
    assert not any(re.search(r"@import|url\(", style) for style in links.styles)
    figures = re.findall(r'<div id="plot-\d+"', text)
    assert len(figures) == 8 + 2 + 4  # the study's plots, the two trade-offs, then one per trial with epochs
    assert text.count("<script") == 1 + len(figures)  # plotly.js once, then one per figure
    assert text.count("Plotly.newPlot(") >= len(figures)
    for needle in ("trials-table", "versions-table", "actions-table", "diagnosis-2", "diagnosis-1",
                   "model-layers", "Conv2D", "out of memory", "after trial 2: inc_neurons",
                   "tensorboard --logdir logs", "underfitting → inc_neurons", "Which hyper-parameters explain",
                   "netron models/trial_0002.keras", "curves-trial-4", "curves-trial-1"):
        assert needle in text, needle
    assert text.count("<tr>") >= 1 + 4  # trial table header + four trials
    assert study_fingerprint(study) == before


def test_report_has_every_trials_curves_and_no_path_of_this_machine(tmp_path: Path) -> None:
    home = str(Path.home())
    settings = {**SETTINGS, "dataset": f"{home}/data/mine.py:load"}  # a setting naming a file under home
    study = make_study(tmp_path / "study", settings=settings)
    shutil.copy(study / "models" / "trial_0001.keras", study / "models" / "trial_0002.keras")
    text = write_report(study, tmp_path / "report.html").read_text(encoding="utf-8")
    page = text[:text.index("<script")] + text[text.index("</script>"):]  # all but the inlined plotly.js
    assert str(tmp_path) not in text and str(study) not in text
    assert home not in page and "~/data/mine.py:load" in page
    assert "netron models/trial_0002.keras" in text  # named relative to the study directory
    assert "out of memory while saving models/trial_0003.keras" in text
    assert "Study study;" in text
    snap = load_snapshot(study)
    for trial in snap.trials:  # every trial's curves, as figure data
        block = re.search(rf'<div id="curves-trial-{trial.number}">(.*?)</script>', text, re.S)
        assert block is not None, trial.number
        data = json.loads(re.search(r"Plotly\.newPlot\(\s*\"plot-\d+\",\s*(\[.*?\]),\s*\{", block.group(1),
                                    re.S).group(1))
        assert [trace["y"] for trace in data if trace.get("meta") == "val_loss"] == [list(trial.curve.val_loss)]


def test_redactor_replaces_every_form_of_the_paths(tmp_path: Path) -> None:
    from symtuner.app.dashboard.redact import PathRedactor

    study = tmp_path / "my study"
    study.mkdir()
    redact = PathRedactor(study, home=tmp_path.parent)
    assert redact(f"model {study}/models/a.keras, dir {study}.") == "model models/a.keras, dir my study."
    assert redact(json.dumps(str(study / "logs"))) == '"logs"'
    assert redact(f"{study}2/x") == f"~/{tmp_path.name}/my study2/x"  # another directory: only home is hidden
    assert redact(f"{tmp_path.parent}") == "~"


def test_report_says_when_the_best_model_file_is_missing(study: Path, tmp_path: Path) -> None:
    text = write_report(study, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "No model file for trial 2" in text and "model-layers" not in text


def test_report_of_an_empty_study(empty_study: Path, tmp_path: Path) -> None:
    text = write_report(empty_study, tmp_path / "empty.html").read_text(encoding="utf-8")
    assert "No trials yet" in text and "No trial has been diagnosed yet" in text
    assert "No rule weights stored yet" in text


def test_report_errors_name_the_path(study: Path, tmp_path: Path) -> None:
    with pytest.raises(StudyError, match="is a directory"):
        write_report(study, tmp_path)
    with pytest.raises(StudyError, match="not a study directory"):
        write_report(tmp_path / "nothing", tmp_path / "r.html")
