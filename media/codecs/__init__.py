"""Codecs chosen by name: pcm16, mulaw, alaw, opus."""

from collections.abc import Callable

from media.codecs.alaw import AlawCodec
from media.codecs.base import Codec
from media.codecs.mulaw import MulawCodec
from media.codecs.pcm16 import Pcm16Codec
from media.errors import AudioFormatError

CODEC_NAMES = ("pcm16", "mulaw", "alaw", "opus")


def _opus(sample_rate: int) -> Codec:
    # Imported on demand: opuslib needs the system libopus, which pcm16/G.711 users may lack.
    from media.codecs.opus import OpusCodec

    return OpusCodec(sample_rate)


_FACTORIES: dict[str, Callable[[int], Codec]] = {
    "pcm16": Pcm16Codec,
    "mulaw": MulawCodec,
    "alaw": AlawCodec,
    "opus": _opus,
}


def make_codec(name: str, sample_rate: int) -> Codec:
    """A new codec instance for one stream; unknown names raise AudioFormatError."""
    factory = _FACTORIES.get(name) if isinstance(name, str) else None
    if factory is None:
        raise AudioFormatError(f"unknown encoding {name!r} (supported: {', '.join(CODEC_NAMES)})")
    return factory(sample_rate)


__all__ = ["CODEC_NAMES", "AlawCodec", "Codec", "MulawCodec", "Pcm16Codec", "make_codec"]
