"""The audio bridge of one call: a pjsua2 AudioMediaPort whose frames cross to asyncio through two deques.

pjsua2 calls `onFrameReceived` / `onFrameRequested` on its conference clock
thread (a pjlib thread, not the event loop's), once per bridge frame each. They
only append to / pop from a `collections.deque` (atomic under the GIL), so
neither side ever blocks the other: the loop drains `inbound` on its own
clock (sip/pump.py) and fills `outbound` through a PacedSink; the clock
thread takes what is there and plays silence when nothing is.

The bridge frame (`sip.frame_ms`: 20, 40 or 60 ms) is how much audio each
callback carries. The conference bridge and RTP stay at 20 ms (pjmedia buffers
between them), so a longer frame only means fewer crossings into Python: at
60 ms, a third of them, for up to 40 ms more delay each way. `outbound` holds
20 ms frames whatever the bridge frame (the PacedSink's unit); a callback
takes as many as a bridge frame holds.

Reading a frame through SWIG (`bytes(frame.buf)`) walks the vector one
element at a time: ~180 us for 320 bytes. `read_vector` reads the
std::vector's storage in one copy (~2 us), after a start-up check that the
layout is the one expected; otherwise it falls back to the slow way.
"""

import ctypes
from collections import deque

import pjsua2 as pj

from media.format import frame_bytes

FRAME_MS = 20  # the unit of `outbound`, of frames_in and frames_out
BRIDGE_FRAME_MS = (20, 40, 60)  # what sip.frame_ms may be
_INBOUND_MAX_MS = 1000  # if the loop stalls longer, the oldest caller audio goes (VAD copes)
_OUTBOUND_MAX_FRAMES = 100  # the sink keeps ~120 ms here; a bound in case pjsua2 stops asking


def _read_vector_fast(vector) -> bytes:
    # libstdc++'s std::vector is three pointers: start, finish, end of storage (a stable ABI on Linux).
    address = int(vector.this)
    start = ctypes.c_void_p.from_address(address).value
    finish = ctypes.c_void_p.from_address(address + ctypes.sizeof(ctypes.c_void_p)).value
    if not start or not finish or finish < start:
        return b""
    return ctypes.string_at(start, finish - start)


def _read_vector_slow(vector) -> bytes:
    return bytes(vector)


def _pick_reader():
    probe = pj.ByteVector(bytes(range(256)) + b"\x00\x7f")
    try:
        if _read_vector_fast(probe) == bytes(probe):
            return _read_vector_fast
    except (ValueError, TypeError, OSError):
        pass
    return _read_vector_slow


read_vector = _pick_reader()


class FrameQueues:
    """What crosses between the clock thread and the loop for one call: pcm16 at `sample_rate`, caller audio
    in bridge frames of `bridge_ms`, ours in 20 ms frames."""

    def __init__(self, sample_rate: int, bridge_ms: int = FRAME_MS) -> None:
        if bridge_ms not in BRIDGE_FRAME_MS:
            raise ValueError(f"a bridge frame is 20, 40 or 60 ms, not {bridge_ms}")
        self.sample_rate = sample_rate
        self.bridge_ms = bridge_ms
        self.frames_per_bridge = bridge_ms // FRAME_MS
        self.frame_bytes = frame_bytes(sample_rate, FRAME_MS)
        self.bridge_bytes = frame_bytes(sample_rate, bridge_ms)
        self.inbound: deque[bytes] = deque(maxlen=_INBOUND_MAX_MS // bridge_ms)
        self.outbound: deque[bytes] = deque(maxlen=_OUTBOUND_MAX_FRAMES)
        self.frames_in = 0  # 20 ms of caller audio received from pjsua2, counted
        self.frames_out = 0  # 20 ms frames of ours handed to pjsua2

    def unheard_ms(self) -> int:
        """Audio given to the bridge that pjsua2 has not taken yet."""
        return len(self.outbound) * FRAME_MS


class BridgePort(pj.AudioMediaPort):
    """Connects one call's audio to its FrameQueues. Leased from a PortPool on the UA thread; the two frame
    callbacks run on pjsua2's clock thread. With no `queues` (in the pool, between calls) it hears and says
    nothing."""

    def __init__(self, sample_rate: int, bridge_ms: int = FRAME_MS) -> None:
        super().__init__()
        self.sample_rate = sample_rate
        self.bridge_ms = bridge_ms
        self.queues: FrameQueues | None = None

    def create(self, name: str) -> None:
        fmt = pj.MediaFormatAudio()
        fmt.type = pj.PJMEDIA_TYPE_AUDIO
        fmt.clockRate = self.sample_rate
        fmt.channelCount = 1
        fmt.bitsPerSample = 16
        fmt.frameTimeUsec = self.bridge_ms * 1000
        self.createPort(name, fmt)

    def onFrameReceived(self, frame) -> None:  # noqa: N802 (pjsua2's name)
        queues = self.queues
        if queues is None:  # the port is being deleted
            return
        pcm = read_vector(frame.buf)
        if len(pcm) == queues.bridge_bytes:
            queues.inbound.append(pcm)
            queues.frames_in += queues.frames_per_bridge

    def onFrameRequested(self, frame) -> None:  # noqa: N802 (pjsua2's name)
        queues = self.queues
        if queues is None:  # the port is being deleted
            frame.type = pj.PJMEDIA_FRAME_TYPE_NONE
            return
        outbound = queues.outbound
        if not outbound:
            frame.type = pj.PJMEDIA_FRAME_TYPE_NONE  # the bridge sends silence
            return
        if queues.frames_per_bridge == 1:
            pcm = outbound.popleft()
            queues.frames_out += 1
        else:
            taken = [outbound.popleft() for _ in range(min(queues.frames_per_bridge, len(outbound)))]
            queues.frames_out += len(taken)
            pcm = b"".join(taken).ljust(queues.bridge_bytes, b"\x00")  # the speech's end: silence after it
        frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
        frame.buf = pj.ByteVector(pcm)
        frame.size = len(pcm)


class PortPool:
    """Bridge ports, reused call after call; deleted only at shutdown, once the conference clock has stopped.

    Deleting a port while the clock runs crashes the process: Python tears the object down first and the C++
    destructor takes it off the bridge afterwards, so a frame callback in between calls into an object whose
    reference count is already 0 and frees it a second time (a CI gateway died with SIGSEGV as calls ended;
    deleting ports under a running clock crashes within a few hundred calls). UA thread only.
    """

    def __init__(self, sample_rate: int, bridge_ms: int = FRAME_MS) -> None:
        self.sample_rate = sample_rate
        self.bridge_ms = bridge_ms
        self.made = 0  # ports ever created: as many as calls were ever up at once
        self._free: list[BridgePort] = []
        self._all: list[BridgePort] = []

    def lease(self, queues: FrameQueues) -> BridgePort:
        if self._free:
            port = self._free.pop()
        else:
            self.made += 1
            port = BridgePort(self.sample_rate, self.bridge_ms)
            port.create(f"parley-{self.made}")
            self._all.append(port)
        port.queues = queues
        return port

    def give_back(self, port: BridgePort, peer: pj.AudioMedia | None) -> None:
        """The call is over: off its audio (if pjsua2 has not already dropped that), and silent until leased."""
        if peer is not None:
            for source, sink in ((peer, port), (port, peer)):
                try:
                    source.stopTransmit(sink)
                except pj.Error:  # the call's media is gone already, and its connections with it
                    pass
        port.queues = None
        self._free.append(port)

    def close(self) -> None:
        """Delete every port. Only once nothing clocks the bridge any more (AudDevManager.setNoDev)."""
        self._free.clear()
        while self._all:
            self._all.pop()  # popped, so that no name keeps one alive past libDestroy
