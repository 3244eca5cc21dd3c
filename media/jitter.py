"""Jitter buffer for RTP-style input: reorder by sequence number, drop late and duplicate packets, mark losses.

The buffer holds payloads (encoded or not); `pop()` is called once per frame
period by the receiver and says what to play: the next packet, a loss (so the
caller conceals it: Opus PLC, or `conceal_pcm` for G.711), or nothing yet.
"""

from dataclasses import dataclass

from media.audioop_lib import audioop
from media.format import SAMPLE_WIDTH

_SEQ_MOD = 1 << 16


@dataclass(frozen=True, slots=True)
class Played:
    """One frame period's worth: `payload` is None when the packet for `seq` was lost."""

    seq: int
    timestamp: int | None
    payload: bytes | None

    @property
    def lost(self) -> bool:
        return self.payload is None


class JitterBuffer:
    """Reorders packets and releases one per frame period, `depth` packets behind the newest.

    `depth` frames of delay absorb that much network jitter; beyond
    `max_depth` buffered frames the oldest are skipped so delay stays bounded.
    Sequence numbers are RTP's 16-bit ones and may wrap.
    """

    def __init__(self, depth: int = 2, max_depth: int = 10) -> None:
        if depth < 0 or max_depth <= depth:
            raise ValueError(f"need 0 <= depth < max_depth, got depth={depth}, max_depth={max_depth}")
        self.depth = depth
        self.max_depth = max_depth
        self._packets: dict[int, tuple[int | None, bytes]] = {}
        self._next: int | None = None  # extended seq of the next frame to play
        self._highest: int | None = None  # highest extended seq received
        self._playing = False  # False while (re)filling up to `depth` packets ahead
        self._released = False  # True once a slot was played, concealed or skipped: older packets are late
        self.received = 0
        self.lost = 0
        self.late = 0
        self.duplicates = 0

    def _extend(self, seq: int) -> int:
        """Map a 16-bit seq onto an ever-increasing number, choosing the wrap nearest the newest seen."""
        if self._highest is None:
            return seq
        base = self._highest - (self._highest % _SEQ_MOD)
        candidates = (base - _SEQ_MOD + seq, base + seq, base + _SEQ_MOD + seq)
        return min(candidates, key=lambda c: abs(c - self._highest))

    def push(self, seq: int, payload: bytes, timestamp: int | None = None) -> None:
        """Add a packet with RTP sequence number `seq` (0..65535)."""
        if not 0 <= seq < _SEQ_MOD:
            raise ValueError(f"RTP sequence number must be 0..65535, got {seq!r}")
        ext = self._extend(seq)
        if self._next is not None and ext < self._next and self._released:
            self.late += 1  # its slot was already played or concealed
            return
        if ext in self._packets:
            self.duplicates += 1
            return
        self._packets[ext] = (timestamp, bytes(payload))
        self.received += 1
        if self._highest is None or ext > self._highest:
            self._highest = ext
        if self._next is None:
            self._next = ext
        elif ext < self._next:
            self._next = ext  # reordered ahead of the first packet, before anything was played
        # Bound the delay: skip ahead when too much has piled up.
        if self._highest - self._next >= self.max_depth:
            skip_to = self._highest - self.depth
            for old in [s for s in self._packets if s < skip_to]:
                del self._packets[old]
            self._next = skip_to
            self._released = True

    def pop(self) -> Played | None:
        """The frame to play now, or None while priming (fewer than `depth` packets ahead) or empty."""
        if self._next is None or self._highest is None:
            return None
        if self._next > self._highest:
            self._playing = False  # ran dry: refill before playing again
            return None
        ahead = self._highest - self._next
        if not self._playing:
            if ahead < self.depth:
                return None
            self._playing = True
        if self._next not in self._packets and ahead < self.depth:
            return None  # the gap may still fill: wait while we are inside the buffer's depth
        seq = self._next
        self._next += 1
        self._released = True
        item = self._packets.pop(seq, None)
        if item is None:
            self.lost += 1
            return Played(seq % _SEQ_MOD, None, None)
        return Played(seq % _SEQ_MOD, item[0], item[1])

    def __len__(self) -> int:
        return len(self._packets)


def conceal_pcm(previous: bytes, losses_in_a_row: int) -> bytes:
    """Stand-in for a lost pcm16 frame: the previous frame, 6 dB quieter per loss, silence after three."""
    if losses_in_a_row > 3 or not previous:
        return b"\x00" * len(previous)
    return audioop.mul(previous, SAMPLE_WIDTH, 0.5**losses_in_a_row)
