"""Framer: arbitrary chunks in, exact frames out, nothing lost or reordered."""

import random

import pytest

import media
from media.framing import Framer, Tail


def test_for_duration_sizes():
    assert Framer.for_duration(16000, 20).size == 640
    assert Framer.for_duration(8000, 20).size == 320
    assert Framer.for_duration(8000, 10).size == 160
    assert Framer.for_duration(16000, 30).size == 960
    assert Framer.for_duration(48000, 20).size == 1920
    assert Framer.for_duration(22050, 20).size == 882
    assert Framer.for_duration(16000, 32).size == 1024  # Silero's window
    assert Framer.for_duration(48000, 2.5).size == 240  # fractional ms that are whole samples


@pytest.mark.parametrize(("rate", "ms"), [(22050, 10), (22050, 30), (8000, 0.1), (16000, 0), (16000, -20)])
def test_for_duration_rejects_frames_that_are_not_whole_samples(rate, ms):
    with pytest.raises(media.AudioFormatError, match=repr(ms)):
        Framer.for_duration(rate, ms)


@pytest.mark.parametrize("rate", [44100, 0, "16000"])
def test_for_duration_rejects_unsupported_rates(rate):
    with pytest.raises(media.AudioFormatError, match="unsupported sample rate"):
        Framer.for_duration(rate, 20)


@pytest.mark.parametrize("size", [0, -2, 3, 641, 2.0, "640", None, True])
def test_bad_sizes_raise(size):
    with pytest.raises(media.AudioFormatError) as info:
        Framer(size)
    assert repr(size) in str(info.value)


@pytest.mark.parametrize("seed", range(5))
def test_random_chunks_conserve_every_byte_in_order(seed):
    rng = random.Random(seed)
    size = rng.choice([160, 320, 640, 882, 1920])
    data = bytes(rng.getrandbits(8) for _ in range(50_000))
    framer = Framer(size)
    frames: list[bytes] = []
    i = 0
    while i < len(data):
        n = rng.choice([0, 1, 2, 3, size - 1, size, size + 1, 2 * size + 5, rng.randrange(1, 4 * size)])
        out = framer.push(data[i : i + n])
        assert all(len(f) == size for f in out)
        frames += out
        i = min(i + n, len(data))
        assert framer.pending == i - len(frames) * size
        assert 0 <= framer.pending < size
    tail = framer.flush(pad=False)
    joined = b"".join(frames) + (tail or b"")
    assert joined == data


def test_exact_frames_pass_straight_through():
    framer = Framer(640)
    frames = [bytes([i]) * 640 for i in range(5)]
    for f in frames:
        assert framer.push(f) == [f]
    assert framer.pending == 0
    assert framer.flush() is None


def test_one_chunk_can_yield_several_frames():
    framer = Framer(4)
    assert framer.push(b"abcdefghij") == [b"abcd", b"efgh"]
    assert framer.pending == 2
    assert framer.push(b"kl") == [b"ijkl"]
    assert framer.push(b"") == []


def test_small_chunks_accumulate():
    framer = Framer(6)
    assert framer.push(b"ab") == []
    assert framer.push(b"cd") == []
    assert framer.pending == 4
    assert framer.push(b"efgh") == [b"abcdef"]
    assert framer.pending == 2


def test_flush_pads_with_silence_by_default():
    framer = Framer(8)
    framer.push(b"\x01\x02\x03")
    assert framer.flush() == b"\x01\x02\x03" + b"\x00" * 5
    assert framer.pending == 0
    assert framer.flush() is None


def test_flush_without_pad_returns_the_remainder():
    framer = Framer(8)
    framer.push(b"abcdefghij")
    assert framer.flush(pad=False) == b"ij"
    assert framer.flush(pad=False) is None


def test_reset_drops_the_remainder():
    framer = Framer(8)
    framer.push(b"abc")
    framer.reset()
    assert framer.pending == 0
    assert framer.push(b"12345678") == [b"12345678"]


def test_accepts_bytes_like_and_returns_independent_bytes():
    framer = Framer(4)
    chunk = bytearray(b"wxyz")
    out = framer.push(chunk)
    chunk[:] = b"0000"
    assert out == [b"wxyz"] and type(out[0]) is bytes
    out = framer.push(memoryview(b"abcdef"))
    assert out == [b"abcd"] and type(out[0]) is bytes
    buf = bytearray(b"gh12")
    out = framer.push(buf)
    buf[:] = b"zzzz"
    assert out == [b"efgh"]
    assert framer.flush(pad=False) == b"12"


def test_frames_into_larger_packets():
    # Three 20 ms frames per 60 ms packet is the same object with a larger size.
    framer = Framer.for_duration(16000, 60)
    frames = [bytes([i]) * 640 for i in range(7)]
    packets = [p for f in frames for p in framer.push(f)]
    assert packets == [b"".join(frames[0:3]), b"".join(frames[3:6])]
    assert framer.pending == 640


def test_tail_keeps_the_last_bytes_pushed():
    tail = Tail(10)
    assert bytes(tail) == b""
    tail.push(b"abcd")
    assert bytes(tail) == b"abcd"  # fewer than asked for: all of it
    for chunk in (b"efgh", b"ijkl", b"mnop"):
        tail.push(chunk)
    assert bytes(tail) == b"ghijklmnop"
    tail.push(b"q" * 30)  # one chunk longer than the tail
    assert bytes(tail) == b"q" * 10
    assert bytes(Tail(0)) == b""
