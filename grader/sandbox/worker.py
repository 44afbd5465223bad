"""The untrusted side: runs a submission's cells, then answers requests over one socket.

Everything here executes in the sandboxed child, next to student code, so nothing here is
trusted: the grader only ever reads plain data back (``wire.decode``) and checks it.
"""

from __future__ import annotations

import builtins
import linecache
import os
import socket
import struct
import sys
import traceback

import cloudpickle

from grader.sandbox import wire

CELL_FILE = "<code cell {}>"
NEUTRALISED = "pass  # "  # how loading writes a magic or a check call it does not run


class CappedText:
    """A text stream that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int):
        self.limit, self.parts, self.size, self.dropped = limit, [], 0, 0

    def write(self, text) -> int:
        text = str(text)
        room = self.limit - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def take(self) -> str:
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n[... {self.dropped} more characters of output not kept]"
        self.parts, self.size, self.dropped = [], 0, 0
        return text


def is_cell_file(filename: str) -> bool:
    return filename.startswith("<code cell ")


def describe_exception(error: BaseException, shipped: frozenset[str] = frozenset(),
                       student_file=is_cell_file, cell_lines=linecache.getlines) -> dict:
    """Type, message, the student-cell frames of ``error`` and where it was raised: in the
    student's code, or in code a test shipped (files in ``shipped``), as plain data.
    ``student_file`` tells a cell's file name, ``cell_lines`` gives the cell's lines as the
    student wrote them (in a Jupyter kernel, IPython's)."""
    stack = traceback.extract_tb(error.__traceback__)
    frames = [f for f in stack if student_file(f.filename)]
    raised_in = next(("test" if f.filename in shipped else "student" for f in reversed(stack)
                      if f.filename in shipped or student_file(f.filename)), "student")
    if isinstance(error, SyntaxError) and student_file(error.filename or ""):
        where = [cell_place(error.filename, error.lineno or 0, None, error.text, cell_lines)]
    else:
        where = [cell_place(f.filename, f.lineno or 0, f.name, f.line, cell_lines)
                 for f in frames[-5:]]
    try:
        message = str(error)
    except Exception:
        message = "(the exception's message could not be printed)"
    function = frames[-1].name if frames and frames[-1].name != "<module>" else ""
    return {"type": type(error).__name__[:100], "message": message[:2000], "where": where,
            "raised_in": raised_in, "function": function[:100]}


def first_line(lines) -> str:
    """A cell's first line that is not blank, shortened: how a student finds the cell."""
    first = next((text.strip() for text in lines if text.strip()), "")
    first = first.removeprefix(NEUTRALISED)  # as the student wrote it
    if first.startswith("# %%"):
        first = first[2:]  # a cell magic whose body runs (%%time), as the student wrote it
    return first if len(first) <= 60 else first[:57] + "..."


def cell_place(filename: str, line: int, function: str | None, code: str | None,
               cell_lines=linecache.getlines) -> str:
    """Where in a cell, as a student finds it in Jupyter (which numbers no cell): the
    function, the line within the cell, and the cell's first line."""
    first = first_line(cell_lines(filename))
    cell = f'line {line} of the cell starting "{first}"' if first else f"line {line} of a cell"
    place = f"in {function} ({cell})" if function and function != "<module>" else f"at {cell}"
    code = (code or "").strip()
    return f"{place}: {code}" if code else place


def display(*objects, **options) -> None:
    """Jupyter's ``display``, as IPython does it outside a notebook: print each object."""
    print(*objects)


class InertShell:
    """What ``get_ipython()`` returns here: every method exists and does nothing, so a
    notebook's ``get_ipython().run_line_magic("matplotlib", "inline")`` runs as in Jupyter."""

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: None


class Session:
    """The submission's namespace and the handlers of each request."""

    def __init__(self, output: CappedText):
        shell = InertShell()
        self.given = {"display": display, "get_ipython": lambda: shell}  # as Jupyter gives
        self.namespace = {"__name__": "__main__", "__builtins__": builtins, **self.given}
        self.output = output
        self.shipped: set[str] = set()  # files of the code tests ship: not the student's
        self.guarded = False

    def cell(self, index: int, source: str, imports=None):
        if imports is not None and not self.guarded:
            guard_imports(imports)
            self.guarded = True
        filename = CELL_FILE.format(index + 1)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        code = compile(source, filename, "exec")
        exec(code, self.namespace)

    def call(self, name: str, args, kwargs, return_args: bool = False):
        if name not in self.namespace:
            return {"missing": name}
        function = self.namespace[name]
        if not callable(function):
            return {"not_callable": name, "type": type(function).__name__}
        value = function(*args, **kwargs)
        return {"value": value, "args": list(args) if return_args else None}

    def run(self, function, args, kwargs):
        code = getattr(function, "__code__", None)
        if code is not None:
            self.shipped.add(code.co_filename)
        return {"value": function(self.namespace, *args, **kwargs)}

    def names(self):
        return {"value": {name: _kind(value) for name, value in list(self.namespace.items())
                          if not name.startswith("__") and value is not self.given.get(name)}}

    def take_output(self):
        return {"value": self.output.take()}


def guard_imports(allowed) -> None:
    """Student code (code compiled from a cell) imports only the standard library and the
    modules the assignment allows, installed or not: what the checks tell students holds at
    grading. Not a security measure (student code can undo it, and gains nothing): a
    consistency one. The library code and the code tests ship import as usual."""
    permitted = frozenset(allowed) | sys.stdlib_module_names
    original = builtins.__import__

    def guarded(name, globals=None, locals=None, fromlist=(), level=0):
        top = name.partition(".")[0]
        if level == 0 and top not in permitted and \
                is_cell_file(sys._getframe(1).f_code.co_filename):
            raise ModuleNotFoundError(f"No module named {top!r}", name=top)
        return original(name, globals, locals, fromlist, level)

    builtins.__import__ = guarded


def _kind(value) -> str:
    if isinstance(value, type):
        return "class"
    return "function" if callable(value) else "value"


def serve(channel: socket.socket, limits) -> None:
    """Answer requests until the trusted side closes the channel."""
    output = CappedText(limits.output_kb * 1024)
    sys.stdout = sys.stderr = output
    sys.stdin = open(os.devnull)
    session = Session(output)
    serving = os.getpid()
    handlers = {"cell": session.cell, "call": session.call, "run": session.run,
                "names": session.names, "output": session.take_output}
    while True:
        request = _receive(channel)
        if request is None:
            os._exit(0)
        request_id, operation, args = request
        try:
            reply = {"id": request_id, **(handlers[operation](*args) or {})}
        except BaseException as error:  # student code may raise anything, SystemExit included
            reply = {"id": request_id,
                     "raised": describe_exception(error, frozenset(session.shipped))}
        if os.getpid() != serving:
            os._exit(0)  # a process the submission forked: only the worker itself answers
        try:
            payload = wire.encode(reply)
        except BaseException as error:  # e.g. MemoryError while encoding a huge value
            payload = wire.encode({"id": request_id, "raised": describe_exception(error)})
        channel.sendall(wire.frame(payload))


def _receive(channel: socket.socket):
    header = _read_exactly(channel, 8)
    if header is None:
        return None
    (length,) = struct.unpack(">Q", header)
    payload = _read_exactly(channel, length)
    return None if payload is None else cloudpickle.loads(payload)


def _read_exactly(channel: socket.socket, size: int) -> bytes | None:
    chunks, remaining = [], size
    while remaining:
        chunk = channel.recv(min(remaining, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
