"""JitterBuffer: reorder, drop late and duplicate packets, mark losses once, bound delay; conceal_pcm."""

import numpy as np
import pytest

from media.jitter import JitterBuffer, Played, conceal_pcm


def payload(seq: int) -> bytes:
    return seq.to_bytes(2, "big") * 4


def played_seqs(out: list[Played | None]) -> list[int | str]:
    """Seqs in play order; a loss shows as 'L<seq>', an idle period is dropped."""
    return [p.seq if not p.lost else f"L{p.seq}" for p in out if p is not None]


def run(jb: JitterBuffer, arrivals: list[int | None]) -> list[Played | None]:
    """One frame period per arrival: push it (None: nothing arrived), then pop once."""
    out = []
    for seq in arrivals:
        if seq is not None:
            jb.push(seq, payload(seq), timestamp=seq * 160)
        out.append(jb.pop())
    return out


def drain(jb: JitterBuffer, periods: int = 20) -> list[Played | None]:
    return [jb.pop() for _ in range(periods)]


# --------------------------------------------------------------------------- construction


@pytest.mark.parametrize(("depth", "max_depth"), [(-1, 10), (2, 2), (5, 3), (0, 0)])
def test_bad_depths_raise(depth, max_depth):
    with pytest.raises(ValueError, match=str(max_depth)):
        JitterBuffer(depth=depth, max_depth=max_depth)


@pytest.mark.parametrize("seq", [-1, 65536, 100_000])
def test_out_of_range_sequence_numbers_raise(seq):
    with pytest.raises(ValueError, match=str(seq)):
        JitterBuffer().push(seq, b"x")


def test_empty_buffer_pops_nothing():
    jb = JitterBuffer()
    assert jb.pop() is None
    assert len(jb) == 0


# --------------------------------------------------------------------------- priming and order


def test_priming_returns_none_until_depth_packets_ahead():
    jb = JitterBuffer(depth=3)
    for seq in range(3):
        jb.push(seq, payload(seq))
        assert jb.pop() is None
    jb.push(3, payload(3))
    first = jb.pop()
    assert first == Played(0, None, payload(0))
    assert not first.lost


def test_depth_zero_plays_at_once():
    jb = JitterBuffer(depth=0, max_depth=4)
    jb.push(7, b"a", timestamp=1120)
    assert jb.pop() == Played(7, 1120, b"a")
    assert jb.pop() is None


def test_in_order_stream_plays_every_packet_with_payload_and_timestamp():
    jb = JitterBuffer(depth=2)
    out = run(jb, list(range(100)))
    assert out[:2] == [None, None]
    played = [p for p in out if p is not None]
    assert [p.seq for p in played] == list(range(98))
    assert all(p.payload == payload(p.seq) and p.timestamp == p.seq * 160 for p in played)
    assert played_seqs(drain(jb)) == [98, 99]
    assert (jb.received, jb.lost, jb.late, jb.duplicates) == (100, 0, 0, 0)


def test_reordering_within_depth_is_undone():
    jb = JitterBuffer(depth=2)
    arrivals = [0, 1, 3, 2, 4, 6, 5, 7, 9, 8, 10, 11]
    out = run(jb, arrivals) + drain(jb)
    assert played_seqs(out) == list(range(12))
    assert (jb.lost, jb.late) == (0, 0)


def test_packets_reordered_ahead_of_the_first_are_kept():
    # Nothing has played yet, so an earlier packet arriving second is not late.
    jb = JitterBuffer(depth=2)
    arrivals = [1, 0, 2, 3, 4]
    out = run(jb, arrivals) + drain(jb)
    assert played_seqs(out) == [0, 1, 2, 3, 4]
    assert (jb.received, jb.late, jb.lost) == (5, 0, 0)


def test_sequence_wrap_around_plays_in_order():
    jb = JitterBuffer(depth=2)
    arrivals = [65533, 65534, 65535, 0, 1, 2, 3]
    out = run(jb, arrivals) + drain(jb)
    assert played_seqs(out) == [65533, 65534, 65535, 0, 1, 2, 3]
    assert [p.payload for p in out if p][3] == payload(0)


def test_reordering_across_the_wrap():
    jb = JitterBuffer(depth=2)
    arrivals = [65534, 0, 65535, 2, 1, 3]
    out = run(jb, arrivals) + drain(jb)
    assert played_seqs(out) == [65534, 65535, 0, 1, 2, 3]
    assert (jb.lost, jb.late) == (0, 0)


def test_first_packet_reordered_across_the_wrap():
    jb = JitterBuffer(depth=2)
    out = run(jb, [0, 65535, 1, 2]) + drain(jb)
    assert played_seqs(out) == [65535, 0, 1, 2]


def test_long_stream_wraps_many_times():
    jb = JitterBuffer(depth=2)
    seqs = [(40000 + i) % 65536 for i in range(140_000)]
    played = 0
    expected = iter(seqs)
    for seq in seqs:
        jb.push(seq, b"")
        p = jb.pop()
        if p is not None:
            assert p.seq == next(expected)
            played += 1
    assert played == len(seqs) - 2
    assert jb.lost == jb.late == 0


# --------------------------------------------------------------------------- duplicates, losses, late packets


def test_duplicates_are_dropped_and_counted():
    jb = JitterBuffer(depth=2)
    out = run(jb, [0, 1, 1, 2, 2, 3, 0]) + drain(jb)
    assert played_seqs(out) == [0, 1, 2, 3]
    assert jb.duplicates == 2  # the two copies that arrived while the original was still queued
    assert jb.late == 1  # the copy of 0 that came after 0 was played
    assert jb.received == 4


def test_gap_yields_one_lost_frame_then_playback_resumes():
    jb = JitterBuffer(depth=2)
    arrivals = [0, 1, 2, 3, 5, 6, 7, 8, 9]  # 4 never arrives
    out = run(jb, arrivals) + drain(jb)
    assert played_seqs(out) == [0, 1, 2, 3, "L4", 5, 6, 7, 8, 9]
    lost = [p for p in out if p is not None and p.lost]
    assert lost == [Played(4, None, None)]
    assert jb.lost == 1


def test_burst_loss_yields_one_lost_frame_per_missing_packet():
    jb = JitterBuffer(depth=2)
    out = run(jb, [0, 1, 2, 6, 7, 8]) + drain(jb)
    assert played_seqs(out) == [0, 1, 2, "L3", "L4", "L5", 6, 7, 8]
    assert jb.lost == 3


def test_a_gap_inside_the_depth_waits_for_the_packet():
    jb = JitterBuffer(depth=3)
    for seq in (0, 1, 2, 3):
        jb.push(seq, payload(seq))
    assert jb.pop().seq == 0
    jb.push(5, payload(5))  # 4 is missing but only one packet beyond it: wait
    assert played_seqs([jb.pop(), jb.pop(), jb.pop()]) == [1, 2, 3]
    assert jb.pop() is None
    jb.push(4, payload(4))  # arrived in time
    assert jb.pop().seq == 4
    assert jb.lost == 0


def test_late_packet_is_dropped_and_counted():
    jb = JitterBuffer(depth=2)
    out = run(jb, [0, 1, 2, 3, 5, 6, 7, 4, 8, 9]) + drain(jb)
    assert played_seqs(out) == [0, 1, 2, 3, "L4", 5, 6, 7, 8, 9]
    assert jb.late == 1
    assert jb.lost == 1
    assert jb.received == 9  # the late one is not counted as received


def test_ran_dry_refills_before_playing_again():
    jb = JitterBuffer(depth=2)
    out = run(jb, [0, 1, 2]) + drain(jb, 3)
    assert played_seqs(out) == [0, 1, 2]
    assert jb.pop() is None
    jb.push(3, payload(3))
    assert jb.pop() is None
    jb.push(4, payload(4))
    assert jb.pop() is None
    jb.push(5, payload(5))
    assert jb.pop().seq == 3
    assert jb.lost == 0


# --------------------------------------------------------------------------- bounded delay


def test_max_depth_bounds_delay_by_skipping_ahead():
    jb = JitterBuffer(depth=2, max_depth=5)
    for seq in range(20):  # a burst with nobody popping (e.g. a stalled reader)
        jb.push(seq, payload(seq))
        assert len(jb) <= 5
    first = jb.pop()
    assert first is not None and not first.lost
    assert first.seq >= 19 - 5
    rest = played_seqs(drain(jb))
    assert rest == list(range(first.seq + 1, 20))
    assert jb.lost == 0  # skipped frames are not reported as losses
    jb.push(3, payload(3))  # long gone
    assert jb.late == 1


def test_skip_ahead_keeps_depth_packets_behind_the_newest():
    jb = JitterBuffer(depth=2, max_depth=4)
    for seq in range(5):
        jb.push(seq, payload(seq))
    # 4 - 0 >= 4: the buffer jumped to 4 - depth
    assert [p.seq for p in drain(jb, 3)] == [2, 3, 4]


# --------------------------------------------------------------------------- conceal_pcm


def tone_frame(n: int = 160) -> bytes:
    t = np.arange(n) / 8000
    return np.round(16000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16).tobytes()


def rms(data: bytes) -> float:
    x = np.frombuffer(data, dtype=np.int16).astype(np.float64)
    return float(np.sqrt(np.mean(x * x)))


@pytest.mark.parametrize("losses", [1, 2, 3])
def test_conceal_pcm_attenuates_6db_per_loss(losses):
    prev = tone_frame()
    out = conceal_pcm(prev, losses)
    assert len(out) == len(prev)
    assert 20 * np.log10(rms(out) / rms(prev)) == pytest.approx(-6.02 * losses, abs=0.1)
    # Same waveform, just quieter.
    expected = np.frombuffer(prev, dtype=np.int16) * 0.5**losses
    assert np.abs(np.frombuffer(out, dtype=np.int16) - expected).max() <= 1


@pytest.mark.parametrize("losses", [4, 5, 50])
def test_conceal_pcm_is_silence_after_three_losses(losses):
    prev = tone_frame()
    assert conceal_pcm(prev, losses) == b"\x00" * len(prev)


def test_conceal_pcm_of_nothing_is_nothing():
    assert conceal_pcm(b"", 1) == b""


def test_conceal_pcm_chain_fades_out():
    # The receiver conceals each loss in a row from the last good frame.
    frame = tone_frame(320)
    concealed = [conceal_pcm(frame, n) for n in range(1, 6)]
    levels = [rms(c) for c in concealed]
    assert levels[0] > levels[1] > levels[2] > 0
    assert levels[3] == levels[4] == 0
    assert all(len(c) == len(frame) for c in concealed)
