"""G.711 mu-law (PCMU): one byte a sample; Twilio Media Streams and most US trunks."""

from media.audioop_lib import audioop
from media.errors import AudioFormatError
from media.format import SAMPLE_WIDTH, check_pcm16, check_rate


class MulawCodec:
    name = "mulaw"

    def __init__(self, sample_rate: int = 8000) -> None:
        self.sample_rate = check_rate(sample_rate)

    def encode(self, pcm: bytes) -> bytes:
        check_pcm16(pcm)
        return audioop.lin2ulaw(pcm, SAMPLE_WIDTH)

    def decode(self, payload: bytes) -> bytes:
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise AudioFormatError(f"mulaw payload must be bytes, got {type(payload).__name__}")
        return audioop.ulaw2lin(payload, SAMPLE_WIDTH)
