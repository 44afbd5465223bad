"""Which submissions of a class are unusually alike, and where: the report's similarity section.

Fingerprinting by winnowing (Schleimer, Wilkerson and Aiken, SIGMOD 2003; what MOSS and Dolos
do): each source is read by Python's ``tokenize`` (never run, never parsed into anything that
runs) into normalised tokens, the student's own names becoming ``V``, numbers ``0`` and strings
``"`` (keywords, builtins and operators stay), so renaming, new literals, comments and layout
change nothing. Every k consecutive tokens are hashed; winnowing keeps the smallest hash of each
window of ``window`` k-grams, which guarantees that any match of ``k + window - 1`` tokens or
more shares a fingerprint. Each fingerprint keeps the lines it came from.

    fingerprints(source, k=K, window=WINDOW) -> Fingerprints
    similar_pairs(current, template="", past=None, threshold=THRESHOLD, ...) -> list[Pair]
    source_of(path) -> Source   # a notebook's code cells joined, lines mapped back to cells

``current`` maps each student to their source (``source_of(path).text``). A fingerprint found
anywhere in the template (the handed-out notebook, given code: every k-gram, not only the
winnowed ones) is dropped, and so is one held by more than ``max_share`` of the class (or of
the past submissions), or by more than ``max_count`` submissions in all: a common idiom. One
held by two submissions is always kept. Pairs are counted from an inverted index (fingerprint
-> submissions), never by comparing every pair. A pair's ``score`` is its shared fingerprints
over the smaller side's count (1.0: all of the smaller one's own code is in the other); pairs
with at least ``min_shared`` shared and a score of ``threshold`` or more are returned, the most
alike first, each with its matching regions: line ranges of both sides, side by side, in a's
order (``Source.locate`` turns a line into a cell and a line in it). ``past`` (a past term's
submissions) are compared with the current ones, never with each other; their pairs have
``past=True`` and the past name in ``b``.

Sources are hostile text: what lies past ``MAX_CHARS``, ``MAX_LINES`` or ``MAX_TOKENS`` is
ignored (``Fingerprints.truncated``), and where ``tokenize`` fails (a syntax error, an unclosed
string or bracket) reading resumes after the failing line, so a broken cell costs its own
tokens, not the submission's. The cost per submission is bounded (under a second), memory
is a few tens of bytes per fingerprint, plus pair counts for a block of current submissions
against all, ``CELLS`` counts at a time, and the pairs ranked first.
"""

from __future__ import annotations

import bisect
import builtins
import io
import keyword
import tokenize
import zlib
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from pathlib import Path

import numpy as np

from grader.core.loading import load_submission

K = 15  # tokens per k-gram: a line of code is 5 to 12 normalised tokens
WINDOW = 6  # any match of K + WINDOW - 1 = 20 tokens or more is seen
THRESHOLD = 0.5
MIN_SHARED = 6  # fewer shared fingerprints than this is one idiom, not a copy
MAX_SHARE = 0.5  # a fingerprint in more than half of the class is a common idiom
MAX_CHARS = 2_000_000
MAX_TOKENS = 100_000
MAX_LINES = 50_000
MAX_RESTARTS = 200  # then the rest is read line by line
MAX_OCCURRENCES = 8  # positions kept per fingerprint and submission (repeated code)
MAX_REGIONS = 50
MAX_MATCHES = 4_000  # fingerprint matches chained into regions, per pair
MERGE_LINES = 5
SMALL = 16  # fingerprints held by at most this many submissions: pairs counted one by one
CELLS = 1 << 19  # pair counts held at once (2 MB; some 60 MB with the pairs found in them
# when every pair is alike): a larger class is counted in blocks of rows
CELL_MARKER = "# %%"  # a line starting so ends a cell: tokenising starts afresh after it

NAMES = frozenset(name for name in dir(builtins) if not name.startswith("_"))
SKIPPED = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                     tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER})
STRING_PARTS = frozenset(getattr(tokenize, name) for name in ("FSTRING_MIDDLE", "FSTRING_END")
                         if hasattr(tokenize, name))  # Python 3.12+: one f-string, one token
STRING_STARTS = frozenset(getattr(tokenize, name) for name in ("STRING", "FSTRING_START")
                          if hasattr(tokenize, name))

Lines = tuple[int, int]  # first and last line, 1-based, inclusive
Region = tuple[Lines, Lines]  # a's lines, b's lines


@dataclass(frozen=True)
class Fingerprints:
    """The winnowed fingerprints of one source, in order (compact arrays: a class holds
    hundreds of thousands)."""

    hashes: array  # of int64
    positions: array  # the index of each k-gram's first token
    first_lines: array  # the line of each k-gram's first token, from 1
    last_lines: array  # the line its last token ends on
    tokens: int
    truncated: bool  # the source was longer than MAX_CHARS, MAX_LINES or MAX_TOKENS

    def __len__(self) -> int:
        return len(self.hashes)

    def lines(self, index: int) -> Lines:
        """The lines of the fingerprint at ``index``."""
        return self.first_lines[index], self.last_lines[index]

    def to_json(self) -> dict:
        """Plain data, for a batch's state (computed once, where the submission is graded)."""
        return {"hashes": self.hashes.tolist(), "positions": self.positions.tolist(),
                "first_lines": self.first_lines.tolist(),
                "last_lines": self.last_lines.tolist(), "tokens": self.tokens,
                "truncated": self.truncated}

    @classmethod
    def read(cls, data) -> Fingerprints:
        """A record's fingerprints: as stored, or as ``state.Shared`` loaded them."""
        return data if isinstance(data, cls) else cls.from_json(data)

    @classmethod
    def from_json(cls, data: dict) -> Fingerprints:
        found = cls(array("q", data["hashes"]), array("l", data["positions"]),
                    array("l", data["first_lines"]), array("l", data["last_lines"]),
                    int(data["tokens"]), bool(data["truncated"]))
        if not len(found.hashes) == len(found.positions) == len(found.first_lines) == \
                len(found.last_lines):
            raise ValueError("fingerprints of different lengths")
        return found


@dataclass(frozen=True)
class Pair:
    """Two alike submissions; ``regions`` pairs a's lines with b's, in a's order."""

    a: str
    b: str
    score: float
    shared: int
    regions: tuple[Region, ...]
    past: bool = False  # b is a past submission


@dataclass(frozen=True)
class Source:
    """A submission's code cells joined by ``CELL_MARKER`` lines."""

    text: str
    starts: tuple[int, ...]  # the joined line of each cell's first line
    sizes: tuple[int, ...]  # each cell's number of lines

    def locate(self, line: int) -> tuple[int, int] | None:
        """(code cell, line in it), both from 1, of a joined line; None for a marker."""
        cell = bisect.bisect_right(self.starts, line) - 1
        if cell < 0 or line - self.starts[cell] >= self.sizes[cell]:
            return None
        return cell + 1, line - self.starts[cell] + 1


def source_of(path: Path) -> Source:
    """A submission's code cells as one source; raises ``SubmissionUnreadable`` as loading
    does."""
    return join_cells(load_submission(Path(path)).cells)


def join_cells(cells: Sequence[str]) -> Source:
    """Code cells as one source, each after a ``CELL_MARKER`` line of its own."""
    parts, starts, sizes, line = [], [], [], 1
    for number, cell in enumerate(cells, start=1):
        body = cell.split("\n")
        parts.append(f"{CELL_MARKER} code cell {number}")
        parts.extend(body)
        starts.append(line + 1)
        sizes.append(len(body))
        line += 1 + len(body)
    return Source("\n".join(parts) + "\n", tuple(starts), tuple(sizes))


# Tokens ------------------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def _code(text: str) -> int:
    """A normalised token as a small integer, the same in every process."""
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


NAME_CODES = {name: _code(name) for name in [*keyword.kwlist, *NAMES]}
VARIABLE, NUMBER, STRING = _code("V"), _code("0"), _code('"')


class _Tokens:
    """Normalised tokens with the lines each starts and ends on, up to MAX_TOKENS."""

    def __init__(self) -> None:
        self.codes: list[int] = []
        self.first: list[int] = []
        self.last: list[int] = []

    @property
    def full(self) -> bool:
        return len(self.codes) >= MAX_TOKENS

    def read(self, lines: list[str], offset: int) -> None:
        """Tokenise ``lines`` (the source's lines ``offset + 1`` on), resuming after each line
        where tokenize fails, and line by line once it has failed MAX_RESTARTS times."""
        start, restarts = 0, 0
        while start < len(lines) and not self.full:
            if restarts >= MAX_RESTARTS:
                for number in range(start, len(lines)):
                    line = lines[number].lstrip()
                    if line and not line.startswith("#") and not self.full:
                        self._read_one(line, offset + number)
                return
            failed = self._read_one("".join(lines[start:]), offset + start)
            if failed is None:
                return
            start += max(failed, 1)
            restarts += 1

    def _read_one(self, text: str, offset: int) -> int | None:
        """Tokenise ``text``, keeping what comes before an error; the failing line (from 1,
        relative to ``text``) or None."""
        seen = 0
        codes, first, last = self.codes, self.first, self.last
        try:
            for kind, string, (row, _), (end, _), _ in tokenize.generate_tokens(
                    io.StringIO(text).readline):
                seen = row
                if kind == tokenize.NAME:  # a keyword or builtin, or the student's own name
                    code = NAME_CODES.get(string, VARIABLE)
                elif kind == tokenize.OP:
                    code = _code(string)
                elif kind == tokenize.NUMBER:
                    code = NUMBER
                elif kind in STRING_STARTS:
                    code = STRING
                elif kind in SKIPPED or kind in STRING_PARTS or not string.strip():
                    continue
                else:  # a character tokenize could not read, as it is
                    code = _code(string)
                codes.append(code)
                first.append(offset + row)
                last.append(offset + end)
                if len(codes) >= MAX_TOKENS:
                    return None
        except tokenize.TokenError as error:
            where = error.args[1] if len(error.args) > 1 else None
            return max(where[0] if isinstance(where, tuple) else seen + 1, 1)
        except SyntaxError as error:  # IndentationError; Python 3.12+ raises it for more
            return max(error.lineno or seen + 1, 1)
        return None


def _tokens(source: str) -> tuple[_Tokens, bool]:
    """The source's tokens, each cell read on its own, and whether some were left unread."""
    text = source[:MAX_CHARS].replace("\0", " ")
    # Lines as editors count them, not as str.splitlines does (a form feed ends one there).
    parts = text.split("\n", MAX_LINES)
    lines = [line + "\n" for line in parts[:MAX_LINES]]
    truncated = len(source) > MAX_CHARS or (len(parts) > MAX_LINES and bool(parts[-1].strip()))
    tokens, cell = _Tokens(), 0
    for number, line in enumerate(lines + [CELL_MARKER]):
        if line.startswith(CELL_MARKER):
            tokens.read(lines[cell:number], cell)
            cell = number + 1
    return tokens, truncated or tokens.full


# Fingerprints ------------------------------------------------------------------------------

def _kgram_hashes(codes: Sequence[int], k: int) -> list[int]:
    """The hash of every k consecutive codes (a tuple's hash: deterministic for integers)."""
    codes = tuple(codes)
    return [hash(codes[i:i + k]) for i in range(len(codes) - k + 1)]


def _winnow(hashes: Sequence[int], window: int) -> list[int]:
    """Robust winnowing: the index of the smallest hash of each window, each index once, in
    order; on a tie the one already chosen, else the rightmost (so a run of equal k-grams
    yields one fingerprint per window, not one per k-gram)."""
    if not hashes:
        return []
    window = min(window, len(hashes))
    chosen: list[int] = []
    smallest = -1
    for end in range(window - 1, len(hashes)):
        start = end - window + 1
        if smallest < start:
            values = hashes[start:end + 1]
            least = min(values)
            smallest = end - values[::-1].index(least)
            chosen.append(smallest)
        elif hashes[end] < hashes[smallest]:
            smallest = end
            chosen.append(smallest)
    return chosen


def fingerprints(source: str, k: int = K, window: int = WINDOW) -> Fingerprints:
    """The winnowed fingerprints of a source, each with the lines of its k tokens."""
    if k < 1 or window < 1:
        raise ValueError(f"k and window must be at least 1, not k={k}, window={window}")
    tokens, truncated = _tokens(source)
    hashes = _kgram_hashes(tokens.codes, k)
    chosen = _winnow(hashes, window)
    return Fingerprints(
        hashes=array("q", (hashes[i] for i in chosen)),
        positions=array("l", chosen),
        first_lines=array("l", (tokens.first[i] for i in chosen)),
        last_lines=array("l", (tokens.last[i + k - 1] for i in chosen)),
        tokens=len(tokens.codes),
        truncated=truncated,
    )


def template_hashes(template: str | Iterable[str], k: int = K) -> frozenset[int]:
    """Every k-gram hash of the template's sources (winnowing would miss some)."""
    sources = [template] if isinstance(template, str) else list(template)
    return frozenset(h for source in sources for h in _kgram_hashes(_tokens(source)[0].codes, k))


# Pairs -------------------------------------------------------------------------------------

def similar_pairs(current: dict[str, str], template: str | Iterable[str] = "",
                  past: dict[str, str] | None = None, threshold: float = THRESHOLD, *,
                  k: int = K, window: int = WINDOW, min_shared: int = MIN_SHARED,
                  max_share: float = MAX_SHARE, max_count: int | None = None) -> list[Pair]:
    """Pairs of submissions whose own code is alike, the most alike first (module docstring)."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be between 0 and 1, not {threshold!r}")
    if not 0.0 < max_share <= 1.0:
        raise ValueError(f"max_share must be in (0, 1], not {max_share!r}")
    past = past or {}
    prints = {name: fingerprints(source, k, window) for name, source in current.items()}
    before = {name: fingerprints(source, k, window) for name, source in past.items()}
    return pairs_of(prints, template_hashes(template, k), before, threshold, k=k,
                    window=window, min_shared=min_shared, max_share=max_share,
                    max_count=max_count)


def pairs_of(current: dict[str, Fingerprints], given: frozenset[int],
             past: dict[str, Fingerprints] | None = None, threshold: float = THRESHOLD, *,
             k: int = K, window: int = WINDOW, min_shared: int = MIN_SHARED,
             max_share: float = MAX_SHARE, max_count: int | None = None,
             detail: int | None = None) -> list[Pair]:
    """``similar_pairs`` from fingerprints computed already (a batch computes each where the
    submission is graded), ``given`` being the template's hashes (``template_hashes``); the
    regions only of the ``detail`` most alike pairs (all when None)."""
    return top_pairs(current, given, past, threshold, k=k, window=window,
                     min_shared=min_shared, max_share=max_share, max_count=max_count,
                     detail=detail)[0]


def top_pairs(current: dict[str, Fingerprints], given: frozenset[int],
              past: dict[str, Fingerprints] | None = None, threshold: float = THRESHOLD, *,
              k: int = K, window: int = WINDOW, min_shared: int = MIN_SHARED,
              max_share: float = MAX_SHARE, max_count: int | None = None,
              detail: int | None = None, limit: int | None = None,
              cells: int = CELLS) -> tuple[list[Pair], int]:
    """``pairs_of``'s first ``limit`` pairs (all when None), and how many there are: pairs are
    counted ``cells`` at a time, a block of current submissions against all, and only the
    first ``limit`` so far are kept, so a class whose every pair is alike holds a bounded
    part of its pairs, as arrays, not as objects."""
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be None or at least 0, not {limit!r}")
    past = past or {}
    names = [*current, *past]
    prints = [*current.values(), *past.values()]
    tables, many, counted, sizes = _index(prints, given, len(current), len(past), max_share,
                                          max_count)
    place = {name: number for number, name in enumerate(sorted(set(names)))}
    rank = np.array([place[name] for name in names], dtype=np.int64)  # a past term's alice
    best = (np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
    total = 0
    for start, shared in _count_shared(tables, many, len(current), len(prints), cells):
        rows, second = np.nonzero(shared >= max(min_shared, 1))
        counts, first = shared[rows, second].astype(np.int64), rows + start
        del rows
        exact = counts / np.minimum(sizes[first], sizes[second])  # as Python divides: IEEE
        chosen = exact >= threshold
        first, second, counts, exact = first[chosen], second[chosen], counts[chosen], \
            exact[chosen]
        total += len(exact)
        # The pairs so far first: the ranking is stable, so ties stay in the order of one
        # ranking of them all (row by row).
        found = (np.concatenate([best[0], _rounded(exact)]), np.concatenate([best[1], counts]),
                 np.concatenate([best[2], first]), np.concatenate([best[3], second]))
        # Most alike first, then most shared, then by the names.
        order = np.lexsort((rank[found[3]], rank[found[2]], -found[1], -found[0]))[:limit]
        best = tuple(column[order] for column in found)
    pairs = [Pair(names[i], names[j], score, count,
                  _regions(prints[i], prints[j], counted, k + window)
                  if detail is None or number < detail else (), past=j >= len(current))
             for number, (score, count, i, j) in enumerate(zip(
                 *(column.tolist() for column in best), strict=True))]
    return pairs, total


def _rounded(scores: np.ndarray, chunk: int = 1 << 16) -> np.ndarray:
    """Scores rounded to 4 places as Python rounds (as a person reads them), a chunk at a
    time."""
    rounded = np.empty_like(scores)
    for start in range(0, len(scores), chunk):
        rounded[start:start + chunk] = [round(score, 4)
                                        for score in scores[start:start + chunk].tolist()]
    return rounded


def _index(prints: list[Fingerprints], given: frozenset[int], current: int, past: int,
           max_share: float, max_count: int | None
           ) -> tuple[list[np.ndarray], tuple[np.ndarray, np.ndarray], np.ndarray, np.ndarray]:
    """The inverted index, as sorted arrays (a class's fingerprints, hundreds of thousands,
    mostly held by one submission each), of the fingerprints that count and that two or more
    hold: their holders (in order: current ones first), as a table (a row per fingerprint)
    for each count of holders up to SMALL, and for those more hold, as one flat array with
    each one's count of holders; those fingerprints (sorted); and how many that count each
    submission holds. A fingerprint of the template (``given``) never counts,
    nor a common idiom: one held by more than ``max_share`` of this term's class or of the
    past one's, or by more than ``max_count`` in all; one held by two always counts."""
    template = np.sort(np.fromiter(given, np.int64, len(given)))
    owns = [np.unique(np.asarray(found.hashes, dtype=np.int64)) for found in prints]
    owns = [own[~_within_sorted(own, template)] for own in owns]
    holders = np.repeat(np.arange(len(prints), dtype=np.int32), [len(own) for own in owns])
    hashes = np.concatenate([np.zeros(0, np.int64), *owns])
    del owns
    order = np.argsort(hashes, kind="stable")  # holders stay in order within a fingerprint
    hashes, holders = hashes[order], holders[order]
    del order
    starts = np.flatnonzero(np.concatenate([[True], hashes[1:] != hashes[:-1]])[:len(hashes)])
    lengths = np.diff(starts, append=len(hashes))
    mine = np.add.reduceat((holders < current).astype(np.int64), starts) if len(starts) else \
        np.zeros(0, np.int64)
    most_current, most_past = max(2, int(max_share * current)), max(2, int(max_share * past))
    most = max(2, max_count) if max_count is not None else current + past
    counts = (mine <= most_current) & (lengths - mine <= most_past) & (lengths <= most)
    sizes = np.bincount(holders[np.repeat(counts, lengths)], minlength=len(prints))
    shared = counts & (lengths >= 2)
    tables = [holders[starts[shared & (lengths == length)][:, None] + np.arange(length)]
              for length in range(2, SMALL + 1)]
    many = shared & (lengths > SMALL)
    return tables, (holders[np.repeat(many, lengths)], lengths[many]), \
        hashes[starts[shared]], sizes


def _within_sorted(values: np.ndarray, sorted_: np.ndarray) -> np.ndarray:
    """Whether each value is in ``sorted_`` (ascending): ``np.isin`` without sorting it again."""
    at = np.minimum(np.searchsorted(sorted_, values), max(len(sorted_) - 1, 0))
    return sorted_[at] == values if len(sorted_) else np.zeros(len(values), bool)


def _count_shared(tables: list[np.ndarray], many: tuple[np.ndarray, np.ndarray], current: int,
                  total: int, cells: int = CELLS) -> Iterator[tuple[int, np.ndarray]]:
    """Shared fingerprints of each pair (i, j), i < j, i current, j current or past, as
    blocks of a current x total matrix (zero elsewhere), each of at most ``cells`` counts
    (or one row): the first row's number and the block. ``tables`` and ``many`` are
    ``_index``'s holders. Past submissions are never paired together."""
    rows = max(1, cells // max(total, 1))
    tables = [table for table in tables if len(table)]
    flat, sizes = many  # each holder, and which fingerprint's it is
    firsts = np.cumsum(sizes) - sizes
    fingerprint = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
    for start in range(0, current, rows):
        end = min(current, start + rows)
        shared = np.zeros((end - start, total), dtype=np.int32)
        for table in tables:  # each pair of holders, a column pair at a time
            for a, b in combinations(range(table.shape[1]), 2):
                first, second = table[:, a], table[:, b]
                inside = (first >= start) & (first < end)  # a current one in this block
                np.add.at(shared, (first[inside] - start, second[inside]), 1)
        cell = shared.reshape(-1)
        inside = np.flatnonzero((flat >= start) & (flat < end))
        ends = np.cumsum(sizes[fingerprint[inside]])
        done, chunk = 0, max(cells // 4, 1)
        while done < len(inside):  # each holder here with all of its fingerprint's holders
            stop = max(done + 1, int(np.searchsorted(ends, ends[done] + chunk, "right")))
            part = inside[done:stop]
            span = sizes[fingerprint[part]]
            at = np.repeat(firsts[fingerprint[part]] - (np.cumsum(span) - span), span)
            at += np.arange(len(at))
            at = flat[at] + np.repeat((flat[part].astype(np.int64) - start) * total, span)
            np.add(cell, np.bincount(at, minlength=cell.size), out=cell, casting="unsafe")
            done = stop  # j <= i cleared below
        for row in range(end - start):
            shared[row, :start + row + 1] = 0
        yield start, shared


def _occurrences(found: Fingerprints, wanted) -> dict[int, list[int]]:
    """Where each wanted hash is in ``found`` (its first MAX_OCCURRENCES places)."""
    at: dict[int, list[int]] = defaultdict(list)
    for index, h in enumerate(found.hashes):
        if h in wanted and len(at[h]) < MAX_OCCURRENCES:
            at[h].append(index)
    return at


def _regions(a: Fingerprints, b: Fingerprints, counted: np.ndarray, gap: int) -> tuple[Region, ...]:
    """The ``counted`` fingerprints a and b share, chained into runs that advance together on
    both sides, at most ``gap`` tokens at a time (a reordered function starts a new run), as
    line ranges of both sides."""
    b_hashes = np.asarray(b.hashes, dtype=np.int64)
    in_b = _occurrences(b, set(b_hashes[_within_sorted(b_hashes, counted)].tolist()))
    in_a = _occurrences(a, in_b.keys())
    matches = sorted((i, j) for h, at in in_a.items() for i in at for j in in_b[h])
    matches = matches[:MAX_MATCHES]  # bounded work per pair, however repetitive the code
    runs: list[list[tuple[int, int]]] = []
    for i, j in matches:
        for run in reversed(runs[-8:]):  # only recent runs can still be extended
            last_i, last_j = run[-1]
            if 0 < a.positions[i] - a.positions[last_i] <= gap and \
                    0 < b.positions[j] - b.positions[last_j] <= gap:
                run.append((i, j))
                break
        else:
            runs.append([(i, j)])
    shown: list[Region] = []
    for run in sorted(runs, key=len, reverse=True):  # a repeated piece maps to its longest
        span_a, span_b = _span(a, [i for i, _ in run]), _span(b, [j for _, j in run])
        if not any(_within(span_a, other_a) or _within(span_b, other_b)
                   for other_a, other_b in shown):
            shown.append((span_a, span_b))
    return tuple(_merged(shown)[:MAX_REGIONS])


def _within(one: Lines, other: Lines) -> bool:
    return other[0] <= one[0] and one[1] <= other[1]


def _span(found: Fingerprints, indices: list[int]) -> Lines:
    return (min(found.first_lines[i] for i in indices),
            max(found.last_lines[i] for i in indices))


def _merged(regions: Iterable[Region]) -> list[Region]:
    """Regions that follow one another on both sides, at most MERGE_LINES apart (template
    lines in between, say), as one."""
    merged: list[Region] = []
    for a, b in sorted(regions):
        if merged:
            (a0, a1), (b0, b1) = merged[-1]
            if a[0] <= a1 + MERGE_LINES and b1 - 1 <= b[0] <= b1 + MERGE_LINES:
                merged[-1] = ((a0, max(a1, a[1])), (b0, max(b1, b[1])))
                continue
        merged.append((a, b))
    return merged
