"""The codec protocol: pcm16 in, wire payload out, and back."""

from typing import Protocol


class Codec(Protocol):
    """One direction-pair codec instance for one stream.

    `encode` takes pcm16 at `sample_rate` and returns the wire payload; `decode`
    does the reverse. Stateful codecs (Opus) keep their state per instance, so a
    stream owns its codec. Bad input raises media.AudioFormatError.
    """

    name: str
    sample_rate: int

    def encode(self, pcm: bytes) -> bytes: ...

    def decode(self, payload: bytes) -> bytes: ...
