"""Plot the corpus runs as grids of panels, for labelling them by eye.

Each panel shows one run of ``runs/*.json``: train and validation loss on the left axis (linear, or
log when the loss explodes: its maximum is over 20 and over 10x its median) and train and validation
accuracy on the right axis (0-1), with the run name as the title and a one-line config below it.  Epochs whose loss
was NaN/inf are marked with red crosses at the top of the panel.

Run from the repository root (a few seconds; the PNGs are not part of the repository)::

    .venv/bin/python tests/data/corpus/plot_corpus.py [--out /tmp/corpus_plots] [--per-page 12]
    .venv/bin/python tests/data/corpus/plot_corpus.py --labels tests/data/corpus/labels.json  # review labels

The labels were made from plots drawn without ``--labels``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from statistics import median
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).resolve().parent


def one_line_config(cfg: dict[str, Any]) -> str:
    parts = [
        f"{cfg['dataset']}{'' if cfg.get('classes') is None else str(cfg['classes'])}",
        f"{cfg['model']} {cfg['units']} {cfg['activation']}",
        f"{cfg['optimizer']} lr={cfg['learning_rate']:g}",
    ]
    if cfg.get("momentum"):
        parts.append(f"mom={cfg['momentum']:g}")
    parts.append(f"bs={cfg['batch_size']}")
    parts.append(f"n={cfg['n_train']}")
    if cfg.get("l2"):
        parts.append(f"l2={cfg['l2']:g}")
    if cfg.get("dropout"):
        parts.append(f"drop={cfg['dropout']:g}")
    if cfg.get("label_noise"):
        parts.append(f"noise={cfg['label_noise']:g}")
    if cfg.get("schedule"):
        parts.append("lr grows")
    return ", ".join(parts)


def _finite(values: list[float | None]) -> list[float]:
    return [v for v in values if v is not None]


def plot_run(ax: Any, run: dict[str, Any], label: dict[str, Any] | None = None) -> None:
    loss, val_loss = run["loss"], run["val_loss"]
    epochs = list(range(1, len(loss) + 1))
    finite = _finite(loss) + _finite(val_loss)
    log = bool(finite) and max(finite) > 20 and max(finite) > 10 * median(finite) and min(finite) > 0
    ax.plot(epochs, [float("nan") if v is None else v for v in loss], "b.-", lw=1.4, ms=3, label="loss")
    ax.plot(
        epochs, [float("nan") if v is None else v for v in val_loss], "b.--", lw=1.2, ms=3, label="val_loss"
    )
    if log:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    bad = [e for e, v in zip(epochs, loss) if v is None]
    if bad:
        top = ax.get_ylim()[1]
        ax.plot(bad, [top] * len(bad), "rx", ms=5, clip_on=False, label="NaN")
    ax.set_ylabel("loss" + (" (log)" if log else ""), fontsize=7, color="b")
    ax.tick_params(labelsize=6)
    ax2 = ax.twinx()
    acc, val_acc = run["accuracy"], run["val_accuracy"]
    ax2.plot(epochs, [float("nan") if v is None else v for v in acc], ".-", color="tab:orange", lw=1.4, ms=3)
    ax2.plot(
        epochs, [float("nan") if v is None else v for v in val_acc], ".--", color="tab:orange", lw=1.2, ms=3
    )
    ax2.set_ylim(0, 1.02)
    ax2.tick_params(labelsize=6)
    ax2.axhline(1.0 / run["n_classes"], color="gray", lw=0.6, ls=":")
    ax.set_title(run["name"], fontsize=8, fontweight="bold", pad=12)
    ax.text(
        0.5,
        1.01,
        one_line_config(run["config"]),
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontsize=5.5,
    )
    ax.grid(alpha=0.3)
    if label is not None:
        text = "expected: " + (", ".join(label["expected"]) or "healthy")
        if label["acceptable"]:
            text += "  |  acceptable: " + ", ".join(label["acceptable"])
        ax.text(0.01, 0.98, text, transform=ax.transAxes, ha="left", va="top", fontsize=5.5, color="darkred")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=HERE / "runs")
    parser.add_argument("--out", type=Path, default=Path("/tmp/corpus_plots"))
    parser.add_argument("--per-page", type=int, default=12)
    parser.add_argument("--cols", type=int, default=4)
    parser.add_argument(
        "--labels",
        type=Path,
        default=None,
        help="labels.json to print in each panel (for reviewing the labels)",
    )
    args = parser.parse_args(argv)

    runs = [json.loads(p.read_text()) for p in sorted(args.runs.glob("*.json"))]
    labels: dict[str, Any] = json.loads(args.labels.read_text()) if args.labels else {}
    args.out.mkdir(parents=True, exist_ok=True)
    rows = -(-args.per_page // args.cols)
    for page, start in enumerate(range(0, len(runs), args.per_page), 1):
        fig, axes = plt.subplots(rows, args.cols, figsize=(4.2 * args.cols, 3.3 * rows), squeeze=False)
        for ax, run in zip(axes.flat, runs[start : start + args.per_page]):
            plot_run(ax, run, labels.get(run["name"]))
        for ax in list(axes.flat)[len(runs[start : start + args.per_page]) :]:
            ax.axis("off")
        fig.text(
            0.01,
            0.995,
            "blue: loss (solid train, dashed val), left axis;  orange: accuracy (solid train, dashed val), "
            "right axis;  dotted gray: chance",
            fontsize=7,
            va="top",
        )
        fig.tight_layout(rect=(0, 0, 1, 0.98))
        path = args.out / f"corpus_{page:02d}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
