"""Plain data across the trust boundary: a tagged JSON tree plus raw .npy blobs, never pickle.

A frame is an 8-byte big-endian length followed by the payload. A reply payload is
``MAGIC | u32 json length | json | (u64 length | npy bytes)*``. Lists are always tagged, so a
decoded tree is unambiguous: ``["l", items]``, ``["t", items]``, ``["d", [[k, v], ...]]``,
``["a", blob index]`` (ndarray), ``["s", blob index]`` (numpy scalar), ``["c", re, im]``,
``["o", type name, repr]`` (an object that is not plain data).
"""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass

import numpy as np

MAGIC = b"DLW1"
NUMERIC_KINDS = "biufc"  # bool, int, uint, float, complex
MAX_DEPTH = 64
MAX_BLOBS = 10_000
# The JSON part is bounded on its own, before it is parsed: Python objects cost 10-30 times
# their JSON text, so a reply of 21 million "{}" would otherwise take gigabytes to refuse.
MAX_JSON_BYTES = 8 << 20
MAX_ITEMS = 500_000  # values in the tree (numbers and strings included); arrays travel as blobs


class MalformedReply(Exception):
    """The worker sent something that is not a well-formed plain-data reply."""


@dataclass(frozen=True)
class Opaque:
    """Stands for a value the worker could not send as plain data: only its type name and repr."""

    type_name: str
    text: str

    def __repr__(self) -> str:
        return f"<{self.type_name}: {self.text}>"


# ---------------------------------------------------------------- encoding (either side)

def encode(value) -> bytes:
    """Encode ``value`` as a reply payload; what is not plain data becomes an ``Opaque``."""
    blobs: list[bytes] = []
    tree = _to_tree(value, blobs, 0)
    text = json.dumps(tree, allow_nan=True).encode()
    parts = [MAGIC, struct.pack(">I", len(text)), text]
    for blob in blobs:
        parts += [struct.pack(">Q", len(blob)), blob]
    return b"".join(parts)


def _to_tree(value, blobs: list[bytes], depth: int):
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if depth > MAX_DEPTH:
        return _opaque(value, "nested too deeply")
    if kind is complex:
        return ["c", value.real, value.imag]
    if kind in (list, tuple):
        items = [_to_tree(v, blobs, depth + 1) for v in value]
        return ["l" if kind is list else "t", items]
    if kind is dict:
        return ["d", [[_to_tree(k, blobs, depth + 1), _to_tree(v, blobs, depth + 1)]
                      for k, v in value.items()]]
    if kind is np.ndarray or isinstance(value, np.generic):
        array = np.asarray(value)
        if array.dtype.kind not in NUMERIC_KINDS or array.dtype.hasobject:
            return _opaque(value, f"array of dtype {array.dtype}")
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        blobs.append(buffer.getvalue())
        return ["a" if kind is np.ndarray else "s", len(blobs) - 1]
    return _opaque(value)


def _opaque(value, why: str = "") -> list:
    try:
        text = why or repr(value)
    except Exception as error:  # a hostile __repr__: the type name still says enough
        text = f"unprintable ({type(error).__name__})"
    return ["o", type(value).__name__[:100], str(text)[:200]]


# ---------------------------------------------------------------- decoding (trusted side)

def decode(payload: bytes):
    """Decode a reply payload strictly: no pickle, numeric arrays only, bounded nesting."""
    view = memoryview(payload)
    if bytes(view[:4]) != MAGIC or len(view) < 8:
        raise MalformedReply("reply does not start with the expected header")
    (text_length,) = struct.unpack(">I", view[4:8])
    end = 8 + text_length
    if end > len(view):
        raise MalformedReply("reply is shorter than its header says")
    text = bytes(view[8:end])
    _check_size(text)
    try:
        tree = json.loads(text, object_hook=_no_objects)
    except (ValueError, RecursionError) as error:
        raise MalformedReply(f"reply is not valid JSON ({type(error).__name__})") from None
    blobs = _split_blobs(view[end:])
    return _from_tree(tree, blobs, 0)


def _check_size(text: bytes) -> None:
    """Refuse a JSON part too large, or with too many values, before parsing it: every value
    but the first follows a comma or an opening bracket, so these count an upper bound."""
    if len(text) > MAX_JSON_BYTES:
        raise MalformedReply(f"reply's data is {len(text) >> 20} MB of text, over the "
                             f"{MAX_JSON_BYTES >> 20} MB limit (send arrays as numpy arrays)")
    items = text.count(b",") + text.count(b"[") + 1
    if items > MAX_ITEMS:
        raise MalformedReply(f"reply holds up to {items} values, over the {MAX_ITEMS} limit "
                             f"(send large data as numpy arrays)")


def _no_objects(_):
    """The encoder never writes a JSON object: the first one ends the parse."""
    raise ValueError("a JSON object")


def _split_blobs(view: memoryview) -> list[memoryview]:
    blobs, offset = [], 0
    while offset < len(view):
        if len(blobs) >= MAX_BLOBS or offset + 8 > len(view):
            raise MalformedReply("reply has a malformed array section")
        (length,) = struct.unpack(">Q", view[offset:offset + 8])
        offset += 8
        if offset + length > len(view):
            raise MalformedReply("reply has a truncated array")
        blobs.append(view[offset:offset + length])
        offset += length
    return blobs


def _from_tree(tree, blobs, depth: int):
    if tree is None or type(tree) in (bool, int, float, str):
        return tree
    if depth > MAX_DEPTH + 2 or type(tree) is not list or not tree or type(tree[0]) is not str:
        raise MalformedReply("reply has an unexpected structure")
    tag, rest = tree[0], tree[1:]
    if tag in ("l", "t") and len(rest) == 1 and type(rest[0]) is list:
        items = [_from_tree(v, blobs, depth + 1) for v in rest[0]]
        return items if tag == "l" else tuple(items)
    if tag == "d" and len(rest) == 1 and type(rest[0]) is list:
        return _dict_from_pairs(rest[0], blobs, depth)
    if tag in ("a", "s") and len(rest) == 1 and type(rest[0]) is int and 0 <= rest[0] < len(blobs):
        array = _load_array(blobs[rest[0]])
        return array if tag == "a" else array[()]
    if tag == "c" and len(rest) == 2 and all(type(v) in (int, float) for v in rest):
        return complex(rest[0], rest[1])
    if tag == "o" and len(rest) == 2 and all(type(v) is str for v in rest):
        return Opaque(rest[0], rest[1])
    raise MalformedReply(f"reply has an unknown item tagged {tag[:20]!r}")


def _dict_from_pairs(pairs, blobs, depth: int) -> dict:
    result = {}
    for pair in pairs:
        if type(pair) is not list or len(pair) != 2:
            raise MalformedReply("reply has a malformed dict")
        key = _from_tree(pair[0], blobs, depth + 1)
        try:
            hash(key)
        except TypeError:
            raise MalformedReply("reply has a dict key that is not hashable") from None
        result[key] = _from_tree(pair[1], blobs, depth + 1)
    return result


def _load_array(blob: memoryview) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(blob), allow_pickle=False)
    except Exception as error:  # numpy raises several types for a corrupt .npy
        raise MalformedReply(f"reply has an unreadable array ({type(error).__name__})") from None
    if type(array) is not np.ndarray or array.dtype.kind not in NUMERIC_KINDS:
        raise MalformedReply("reply has an array that is not numeric")
    return array


# ---------------------------------------------------------------- framing

def frame(payload: bytes) -> bytes:
    """Prefix ``payload`` with its length."""
    return struct.pack(">Q", len(payload)) + payload
