"""PacedSink: an AudioSink that sends speech at real time, a little ahead, and knows how much was heard.

Every door uses it: the door gives it a `send(frame)` that encodes one pcm16
frame for its wire (WebSocket binary, Twilio media message, RTP) and an
`on_clear()` that tells the far end to drop what it buffered. One clock task
per call wakes every `tick_ms` while there is audio and sleeps otherwise,
sending as many frames as keep it `lead_ms` ahead of real time (SPEC §11:
no timer per frame). Sending only a little ahead is what makes barge-in
exact: what was sent but not yet heard is small, and is what `clear` drops.

`pause()` / `resume()` serve the false-barge-in guard: the caller may only
be saying "mm-hmm", so the reply stops at once but is kept; if it was a real
interruption the engine clears it, else it resumes from where the listener
stopped hearing it. `output_level()` is how loud what was sent lately was,
for the engine's echo gate.

A door that hands frames to a player of its own (SIP: a queue pjsua2 takes a
frame from every 20 ms) passes `unheard_ms`, how much of what was sent that
player still holds: the playback position is then what it actually took.
"""

import asyncio
import bisect
from collections import deque
from collections.abc import Callable

from agents.clock import loop_time
from agents.ports import Playout
from media.audioop_lib import audioop
from media.format import SAMPLE_WIDTH, frame_bytes

_LEVEL_WINDOW_S = 0.6  # echo comes back this long after a frame is sent, at most (lead + line + far end)
# How late the clock task woke for a tick (ms): an event loop too busy to keep time shows here first, long before
# the lead is used up and frames reach the caller late. Upper bounds of the counts in `PacedSink.tick_lag`.
TICK_LAG_BUCKETS_MS = (1, 2, 5, 10, 20, 50, 100, 250)


class PacedSink:
    def __init__(self, sample_rate: int, send: Callable[[bytes], None], on_clear: Callable[[], None] | None = None,
                 frame_ms: int = 20, lead_ms: int = 120, tick_ms: int = 40,
                 unheard_ms: Callable[[], int] | None = None, clock: Callable[[], float] = loop_time,
                 batch: bool = False) -> None:
        self.sample_rate = sample_rate
        # batch: the frames due at one tick go to `send` as one chunk (a whole number of frames), for a door whose
        # messages carry any length of audio (Twilio's media): half the messages of a frame each.
        self._batch = batch
        self._clock = clock  # the loop's time, as the engine's and asyncio.sleep's (agents/clock.py)
        self.frame_ms = frame_ms
        self._frame_bytes = frame_bytes(sample_rate, frame_ms)
        self._send = send
        self.on_sent: Callable[[bytes], None] | None = None  # sees each frame as it is sent (a recorder)
        self._on_clear = on_clear
        self._unheard_ms = unheard_ms  # sent but still queued at the door's player (FIFO, so: not heard)
        self._lead_frames = max(1, lead_ms // frame_ms)
        self._tick_s = tick_ms / 1000
        self._queue = bytearray()
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._segment = 0
        self._segment_ended = False
        self._segment_sent_ms = 0
        self._segment_first_send: float | None = None
        self._reported_ms: int | None = None  # the client's own playback position, when it tells us
        self._reported_at = 0.0  # when it told us; it plays on in real time after that
        self._done: dict[int, asyncio.Future] = {}
        self._paused_at_ms: int | None = None  # while paused: the segment position the listener stopped at
        self._recent: deque[bytes] = deque(maxlen=max(1, 2000 // frame_ms))  # sent frames, for a rewind
        # (sent at, RMS) of frames sent in the last _LEVEL_WINDOW_S, louder than every later one: the first is the
        # loudest (a sliding-window maximum, asked for on every caller frame while the assistant talks).
        self._levels: deque[tuple[float, int]] = deque()
        self.frames_sent = 0
        self.frames_late = 0  # sent after the listener's player should have started them (it ran dry)
        self.tick_lag = [0] * (len(TICK_LAG_BUCKETS_MS) + 1)  # ticks by how late they woke; the last: later still
        self.tick_lag_ms = 0.0  # their sum
        self.last_sent_at: float | None = None

    # -- AudioSink -------------------------------------------------------------------------------

    def push(self, pcm: bytes) -> None:
        if self._segment_ended:  # first audio of the next reply
            self._new_segment()
        self._queue += pcm
        self._ensure_clock()
        self._wake.set()

    def end_segment(self) -> int:
        if len(self._queue) % self._frame_bytes:  # pad the last frame out with silence
            self._queue += b"\x00" * (self._frame_bytes - len(self._queue) % self._frame_bytes)
        self._segment_ended = True
        self._wake.set()
        self._ensure_clock()
        return self._segment

    def clear(self) -> None:
        heard = self.played_ms()
        self._paused_at_ms = None
        self._queue.clear()
        future = self._done.pop(self._segment, None)
        if future is not None and not future.done():
            future.set_result(Playout(heard, interrupted=True))
        if self._on_clear is not None:
            self._on_clear()
        self._new_segment()

    def played_ms(self) -> int:
        if self._paused_at_ms is not None:
            return self._paused_at_ms
        if self._reported_ms is not None:
            heard = self._reported_ms + (self._clock() - self._reported_at) * 1000
            return max(0, min(round(heard), self._segment_sent_ms))
        if self._unheard_ms is not None:
            # Frames of an earlier reply still queued ahead of this one count too: exact for a FIFO.
            return max(0, self._segment_sent_ms - self._unheard_ms())
        if self._segment_first_send is None:
            return 0
        heard = round((self._clock() - self._segment_first_send) * 1000)
        return max(0, min(self._segment_sent_ms, heard))

    async def played(self, segment: int) -> Playout:
        if segment != self._segment:
            return Playout(0, interrupted=True)  # cleared before it was waited for
        future = self._done.get(segment)
        if future is None:
            future = self._done[segment] = asyncio.get_running_loop().create_future()
            self._wake.set()
        return await future

    def pending_ms(self) -> int:
        """Audio pushed and not heard yet: still queued here, plus sent ahead of the listener."""
        queued = len(self._queue) * 1000 // (self.sample_rate * SAMPLE_WIDTH)
        return queued + max(0, self._segment_sent_ms - self.played_ms())

    @property
    def position(self) -> tuple[int, int]:
        """(current segment, ms of it sent so far). Read inside `send`, the frame (or chunk) being sent is not yet
        counted: a door that labels it with where playback stands once it is heard (Twilio marks) adds its
        length. A pause rewinds the count to what was heard, so re-sent frames get their place."""
        return self._segment, self._segment_sent_ms

    @property
    def paused(self) -> bool:
        return self._paused_at_ms is not None

    def pause(self) -> None:
        """Stop sending now and keep what is queued. A door that can flush (`on_clear`) drops what it
        buffered, and that audio is queued again to be re-sent on resume; a door that cannot plays it
        out, so it counts as heard."""
        if self._paused_at_ms is not None:
            return
        if self._on_clear is None:
            self._paused_at_ms = self._segment_sent_ms if self._reported_ms is None else self.played_ms()
            return
        heard = self.played_ms()
        self._on_clear()
        unheard_frames = min(len(self._recent), (self._segment_sent_ms - heard) // self.frame_ms)
        if unheard_frames > 0:
            rewind = b"".join(list(self._recent)[-unheard_frames:])
            self._queue[:0] = rewind
            self._segment_sent_ms -= unheard_frames * self.frame_ms
        self._recent.clear()
        self._paused_at_ms = self._segment_sent_ms

    def resume(self) -> None:
        """Carry on from where the listener stopped hearing."""
        if self._paused_at_ms is None:
            return
        at = self._paused_at_ms
        self._paused_at_ms = None
        if self._segment_first_send is not None:
            self._segment_first_send = self._clock() - at / 1000  # the playback clock restarts at `at`
        if self._reported_ms is not None:
            self._reported_ms, self._reported_at = at, self._clock()
        self._wake.set()
        self._ensure_clock()

    def output_level(self) -> int:
        """The loudest frame (pcm16 RMS) sent in the last ~0.6 s; 0 when the line has been quiet."""
        levels, horizon = self._levels, self._clock() - _LEVEL_WINDOW_S
        while levels and levels[0][0] < horizon:
            levels.popleft()
        return levels[0][1] if levels else 0

    def _note_level(self, now: float, rms: int) -> None:
        levels = self._levels
        while levels and levels[-1][1] <= rms:  # never the loudest again while this one is in the window
            levels.pop()
        levels.append((now, rms))
        horizon = now - _LEVEL_WINDOW_S
        while levels[0][0] < horizon:
            levels.popleft()

    # -- door side ------------------------------------------------------------------------------

    def note_played(self, played_ms: int) -> None:
        """The far end says how much of the current reply it has played (client `playback`, Twilio marks)."""
        self._reported_ms, self._reported_at = max(0, int(played_ms)), self._clock()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for future in self._done.values():
            if not future.done():
                future.set_result(Playout(self.played_ms(), interrupted=True))

    # -- the clock -------------------------------------------------------------------------------

    def _new_segment(self) -> None:
        self._paused_at_ms = None  # a pause holds one reply, never the next
        self._recent.clear()
        self._segment += 1
        self._segment_ended = False
        self._segment_sent_ms = 0
        self._segment_first_send = None
        self._reported_ms = None

    def _ensure_clock(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="paced-sink")

    async def _run(self) -> None:
        started: float | None = None  # clock origin of the current burst of audio
        sent_in_burst = 0
        while True:
            if self._paused_at_ms is not None:
                started = None
                self._wake.clear()
                await self._wake.wait()
                continue
            if not self._queue:
                self._finish_segment_if_heard()
                started = None
                self._wake.clear()
                if self._segment_ended and self._segment in self._done:
                    # Wait for the listener to hear the tail, then resolve played().
                    await asyncio.sleep(self._tick_s)
                    continue
                await self._wake.wait()
                continue
            now = self._clock()
            if started is None:
                started, sent_in_burst = now, 0
            # Whole milliseconds first: 0.04 s on a clock reading 1e5 s is 39.99999 ms, one frame short.
            due = round((now - started) * 1000) // self.frame_ms + self._lead_frames
            chunk: list[bytes] = []
            while sent_in_burst < due and len(self._queue) >= self._frame_bytes:
                frame = bytes(self._queue[: self._frame_bytes])
                del self._queue[: self._frame_bytes]
                now = self._clock()
                if self._segment_first_send is None:
                    self._segment_first_send = now
                if self._batch:
                    chunk.append(frame)
                else:
                    self._send(frame)
                    self._segment_sent_ms += self.frame_ms
                if self.on_sent is not None:
                    self.on_sent(frame)
                self._recent.append(frame)
                self._note_level(now, audioop.rms(frame, SAMPLE_WIDTH))
                self.last_sent_at = now
                self.frames_sent += 1
                if sent_in_burst * self.frame_ms < round((now - started) * 1000) - self.frame_ms:
                    self.frames_late += 1  # the clock task woke too late: the lead was used up
                sent_in_burst += 1
            if chunk:
                self._send(b"".join(chunk))  # `position` inside it: where the chunk starts
                self._segment_sent_ms += len(chunk) * self.frame_ms
            if 0 < len(self._queue) < self._frame_bytes and not self._segment_ended:
                # A partial frame while more audio is coming: wait for the rest.
                self._wake.clear()
                await self._wake.wait()
                continue
            due = self._clock() + self._tick_s
            await asyncio.sleep(self._tick_s)
            self._count_lag((self._clock() - due) * 1000)

    def _count_lag(self, lag_ms: float) -> None:
        lag_ms = max(0.0, lag_ms)
        self.tick_lag[bisect.bisect_left(TICK_LAG_BUCKETS_MS, lag_ms)] += 1
        self.tick_lag_ms += lag_ms

    def _finish_segment_if_heard(self) -> None:
        future = self._done.get(self._segment)
        if future is None or future.done() or not self._segment_ended:
            return
        if self._segment_first_send is None or self.played_ms() >= self._segment_sent_ms:
            future.set_result(Playout(self._segment_sent_ms, interrupted=False))
            del self._done[self._segment]


def pcm_ms(pcm: bytes, sample_rate: int) -> int:
    return round(len(pcm) / SAMPLE_WIDTH * 1000 / sample_rate)
