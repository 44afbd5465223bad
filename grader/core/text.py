"""Student text, made safe to show: one sanitiser for every string a submission controls.

Exception messages and type names, reprs, printed output, cell error summaries and file names
all come from code we do not trust. Before any of them reaches an output (JSON, CSV,
Markdown, HTML, a terminal) it passes :func:`clean`, which

- coerces whatever it is given to ``str`` without running student code (a ``str`` subclass
  with its own ``__str__`` is read as the plain string it holds);
- joins surrogate pairs and replaces lone surrogates and non-characters with U+FFFD, so the
  result always encodes as UTF-8;
- drops control characters (C0 but newline and tab, DEL, C1), the bidirectional overrides
  that make a terminal or a page show other text than it holds, and turns carriage returns
  and Unicode line separators into newlines (so ``splitlines`` and ``split("\\n")`` agree);
- caps the length, saying ``[... N characters not shown]``: the result is never longer than
  the limit, so cleaning twice changes nothing.

The renderers' helpers are here too: :func:`csv_cell` (no cell starts a formula),
:func:`markdown` (student text outside code in Markdown), :func:`fence` (a code fence the
text cannot close) and :func:`terminal` (one line for a progress display).
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
# Not shown, ever: C0 controls but \t and \n (\r becomes \n first), DEL and C1, the bidi
# embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), and the BOM/ZWNBSP.
_DROPPED = "".join(chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20),
                                    *range(0x7F, 0xA0), *range(0x202A, 0x202F),
                                    *range(0x2066, 0x206A), 0xFEFF))
_TABLE = {ord(c): None for c in _DROPPED}
_TABLE.update({0x0D: "\n", 0x2028: "\n", 0x2029: "\n"})
_NONCHARACTERS = "\ufdd0-\ufdef\ufffe\uffff" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(1, 17))
# A surrogate pair (joined into its character), a lone surrogate, or a non-character.
_INVALID = re.compile("([\ud800-\udbff][\udc00-\udfff])|[\ud800-\udfff" + _NONCHARACTERS + "]")
_SAFE = re.compile(r"[\t\n\x20-\x7e]*")  # the common case: printable ASCII, nothing to do


def _valid(match: re.Match) -> str:
    pair = match.group(1)
    if pair is None:
        return REPLACEMENT
    return chr(0x10000 + ((ord(pair[0]) - 0xD800) << 10) + (ord(pair[1]) - 0xDC00))


def as_text(value) -> str:
    """``value`` as a plain ``str``, without calling any method a submission could define."""
    if value is None:
        return ""
    if isinstance(value, str):
        return str.__str__(value)  # a str subclass's own __str__ is never called
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    if type(value) in (int, float, bool, complex):
        return repr(value)
    try:
        return object.__repr__(value)  # a type name and an address, nothing of its own
    except Exception:  # noqa: BLE001  (nothing to show is better than a crash)
        return "?"


def _marker(hidden: int) -> str:
    return f" [... {hidden:,} characters not shown]"


def clean(value, limit: int | None = None) -> str:
    """``value`` as text that is safe in any output, at most ``limit`` characters long."""
    text = as_text(value)
    hidden = 0
    if limit is not None and len(text) > limit:
        # Cut before the work, so a 40 MB message costs what its first few KB cost; the
        # marker counts what was cut from the text as given.
        keep = max(0, limit - len(_marker(len(text))))
        hidden = len(text) - keep
        text = text[:keep]
    if not _SAFE.fullmatch(text):
        text = text.replace("\r\n", "\n").translate(_TABLE)
        text = _INVALID.sub(_valid, text)
    if hidden:
        text += _marker(hidden)
        if limit is not None and len(text) > limit:  # a tiny limit: the marker alone
            text = text[-limit:] if limit > 0 else ""
    return text


def clean_lines(value, line_limit: int, limit: int) -> str:
    """``clean``, with each line also capped: one huge line cannot hide the lines after it."""
    text = as_text(value)
    if len(text) <= line_limit:
        return clean(text, limit)
    # At most ``limit`` lines can be shown: the rest stays in one piece, to be cut.
    lines = text.replace("\r\n", "\n").split("\n", limit)
    return clean("\n".join(clean(line, line_limit) for line in lines), limit)


# ---------------------------------------------------------------- renderers' helpers

FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")  # and their full-width forms


def csv_cell(value, limit: int = 1000):
    """One CSV cell we write: numbers as they are; text cleaned, on one line, and prefixed
    with a single quote when a spreadsheet would read it as a formula (OWASP's rule: a cell
    starting with =, +, -, @, tab or carriage return, also after leading spaces). A run of
    dashes alone (Otter's ``--``) names no function and no cell: it is kept."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = clean(value, limit).replace("\n", " ").replace("\t", " ")
    if text and set(text) == {"-"}:
        return text
    stripped = text.lstrip(" \t\r\n")
    if text and (text[0] in FORMULA_STARTS or (stripped and stripped[0] in FORMULA_STARTS)):
        return "'" + text
    return text


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]])")


def markdown(value, limit: int | None = None) -> str:
    """Student text for Markdown, outside code: no HTML (an LMS renders inline HTML in
    Markdown), no links, images, code spans or emphasis of its own."""
    text = clean(value, limit)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def fence(value) -> str:
    """A backtick fence longer than any run of backticks in ``value``: the text inside a
    fenced code block can never close it."""
    runs = [len(run) for run in re.findall(r"`+", as_text(value))]
    return "`" * max(3, max(runs, default=0) + 1)


def terminal(value, limit: int = 200) -> str:
    """Student text for one line of a terminal: cleaned, newlines and tabs as spaces."""
    return clean(value, limit).replace("\n", " ").replace("\t", " ")


def csv_text(rows) -> str:
    """Rows as CSV, every cell through :func:`csv_cell`: one line, no control character, no
    formula."""
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        [[csv_cell(cell) for cell in row] for row in rows])
    return buffer.getvalue()


def tidy(value):
    """6.0 -> 6, 6.5 -> 6.5: scores as a person writes them."""
    return int(value) if float(value).is_integer() else value
