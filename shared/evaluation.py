"""Classification metrics and the confusion-matrix picture.

    report = classification_report(gold, predicted, labels)
    print(format_report(report)); confusion_png(gold, predicted, labels, "cm.png")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def classification_report(gold: list[str], predicted: list[str], labels: list[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 and per-class precision/recall/F1/support (scikit-learn)."""
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, zero_division=0)
    per_class = {label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                 for label, p, r, f, s in zip(labels, precision, recall, f1, support)}
    return {
        "accuracy": float(accuracy_score(gold, predicted)),
        "macro_f1": float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)),
        "n": len(gold),
        "per_class": per_class,
    }


def format_report(report: dict[str, Any]) -> str:
    """The report as a fixed-width table for a terminal."""
    width = max([len(label) for label in report["per_class"]] + [9])
    lines = [f"{'label':<{width}}  precision  recall     f1  support"]
    for label, m in report["per_class"].items():
        lines.append(f"{label:<{width}}  {m['precision']:9.3f}  {m['recall']:6.3f}  {m['f1']:5.3f}  {m['support']:7d}")
    lines.append(f"accuracy {report['accuracy']:.4f}  macro-F1 {report['macro_f1']:.4f}  n={report['n']}")
    return "\n".join(lines)


def confusion_png(gold: list[str], predicted: list[str], labels: list[str], path: str | Path,
                  title: str = "Confusion matrix") -> Path:
    """Write a row-normalised confusion matrix as a PNG and return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(gold, predicted, labels=labels, normalize="true")
    size = max(4.0, 0.22 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
    ticks = range(len(labels))
    ax.set_xticks(ticks, labels, rotation=90, fontsize=8 if len(labels) > 20 else 10)
    ax.set_yticks(ticks, labels, fontsize=8 if len(labels) > 20 else 10)
    if len(labels) <= 12:
        for i in ticks:
            for j in ticks:
                ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center",
                        color="white" if matrix[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def curve_png(history: list[dict[str, Any]], path: str | Path, title: str = "Training curve") -> Path:
    """Plot training loss (and the dev score when present) per step as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    steps = [h["step"] for h in history if "loss" in h]
    ax.plot(steps, [h["loss"] for h in history if "loss" in h], label="train loss", color="tab:blue")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    dev = [h for h in history if "dev" in h]
    if dev:
        other = ax.twinx()
        other.plot([h["step"] for h in dev], [h["dev"] for h in dev], "o-", color="tab:orange", label="dev")
        other.set_ylabel("dev score")
    ax.set_title(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
