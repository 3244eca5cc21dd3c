"""pcm16: the identity codec, with the checks every other codec also makes."""

from media.format import check_pcm16, check_rate


class Pcm16Codec:
    name = "pcm16"

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = check_rate(sample_rate)

    def encode(self, pcm: bytes) -> bytes:
        check_pcm16(pcm)
        return bytes(pcm)

    def decode(self, payload: bytes) -> bytes:
        check_pcm16(payload)
        return bytes(payload)
