"""Opus: one packet per frame, through opuslib and the system libopus (Debian libopus0)."""

import opuslib
import opuslib.api.decoder

from media.errors import AudioFormatError
from media.format import SAMPLE_WIDTH, check_pcm16

# Opus runs at these rates only (22.05 kHz is not one of them).
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
# Frame durations an Opus encoder accepts, in tenths of a millisecond (2.5 ms .. 60 ms).
_FRAME_TENTHS_MS = (25, 50, 100, 200, 400, 600)
_MAX_PACKET_MS = 120  # the longest packet a decoder may be handed


class OpusCodec:
    """Per-stream Opus encoder and decoder (both keep state between packets)."""

    name = "opus"

    def __init__(self, sample_rate: int, application: str = "voip", bitrate: int | None = None) -> None:
        if sample_rate not in OPUS_RATES:
            raise AudioFormatError(f"Opus does not run at {sample_rate!r} Hz (supported: {OPUS_RATES})")
        apps = {"voip": opuslib.APPLICATION_VOIP, "audio": opuslib.APPLICATION_AUDIO}
        if application not in apps:
            raise AudioFormatError(f"unknown Opus application {application!r} (voip or audio)")
        self.sample_rate = sample_rate
        self._encoder = opuslib.Encoder(sample_rate, 1, apps[application])
        if bitrate is not None:
            self._encoder.bitrate = bitrate
        self._decoder = opuslib.Decoder(sample_rate, 1)
        self._max_samples = sample_rate * _MAX_PACKET_MS // 1000
        self._last_samples = sample_rate // 50  # what a lost packet is concealed as

    def encode(self, pcm: bytes) -> bytes:
        """Encode exactly one frame of 2.5, 5, 10, 20, 40 or 60 ms into one packet."""
        check_pcm16(pcm)
        samples = len(pcm) // SAMPLE_WIDTH
        if samples * 10000 % self.sample_rate or samples * 10000 // self.sample_rate not in _FRAME_TENTHS_MS:
            raise AudioFormatError(
                f"Opus encodes 2.5/5/10/20/40/60 ms frames; got {len(pcm)} bytes "
                f"({samples * 1000 / self.sample_rate:g} ms at {self.sample_rate} Hz)"
            )
        return self._encoder.encode(bytes(pcm), samples)

    def decode(self, payload: bytes) -> bytes:
        """Decode one packet to pcm16; a corrupt packet raises AudioFormatError."""
        if not isinstance(payload, (bytes, bytearray, memoryview)) or len(payload) == 0:
            raise AudioFormatError("an Opus packet must be non-empty bytes")
        try:
            pcm = self._decoder.decode(bytes(payload), self._max_samples)
        except opuslib.OpusError as exc:
            raise AudioFormatError(f"corrupt Opus packet ({len(payload)} bytes): {exc}") from None
        self._last_samples = len(pcm) // SAMPLE_WIDTH
        return pcm

    def conceal(self) -> bytes:
        """Packet-loss concealment: audio that stands in for one lost packet."""
        return opuslib.api.decoder.decode(
            self._decoder.decoder_state, None, 0, self._last_samples, False, channels=1
        )
