"""ASR providers: base.py is the protocol, one file per implementation."""

from agents.providers.asr.base import ASR

PROVIDERS = ("whisper", "vosk")


def make_asr(provider: str, **options) -> ASR:
    """Load the ASR named `provider` ("whisper" or "vosk") with its constructor `options`.

    Blocking (it loads the model): call it once per process at start-up. The
    implementation is imported only here, so an unused provider's library is
    never loaded.
    """
    if provider == "whisper":
        from agents.providers.asr.whisper import WhisperASR

        return WhisperASR(**options)
    if provider == "vosk":
        from agents.providers.asr.vosk import VoskASR

        return VoskASR(**options)
    raise ValueError(f"unknown ASR provider {provider!r} (known: {', '.join(PROVIDERS)})")


__all__ = ["PROVIDERS", "make_asr"]
