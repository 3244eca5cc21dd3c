"""G.711 A-law (PCMA): one byte a sample; most trunks outside North America."""

from media.audioop_lib import audioop
from media.errors import AudioFormatError
from media.format import SAMPLE_WIDTH, check_pcm16, check_rate


class AlawCodec:
    name = "alaw"

    def __init__(self, sample_rate: int = 8000) -> None:
        self.sample_rate = check_rate(sample_rate)

    def encode(self, pcm: bytes) -> bytes:
        check_pcm16(pcm)
        return audioop.lin2alaw(pcm, SAMPLE_WIDTH)

    def decode(self, payload: bytes) -> bytes:
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise AudioFormatError(f"alaw payload must be bytes, got {type(payload).__name__}")
        return audioop.alaw2lin(payload, SAMPLE_WIDTH)
