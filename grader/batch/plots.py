"""The class report's figures (matplotlib, drawn off-screen), as base64 PNG.

A figure is drawn only when the data it shows changed: each is kept in the output folder's
state with a hash of its data, of this module and of matplotlib's version, so a re-run that
rewrites the report (a roster, a due date, scores by hand) neither draws nor imports
matplotlib.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from importlib import metadata
from pathlib import Path

BLUE, GREEN, RED, GREY = "#3b6ea5", "#4c9a5b", "#c44e52", "#8c8c8c"
LONGEST_TEST_LIST = 40
SLOWEST = 12


def class_plots(totals: list[float], maximum: float, questions: list[dict],
                tests: list[dict], kept: Path | None = None) -> dict[str, str]:
    """The report's figures as base64 PNG, by name; ``kept``: a folder where drawn figures
    are kept, and taken from while their data is unchanged."""
    data = {"histogram": (totals, maximum), "questions": (questions,)}
    if tests:
        data["tests"] = (tests,)
        data["slowest"] = (tests,)
    drawing = Path(__file__).read_bytes() + _version().encode()  # how figures are drawn
    return {name: _kept_or_drawn(name, arguments, drawing, kept)
            for name, arguments in data.items()}


def _kept_or_drawn(name: str, arguments: tuple, drawing: bytes, kept: Path | None) -> str:
    from grader.batch.state import write_atomically

    key = hashlib.sha256(json.dumps([name, arguments], sort_keys=True,
                                    default=str).encode() + drawing)
    path = kept / f"{name}.json" if kept is not None else None
    try:
        found = json.loads(path.read_text()) if path else None
    except (OSError, ValueError):
        found = None
    if isinstance(found, dict) and found.get("key") == key.hexdigest() and \
            isinstance(found.get("png"), str):
        return found["png"]
    png = _png(DRAWERS[name](*arguments))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps({"key": key.hexdigest(), "png": png}))
    return png


def _version() -> str:
    try:
        return metadata.version("matplotlib")
    except metadata.PackageNotFoundError:
        return ""


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(figure) -> str:
    plt = _pyplot()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def _histogram(totals: list[float], maximum: float):
    figure, axes = _pyplot().subplots(figsize=(6.4, 3.2))
    bins = min(20, max(5, int(maximum) or 5))
    axes.hist(totals, bins=bins, range=(0, maximum or 1), color=BLUE, edgecolor="white")
    axes.set_xlabel(f"total score (of {maximum:g})")
    axes.set_ylabel("submissions")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_title("Scores")
    axes.spines[["top", "right"]].set_visible(False)
    return figure


def _questions(questions: list[dict]):
    figure, axes = _pyplot().subplots(figsize=(6.4, 3.2))
    labels = [q["id"] for q in questions]
    values = [q["percent"] for q in questions]
    bars = axes.bar(labels, values, color=[_colour(v) for v in values])
    axes.bar_label(bars, labels=[f"{v:.0f}%" for v in values], fontsize=8)
    axes.set_ylim(0, 110)
    axes.set_ylabel("mean score (% of points)")
    axes.set_title("Per question")
    axes.spines[["top", "right"]].set_visible(False)
    return figure


def _pass_rates(tests: list[dict]):
    shown = sorted(tests, key=lambda t: (t["rate"], t["name"]))[:LONGEST_TEST_LIST]
    figure, axes = _pyplot().subplots(figsize=(8, 0.8 + 0.24 * len(shown)))
    names = [_short(t["name"]) + (" (hidden)" if t["visibility"] == "hidden" else "")
             for t in shown]
    axes.barh(names, [t["rate"] for t in shown], color=[_colour(t["rate"]) for t in shown])
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel("submissions passing (%)")
    title = "Per test, hardest first"
    if len(tests) > len(shown):
        title += f" ({len(shown)} of {len(tests)} tests)"
    axes.set_title(title)
    axes.tick_params(axis="y", labelsize=7)
    axes.spines[["top", "right"]].set_visible(False)
    return figure


def _slowest(tests: list[dict]):
    shown = sorted(tests, key=lambda t: -t["mean_seconds"])[:SLOWEST]
    figure, axes = _pyplot().subplots(figsize=(8, 0.8 + 0.26 * len(shown)))
    axes.barh([_short(t["name"]) for t in shown], [t["mean_seconds"] for t in shown],
              color=GREY, label="mean")
    axes.scatter([t["max_seconds"] for t in shown], range(len(shown)), color=RED, s=12,
                 label="slowest", zorder=3)
    axes.invert_yaxis()
    axes.set_xlabel("seconds per submission")
    axes.set_title("Slowest tests")
    axes.legend(loc="lower right", fontsize=8)
    axes.tick_params(axis="y", labelsize=7)
    axes.spines[["top", "right"]].set_visible(False)
    return figure


def _colour(percent: float) -> str:
    return GREEN if percent >= 80 else BLUE if percent >= 50 else RED


def _short(name: str) -> str:
    return name.split("::")[-1] if len(name) > 48 else name


DRAWERS = {"histogram": _histogram, "questions": _questions, "tests": _pass_rates,
           "slowest": _slowest}
