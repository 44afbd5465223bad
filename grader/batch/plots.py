"""The class report's figures (matplotlib, drawn off-screen)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

BLUE, GREEN, RED, GREY = "#3b6ea5", "#4c9a5b", "#c44e52", "#8c8c8c"
LONGEST_TEST_LIST = 40
SLOWEST = 12


def class_plots(totals: list[float], maximum: float, questions: list[dict],
                tests: list[dict]) -> dict:
    figures = {"histogram": _histogram(totals, maximum), "questions": _questions(questions)}
    if tests:
        figures["tests"] = _pass_rates(tests)
        figures["slowest"] = _slowest(tests)
    return figures


def _histogram(totals: list[float], maximum: float):
    figure, axes = plt.subplots(figsize=(6.4, 3.2))
    bins = min(20, max(5, int(maximum) or 5))
    axes.hist(totals, bins=bins, range=(0, maximum or 1), color=BLUE, edgecolor="white")
    axes.set_xlabel(f"total score (of {maximum:g})")
    axes.set_ylabel("submissions")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_title("Scores")
    axes.spines[["top", "right"]].set_visible(False)
    return figure


def _questions(questions: list[dict]):
    figure, axes = plt.subplots(figsize=(6.4, 3.2))
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
    figure, axes = plt.subplots(figsize=(8, 0.8 + 0.24 * len(shown)))
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
    figure, axes = plt.subplots(figsize=(8, 0.8 + 0.26 * len(shown)))
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
