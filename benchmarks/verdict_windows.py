"""Count the trials that decided verdicts on learning-rate moves without having trained with the move.

For every stored study under the given directories (any ``study.db`` below
them, e.g. a ``symtuner compare --suite`` output), every verdict on a
version made by ``inc_lr`` or ``decr_lr`` is read with the window it was
decided on (the trials after the version was made, up to the verdict's
trial), and each trial of that window is checked with
``symtuner.tuning.evidence.trained_with``: did it draw from a range the
move changed (its own optimizer's), and did it start after the move?

    .venv/bin/python benchmarks/verdict_windows.py SUITE_OUT [...]

On studies run before verdicts left such trials out, this measures how
many of the trials that decided those verdicts had nothing to do with the
move; on later studies, how many trials the verdicts left out while they
waited for the move's own (``symtuner.tuning.hypotheses``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from symtuner.storage import StudyStore
from symtuner.tuning.evidence import trained_with

RATE_MOVES = ("inc_lr", "decr_lr")


def count(study: Path) -> tuple[int, int, int, int]:
    """(verdicts on rate moves, trials in their windows, trials of those that did not train with the move,
    verdicts whose window held no trial that trained with the move)."""
    with StudyStore.open(study, readonly=True) as store:
        trials = {t.number: t for t in store.trials(with_curves=False)}
        versions = sorted(store.tuning_versions(), key=lambda v: v.version)
        moved_after = {a.trial for a in store.actions() if a.applied and a.name in RATE_MOVES}
        verdicts = store.verdicts()
    restores = {v.restored_by for v in verdicts.values() if v.restored_by is not None}
    judged = window = untouched = blind = 0
    for base, change in zip(versions, versions[1:]):
        verdict = verdicts.get(change.version)
        if verdict is None or change.version in restores or change.after_trial not in moved_after \
                or verdict.verdict == "withdrawn":
            continue
        judged += 1
        seen = [trials[n] for n in range(change.after_trial + 1, verdict.after_trial + 1)
                if n in trials and trials[n].is_complete]
        left = sum(not trained_with(base, change, t) for t in seen)
        window, untouched, blind = window + len(seen), untouched + left, blind + (bool(seen) and left == len(seen))
    return judged, window, untouched, blind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dirs", nargs="+", type=Path, help="directories holding study stores (searched below)")
    args = parser.parse_args()
    studies = sorted({db.parent for d in args.dirs for db in d.rglob("study.db")})
    totals = [0, 0, 0, 0]
    for study in studies:
        for i, value in enumerate(count(study)):
            totals[i] += value
    judged, window, untouched, blind = totals
    share = f"{untouched / window:.0%}" if window else "-"
    print(f"{len(studies)} studies; {judged} verdicts on learning-rate moves (withdrawn ones aside), their "
          f"windows {window} trials; {untouched} of them ({share}) did not train with the move; {blind} "
          "verdicts had no trial that did")


if __name__ == "__main__":
    main()
