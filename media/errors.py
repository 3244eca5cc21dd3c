"""Errors raised by media/: always a ValueError subclass that names the bad value."""


class MediaError(ValueError):
    """Base class of every error media/ raises on bad input."""


class AudioFormatError(MediaError):
    """Audio whose length, rate, encoding or framing cannot be what the caller says it is."""
