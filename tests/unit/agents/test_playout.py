"""PacedSink: speech goes out at real time a little ahead, and it knows what the listener heard."""

import asyncio
import time

from agents.playout import PacedSink

RATE = 16000


def audio(ms: int) -> bytes:
    return b"\x01\x00" * (RATE * ms // 1000)


async def test_sends_at_real_time_with_a_small_lead_and_resolves_when_heard():
    sent: list[tuple[float, bytes]] = []
    sink = PacedSink(RATE, lambda f: sent.append((time.monotonic(), f)), lead_ms=100)
    start = time.monotonic()
    sink.push(audio(600))
    segment = sink.end_segment()
    await asyncio.sleep(0.25)
    early = len(sent)
    # after 250 ms no more than 250 ms + the lead (+ one tick) has gone out: not the whole reply
    assert 10 <= early <= (250 + 100 + 60) // 20
    playout = await asyncio.wait_for(sink.played(segment), 3)
    elapsed = time.monotonic() - start
    assert playout.played_ms == 600 and not playout.interrupted
    assert 0.55 <= elapsed <= 1.2  # resolved once heard out, not when queued or sent
    assert len(sent) == 30 and all(len(frame) == 640 for _, frame in sent)
    await sink.aclose()


async def test_clear_drops_the_queue_and_reports_what_was_heard():
    sent: list[bytes] = []
    cleared = []
    sink = PacedSink(RATE, sent.append, on_clear=lambda: cleared.append(True), lead_ms=60)
    sink.push(audio(2000))
    segment = sink.end_segment()
    waiter = asyncio.create_task(sink.played(segment))
    await asyncio.sleep(0.4)
    heard = sink.played_ms()
    assert 300 <= heard <= 500
    sink.clear()
    playout = await asyncio.wait_for(waiter, 1)
    assert playout.interrupted and abs(playout.played_ms - heard) <= 40
    assert cleared == [True]
    frames_at_clear = len(sent)
    await asyncio.sleep(0.2)
    assert len(sent) == frames_at_clear  # nothing more of the old reply goes out
    assert frames_at_clear * 20 <= heard + 60 + 60  # at most the lead (and a tick) was sent unheard
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
    assert sent[-1] == b"CLEAR" and 200 <= sink.played_ms() <= 220
    sink.resume()
    playout = await asyncio.wait_for(sink.played(segment), 3)
    cut = sent.index(b"CLEAR")
    resent = numbers(sent[cut + 1:])
    assert resent[0] in (10, 11)  # the flushed frames are sent again, from the first unheard
    assert resent == list(range(resent[0], 50)) and not playout.interrupted
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
