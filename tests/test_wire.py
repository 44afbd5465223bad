"""The wire format: plain data round-trips; anything else is refused without pickle."""

import io
import pickle
import struct

import numpy as np
import pytest

from grader.sandbox import wire
from grader.sandbox.wire import MAGIC, MalformedReply, Opaque, decode, encode


@pytest.mark.parametrize("value", [
    None, True, 0, -7, 2**70, 1.5, float("inf"), "text",
    [1, [2.0, "three"]], (1, (2,)), {"a": 1, 2: [3], (1, "x"): None},
    np.arange(6, dtype=np.float32).reshape(2, 3), np.array([True, False]),
    np.array([1 + 2j]), np.zeros((0, 4)), np.float32(0.5), np.int64(3), 3 + 4j,
])
def test_plain_data_round_trips_exactly(value):
    back = decode(encode(value))
    if isinstance(value, (np.ndarray, np.generic)):
        assert type(back) is type(value) and back.dtype == value.dtype
        np.testing.assert_array_equal(back, value)
    else:
        assert back == value and type(back) is type(value)


def test_nan_round_trips():
    assert np.isnan(decode(encode(float("nan"))))


def test_objects_become_opaque_descriptions():
    class Forged:
        def __eq__(self, other):
            return True

    back = decode(encode([Forged(), np.zeros(2).view(np.matrix), np.array(["a"])]))
    assert [type(item) for item in back] == [Opaque] * 3
    assert back[0].type_name == "Forged" and back[0] != back[1]
    assert "dtype <U1" in back[2].text


def test_hostile_repr_does_not_break_encoding():
    class Hostile:
        def __repr__(self):
            raise RuntimeError("no")

    assert decode(encode(Hostile())) == Opaque("Hostile", "unprintable (RuntimeError)")


def _payload(tree_json: bytes, *blobs: bytes) -> bytes:
    parts = [MAGIC, struct.pack(">I", len(tree_json)), tree_json]
    for blob in blobs:
        parts += [struct.pack(">Q", len(blob)), blob]
    return b"".join(parts)


def _npy(array, allow_pickle=False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


@pytest.mark.parametrize("payload", [
    b"",
    pickle.dumps({"score": 100}),
    _payload(b"[1, 2]"),  # an untagged list
    _payload(b'["x", 1]'),
    _payload(b'["a", 0]'),  # no blob
    _payload(b'["a", 0]', _npy(np.array([object()], dtype=object), allow_pickle=True)),
    _payload(b'["a", 0]', _npy(np.array(["s"]))),
    _payload(b'["a", 0]', b"\x93NUMPY garbage"),
    _payload(b'["d", [[["l", []], 1]]]'),  # unhashable key
    _payload(b"[" * 100000 + b"]" * 100000),
    _payload(b'{"not": "tagged"}'),
    _payload(b"1") + b"\x00\x00\x00",  # truncated blob header
])
def test_malformed_replies_are_refused(payload):
    with pytest.raises(MalformedReply):
        decode(payload)


def _payload(text: bytes) -> bytes:
    return MAGIC + struct.pack(">I", len(text)) + text


def test_a_reply_of_many_small_values_is_refused_before_it_is_parsed():
    text = b'["l", [' + b",".join([b"[\"l\", []]"] * 600_000) + b"]]"
    assert len(text) < wire.MAX_JSON_BYTES
    with pytest.raises(MalformedReply, match="values, over the"):
        decode(_payload(text))


def test_a_json_object_ends_the_parse():
    with pytest.raises(MalformedReply, match="not valid JSON"):
        decode(_payload(b'["l", [{}, {}]]'))


def test_a_large_reply_of_plain_numbers_still_decodes():
    values = [float(i) for i in range(200_000)]
    assert decode(encode(values)) == values
