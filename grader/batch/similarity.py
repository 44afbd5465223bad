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
is a few tens of bytes per fingerprint, plus a current x all matrix of pair counts.
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
from collections.abc import Iterable, Sequence
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
              detail: int | None = None, limit: int | None = None) -> tuple[list[Pair], int]:
    """``pairs_of``'s first ``limit`` pairs (all when None), and how many there are: a class
    whose every pair is alike holds its pairs as arrays, not as objects."""
    past = past or {}
    names = [*current, *past]
    prints = [*current.values(), *past.values()]
    index: dict[int, list[int]] = defaultdict(list)  # holders in order: current ones first
    for number, found in enumerate(prints):
        for h in set(found.hashes) - given:
            index[h].append(number)
    common = _common(len(current), len(past), max_share, max_count)
    kept = {h: holders for h, holders in index.items() if not common(holders)}
    sizes = np.bincount(np.fromiter((n for holders in kept.values() for n in holders),
                                    np.int64), minlength=len(prints))
    shared = _count_shared(kept.values(), len(current), len(prints))
    first, second = np.nonzero(shared >= max(min_shared, 1))
    counts = shared[first, second]
    del shared
    exact = counts / np.minimum(sizes[first], sizes[second])  # as Python divides: IEEE
    chosen = exact >= threshold
    first, second, counts = first[chosen], second[chosen], counts[chosen]
    # Rounded as Python rounds, as a person reads the score.
    scores = np.array([round(score, 4) for score in exact[chosen].tolist()], dtype=np.float64)
    place = {name: number for number, name in enumerate(sorted(set(names)))}
    rank = np.array([place[name] for name in names], dtype=np.int64)  # a past term's alice
    # Most alike first, then most shared, then by the names.
    order = np.lexsort((rank[second], rank[first], -counts, -scores))[:limit]
    pairs = [Pair(names[i], names[j], score, count,
                  _regions(prints[i], prints[j], kept.keys(), k + window)
                  if detail is None or number < detail else (), past=j >= len(current))
             for number, (score, count, i, j) in enumerate(zip(
                 scores[order].tolist(), counts[order].tolist(), first[order].tolist(),
                 second[order].tolist(), strict=True))]
    return pairs, len(scores)


def _common(current: int, past: int, max_share: float, max_count: int | None):
    """Whether a fingerprint's holders make it a common idiom: more than ``max_share`` of
    this term's class or of the past one's, or more than ``max_count`` in all; never when
    two hold it."""
    most_current, most_past = max(2, int(max_share * current)), max(2, int(max_share * past))
    most = max(2, max_count) if max_count is not None else current + past

    def common(holders: list[int]) -> bool:
        mine = bisect.bisect_left(holders, current)
        return mine > most_current or len(holders) - mine > most_past or len(holders) > most

    return common


def _count_shared(holders_of: Iterable[list[int]], current: int, total: int) -> np.ndarray:
    """Shared fingerprints of each pair (i, j), i < j, i current, j current or past, as a
    current x total matrix (zero elsewhere): past submissions are never paired together."""
    shared = np.zeros((current, total), dtype=np.int32)
    rows, columns = array("q"), array("q")
    for holders in holders_of:
        mine = bisect.bisect_left(holders, current)  # holders sorted: current ones first
        if len(holders) < 2 or mine == 0:
            continue
        if len(holders) > SMALL:
            shared[np.ix_(holders[:mine], holders)] += 1  # lower triangle cleared below
            continue
        for i, j in combinations(holders, 2):
            if i < current:
                rows.append(i)
                columns.append(j)
    np.add.at(shared, (np.frombuffer(rows, np.int64), np.frombuffer(columns, np.int64)), 1)
    shared[:, :current][np.tril_indices(current)] = 0
    return shared


def _occurrences(found: Fingerprints, wanted) -> dict[int, list[int]]:
    """Where each wanted hash is in ``found`` (its first MAX_OCCURRENCES places)."""
    at: dict[int, list[int]] = defaultdict(list)
    for index, h in enumerate(found.hashes):
        if h in wanted and len(at[h]) < MAX_OCCURRENCES:
            at[h].append(index)
    return at


def _regions(a: Fingerprints, b: Fingerprints, counted, gap: int) -> tuple[Region, ...]:
    """The ``counted`` fingerprints a and b share, chained into runs that advance together on
    both sides, at most ``gap`` tokens at a time (a reordered function starts a new run), as
    line ranges of both sides."""
    in_b = _occurrences(b, counted)
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
