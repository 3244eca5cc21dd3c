"""PacedSink: speech goes out at real time a little ahead, and it knows what the listener heard."""

import asyncio

import pytest

from agents.clock import loop_time
from agents.playout import PacedSink

pytestmark = pytest.mark.looptime  # the engine on a virtual loop clock: exact milliseconds, no real waiting

RATE = 16000


def audio(ms: int) -> bytes:
    return b"\x01\x00" * (RATE * ms // 1000)


async def test_the_engine_tests_run_on_the_virtual_clock():
    loop = asyncio.get_running_loop()
    assert getattr(loop, "looptime_on", False), (
        "looptime is not active, so the engine tests run on the wall clock: did a sync test call "
        "asyncio.run() and unset the loop pytest-asyncio shares?")
    before = loop.time()
    await asyncio.sleep(3600)  # an hour, at once
    assert round(loop.time() - before) == 3600


async def test_sends_at_real_time_with_a_small_lead_and_resolves_when_heard():
    sent: list[float] = []  # when each frame went out, in ms on the loop's clock
    sink = PacedSink(RATE, lambda f: sent.append(round(loop_time() * 1000)), lead_ms=100)
    start = round(loop_time() * 1000)
    sink.push(audio(600))
    segment = sink.end_segment()
    playout = await sink.played(segment)
    elapsed = round(loop_time() * 1000) - start
    at = [t - start for t in sent]
    # the lead (100 ms: 5 frames) at once, then two frames on each 40 ms tick
    assert at[:9] == [0, 0, 0, 0, 0, 40, 40, 80, 80] and len(at) == 30
    assert max((i + 1) * 20 - t for i, t in enumerate(at)) == 100  # never more than the lead ahead of playback
    assert playout.played_ms == 600 and not playout.interrupted
    assert elapsed == 600  # resolved as the last frame was heard, not when it was queued or sent
    await sink.aclose()


async def test_batched_sends_one_chunk_a_tick_at_the_same_pace():
    sent: list[tuple[int, int, int]] = []  # (ms on the loop's clock, chunk length in ms, position read in send)
    sink = PacedSink(RATE, lambda c: sent.append((round(loop_time() * 1000), len(c) * 1000 // (RATE * 2),
                                                  sink.position[1])), lead_ms=100, batch=True)
    start = round(loop_time() * 1000)
    sink.push(audio(610))  # 30 frames and a half: the last is padded to a whole frame
    segment = sink.end_segment()
    playout = await sink.played(segment)
    at = [(t - start, ms, position) for t, ms, position in sent]
    # the lead at once as one chunk, then the two frames due at each 40 ms tick as one
    assert at[:4] == [(0, 100, 0), (40, 40, 100), (80, 40, 140), (120, 40, 180)]
    assert sum(ms for _, ms, _ in at) == 620 and len(at) == 14
    assert playout.played_ms == 620 and not playout.interrupted
    assert sink.frames_sent == 31
    await sink.aclose()


async def test_clear_drops_the_queue_and_reports_what_was_heard():
    sent: list[bytes] = []
    cleared = []
    sink = PacedSink(RATE, sent.append, on_clear=lambda: cleared.append(True), lead_ms=60)
    sink.push(audio(2000))
    segment = sink.end_segment()
    waiter = asyncio.create_task(sink.played(segment))
    await asyncio.sleep(0.41)  # between two 40 ms ticks: which of two timers due at once runs first is not ours
    assert sink.played_ms() == 410
    sink.clear()
    playout = await waiter
    assert playout.interrupted and playout.played_ms == 410
    assert cleared == [True]
    assert len(sent) == 23  # 460 ms (at the 400 ms tick: 400 + the 60 ms lead): heard, and the lead
    await asyncio.sleep(0.2)
    assert len(sent) == 23  # nothing more of the old reply goes out
    await sink.aclose()


async def test_client_playback_reports_override_the_send_clock():
    sink = PacedSink(RATE, lambda f: None, lead_ms=60)
    sink.push(audio(1000))
    sink.end_segment()
    await asyncio.sleep(0.3)
    sink.note_played(120)  # the client's own player is behind the send clock
    assert sink.played_ms() == 120
    sink.clear()
    await sink.aclose()


async def test_a_new_reply_starts_a_new_segment():
    sent = []
    sink = PacedSink(RATE, sent.append, lead_ms=60)
    sink.push(audio(100))
    first = sink.end_segment()
    assert (await asyncio.wait_for(sink.played(first), 2)).played_ms == 100
    sink.push(audio(60))
    second = sink.end_segment()
    assert second != first
    assert (await asyncio.wait_for(sink.played(second), 2)).played_ms == 60
    await sink.aclose()


def numbered(frames: int) -> bytes:
    """Frames whose first sample is their number, to see which ones were sent."""
    return b"".join(i.to_bytes(2, "little") + b"\x00\x00" * 319 for i in range(frames))


def numbers(sent: list[bytes]) -> list[int]:
    return [int.from_bytes(f[:2], "little") for f in sent]


async def test_pause_without_a_flush_keeps_what_was_sent_as_heard_and_resumes_after_it():
    sent: list[bytes] = []
    sink = PacedSink(RATE, sent.append, lead_ms=60)
    sink.push(numbered(50))  # 1 s
    segment = sink.end_segment()
    await asyncio.sleep(0.3)
    sink.pause()
    at_pause = len(sent)
    assert sink.played_ms() == at_pause * 20  # the client plays out what it got
    await asyncio.sleep(0.3)
    assert len(sent) == at_pause  # nothing goes out while paused
    sink.resume()
    playout = await asyncio.wait_for(sink.played(segment), 3)
    assert numbers(sent) == list(range(50)) and not playout.interrupted  # each frame once, in order
    await sink.aclose()


async def test_pause_with_a_flush_rewinds_to_what_was_heard():
    sent: list[bytes] = []
    sink = PacedSink(RATE, sent.append, on_clear=lambda: sent.append(b"CLEAR"), lead_ms=100)
    sink.push(numbered(50))
    segment = sink.end_segment()
    await asyncio.sleep(0.3)
    sink.note_played(200)  # the far end (Twilio marks) has played 10 frames; more are in its buffer
    sink.pause()
    assert sent[-1] == b"CLEAR" and sink.played_ms() == 200
    sink.resume()
    playout = await asyncio.wait_for(sink.played(segment), 3)
    cut = sent.index(b"CLEAR")
    resent = numbers(sent[cut + 1:])
    assert resent == list(range(10, 50)) and not playout.interrupted  # again, from the first frame not heard
    await sink.aclose()


async def test_clear_while_paused_reports_the_paused_position():
    sink = PacedSink(RATE, lambda f: None, lead_ms=60)
    sink.push(numbered(100))
    segment = sink.end_segment()
    waiter = asyncio.create_task(sink.played(segment))
    await asyncio.sleep(0.2)
    sink.pause()
    paused_at = sink.played_ms()
    await asyncio.sleep(0.2)
    sink.clear()
    playout = await asyncio.wait_for(waiter, 1)
    assert playout.interrupted and playout.played_ms == paused_at
    sink.push(numbered(5))  # the next reply is not held by the old pause
    assert not sink.paused
    await sink.aclose()


async def test_output_level_follows_what_was_sent():
    sink = PacedSink(RATE, lambda f: None, lead_ms=60)
    assert sink.output_level() == 0
    sink.push(b"\x00\x10" * 1600)  # 100 ms at RMS 4096
    await asyncio.sleep(0.15)
    assert sink.output_level() == 4096
    await asyncio.sleep(0.7)
    assert sink.output_level() == 0  # quiet line: no echo to expect
    await sink.aclose()


async def test_output_level_is_the_loudest_of_the_last_600_ms():
    sink = PacedSink(RATE, lambda f: None, lead_ms=20, tick_ms=20)
    sink.push(b"\x00\x10" * 3200 + b"\x00\x04" * 3200 + b"\x00\x01" * 3200)  # 200 ms each at RMS 4096, 1024, 256
    await asyncio.sleep(0.55)  # all sent: the loud part within the last 0.6 s
    assert sink.output_level() == 4096
    await asyncio.sleep(0.3)  # the loud part is older than 0.6 s now, the middle one is not
    assert sink.output_level() == 1024
    await asyncio.sleep(0.2)
    assert sink.output_level() == 256
    await sink.aclose()


async def test_a_door_player_queue_decides_what_was_heard():
    """SIP: frames go to a queue pjsua2 takes one from every 20 ms; heard = sent minus still queued,
    a pause re-queues exactly what the player had not taken, and the reply ends when it took the last."""
    player: list[bytes] = []
    sink = PacedSink(RATE, player.append, on_clear=player.clear, lead_ms=100,
                     unheard_ms=lambda: len(player) * 20)
    sink.push(audio(1000))
    segment = sink.end_segment()
    assert sink.pending_ms() == 1000
    waiter = asyncio.create_task(sink.played(segment))
    await asyncio.sleep(0.2)
    assert sink.played_ms() == 0  # the player has taken nothing yet: nothing was heard
    assert sink.pending_ms() == 1000
    taken = [player.pop(0) for _ in range(3)]
    assert sink.played_ms() == 60
    sink.pause()
    assert player == [] and sink.played_ms() == 60
    sink.resume()
    for _ in range(200):  # the player takes frames until the reply is out
        await asyncio.sleep(0.01)
        if player:
            taken.append(player.pop(0))
    playout = await asyncio.wait_for(waiter, 2)
    assert not playout.interrupted and playout.played_ms == 1000 and sink.pending_ms() == 0
    assert len(taken) == 50  # every frame exactly once: nothing lost or doubled by the pause
    await sink.aclose()


async def test_frames_sent_after_their_time_are_counted_late():
    stalled = [0.0]  # how long the clock task was kept from running (a blocked event loop)
    sink = PacedSink(RATE, lambda f: None, lead_ms=100, clock=lambda: loop_time() + stalled[0])
    sink.push(audio(1000))
    await asyncio.sleep(0.2)
    assert sink.frames_late == 0  # on time: the lead is never used up
    stalled[0] = 0.3  # the loop was blocked 300 ms: the 100 ms lead ran out, the listener's player ran dry
    await asyncio.sleep(0.05)
    # At the 240 ms tick the clock reads 540: frames 15-25 were due to start playing at 300-500 ms, more than
    # a frame before they went (frame 26, due at 520, is within a frame: on time).
    assert sink.frames_late == 11
    late = sink.frames_late
    await asyncio.sleep(0.3)
    assert sink.frames_late == late  # on time again
    await sink.aclose()


async def test_each_tick_of_the_clock_is_counted_by_how_late_it_woke():
    sink = PacedSink(RATE, lambda f: None, lead_ms=60)
    sink.push(b"\x00\x10" * 16000)  # 1 s
    await asyncio.sleep(1.2)
    assert sum(sink.tick_lag) >= 20 and sink.tick_lag[0] == sum(sink.tick_lag)  # 40 ms ticks, none late here
    sink._count_lag(30.0)  # a loop held up for 30 ms: the 50 ms bucket
    assert sink.tick_lag[5] == 1 and round(sink.tick_lag_ms, 3) == 30.0
    await sink.aclose()
