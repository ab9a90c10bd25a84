"""Take this machine's paths out of text that leaves it (the shareable report).

A study stores absolute paths (its model files, TensorBoard logs) and its
messages may quote more (an error naming a file, a data set under the home
directory). A report sent to someone else should neither reveal those nor
point at files the reader does not have: paths inside the study become
relative to the study directory, the study directory itself its name, and the
home directory ``~``.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

#: A path separator as written, JSON-escaped ("\\\\", "\\/") or on Windows; longest first.
_SEPARATORS = "|".join(re.escape(s) for s in ("\\\\", "\\/", "/", "\\"))


class PathRedactor:
    """Replaces the study directory's and the home directory's paths in text, as written or escaped.

    Each path is looked for as written, HTML-escaped and JSON-escaped (the
    report embeds figures as JSON), both as given and with links resolved.
    """

    def __init__(self, study_dir: Path, home: Path | None = None) -> None:
        study = Path(study_dir)
        forms = {str(study.absolute()), str(study.resolve())}
        self._rules: list[tuple[re.Pattern[str], str]] = []
        for form in sorted(forms, key=len, reverse=True):
            self._add(form, inside="", alone=study.name or ".")
        home = Path.home() if home is None else home
        if len(home.parts) > 1:  # never the file-system root
            for form in sorted({str(home), str(home.resolve())}, key=len, reverse=True):
                self._add(form, inside="~/", alone="~")

    def _add(self, path: str, inside: str, alone: str) -> None:
        """``path`` followed by a separator becomes ``inside``, and at a word's end ``alone``."""
        variants = {path, html.escape(path, quote=True), json.dumps(path)[1:-1]}
        for variant in sorted(variants, key=len, reverse=True):
            self._rules.append((re.compile(re.escape(variant) + f"(?:{_SEPARATORS})"), inside))
            # at a word's end: not followed by more of a name ("study2", "study.db"); a full stop is fine
            self._rules.append((re.compile(re.escape(variant) + r"(?![\w\-]|\.\w)"), alone))

    def __call__(self, text: str) -> str:
        for pattern, replacement in self._rules:
            text = pattern.sub(replacement.replace("\\", "\\\\"), text)  # the name taken literally
        return text


__all__ = ["PathRedactor"]
