"""How well the shipped rules diagnose labelled real learning curves.

Prints per-problem precision, recall and F1, the macro-F1 over the six
problems and the share of healthy runs with no problem, on the golden curves
(tests/data/curves: labels in each file) and the corpus of real Keras runs
(tests/data/corpus: runs/*.json labelled by eye in labels.json, see
LABELLING.md), together and apart.

    .venv/bin/python benchmarks/diagnosis_quality.py [--rules DIR] [--only golden|corpus] [--no-class-count] [-v]

``--no-class-count`` reads every case as a log that does not say how many
classes there are (a TensorBoard log or a CSV diagnosed without
``--n-classes``): losses are measured against the curve's first epoch.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from symtuner.symbolic.engine import SymbolicEngine  # noqa: E402
from symtuner.symbolic.quality import load_corpus, load_golden, score, without_class_count  # noqa: E402
from symtuner.symbolic.rules import load_rules  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=Path, help="directory of .pl files extending the shipped rules")
    parser.add_argument("--only", choices=("golden", "corpus"), help="score one set only")
    parser.add_argument("--no-class-count", action="store_true",
                        help="diagnose without the class count, as a TensorBoard log without --n-classes")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every case with a miss")
    args = parser.parse_args()
    engine = SymbolicEngine(load_rules(args.rules))
    sets = {"golden": load_golden(ROOT / "tests" / "data" / "curves"),
            "corpus": load_corpus(ROOT / "tests" / "data" / "corpus")}
    if args.no_class_count:
        sets = {name: without_class_count(cases) for name, cases in sets.items()}
    chosen = {args.only: sets[args.only]} if args.only else {**sets, "all": sets["golden"] + sets["corpus"]}
    for name, cases in chosen.items():
        result = score(cases, engine)
        print(f"\n## {name} ({len(cases)} cases)\n")
        print(result.table())
        if args.verbose and result.misses:
            print("\n" + "\n".join(f"- {miss}" for miss in result.misses))


if __name__ == "__main__":
    main()
