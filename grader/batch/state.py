"""What a batch keeps between runs: per submission, the key it was graded under (the content
hashes of the file, the assignment, the grader and the course secret) beside its result, each
file written atomically, so that a run grades only what is missing or out of date."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import yaml

from grader.batch.collect import Submission
from grader.batch.jobs import bundle_digest
from grader.core.settings import Assignment

STATE = ".dlgrade"
PACKAGE = Path(__file__).resolve().parent.parent


def assignment_bundle(assignment: Assignment) -> dict:
    """What grading needs of the assignment, by value: its config (pointing at the bundled
    tests and reference), its tests and its reference. Its hash is the assignment's key."""
    folder = Path("assignments") / assignment.folder.name
    files = {}
    for path in sorted(assignment.tests.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files[(folder / "tests" / path.relative_to(assignment.tests)).as_posix()] = \
                path.read_bytes()
    files[f"solutions/{assignment.reference.name}"] = assignment.reference.read_bytes()
    config = yaml.safe_load((assignment.folder / "assignment.yml").read_text())
    config.update(tests="tests", reference=f"../../solutions/{assignment.reference.name}")
    for key in ("due", "late"):  # who is late changes no grading: not part of its key
        config.pop(key, None)
    files[(folder / "assignment.yml").as_posix()] = yaml.safe_dump(config).encode()
    return {"folder": folder.as_posix(), "files": files}


def base_key(bundle: dict, secret: str) -> str:
    digest = hashlib.sha256(f"{secret}\0{bundle_digest(bundle)}".encode())
    for path in sorted(PACKAGE.rglob("*.py")):  # a new grader may grade differently
        digest.update(path.read_bytes())
    return digest.hexdigest()


def submission_key(base: str, submission: Submission) -> str:
    digest = hashlib.sha256(base.encode() + submission.source.encode() + b"\0")
    with open(submission.path, "rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def state_path(out: Path, student: str) -> Path:
    return out / STATE / f"{student}.json"


def stored(out: Path, student: str, object_pairs_hook=None) -> dict | None:
    try:
        return json.loads(state_path(out, student).read_text(),
                          object_pairs_hook=object_pairs_hook)
    except (OSError, ValueError):
        return None


class Shared:
    """Records as a class stage holds them, a thousand at once: what they repeat is held once.
    Every string of up to ``SHORT`` characters is one object, every small flat object (a test's
    outcome, a question's score) one dict shared by the records that have it, and the
    similarity fingerprints compact arrays. Shared dicts are never changed: whoever edits a
    result edits a copy (``outputs.safe_result``)."""

    SHORT = 200
    SMALL = 8  # flat objects of at most this many keys are shared

    def __init__(self):
        self.strings: dict[str, str] = {}
        self.objects: dict[tuple, dict] = {}

    def load(self, out: Path, student: str) -> dict | None:
        """``stored(out, student)``, sharing."""
        record = stored(out, student, self._object)
        if type(record) is dict and type(record.get("fingerprints")) is dict:
            from grader.batch.similarity import Fingerprints

            try:
                record["fingerprints"] = Fingerprints.from_json(record["fingerprints"])
            except (KeyError, TypeError, ValueError, OverflowError):
                pass  # left as it is: the similarity section skips what it cannot read
        return record

    def share(self, value):
        """``value`` (plain data) with what it repeats shared, as ``load`` does; unshared
        when it is nested deeper than Python recurses (only a hand-made state file is)."""
        try:
            return self._share(value)
        except RecursionError:
            return value

    def _share(self, value):
        if type(value) is dict:
            return self._object([(k, self._share(v)) for k, v in value.items()])
        if type(value) is list:
            return [self._share(v) for v in value]
        if type(value) is str and len(value) <= self.SHORT:
            return self.strings.setdefault(value, value)
        return value

    def _object(self, pairs: list) -> dict:
        strings, short = self.strings, self.SHORT
        pairs = [(strings.setdefault(k, k) if type(k) is str else k,
                  strings.setdefault(v, v) if type(v) is str and len(v) <= short else v)
                 for k, v in pairs]
        if len(pairs) > self.SMALL or not all(type(v) in _SCALARS for _, v in pairs):
            return dict(pairs)
        # The type is part of the key: 1, 1.0 and True are equal, and written differently;
        # so are 0.0 and -0.0, told apart by their hex.
        key = tuple((k, type(v), v.hex() if type(v) is float else v) for k, v in pairs)
        try:
            return self.objects.setdefault(key, dict(pairs))
        except TypeError:
            return dict(pairs)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def json_default(value):
    """For ``json.dumps`` of a loaded record: fingerprints as they were stored."""
    to_json = getattr(value, "to_json", None)
    return to_json() if to_json is not None else str(value)


def stored_key(out: Path, student: str) -> str | None:
    state = stored(out, student)
    if state and state.get("key") and (out / "results" / f"{student}.json").is_file():
        return state["key"]
    return None


def sweep_unfinished(folder: Path) -> None:
    """Remove what ``write_atomically`` left half written when its process was killed (its
    ``.NAME.PID.tmp``, the process gone): a resumed batch leaves no stray file."""
    for temporary in folder.glob(".*.*.tmp"):
        pid = temporary.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            temporary.unlink(missing_ok=True)


def write_atomically(path: Path, text: str) -> None:
    """The file is either its old self or wholly new, even after a power loss."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as sink:
        sink.write(text)
        sink.flush()
        os.fsync(sink.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)

