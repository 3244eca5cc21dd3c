"""What the SIP user agent reads from its configuration (gateway/sip_config.py fits this by shape)."""

from typing import Protocol


class SipOptions(Protocol):
    port: int  # SIP port, UDP and/or TCP
    bind_address: str  # interface for SIP and RTP; "" or 0.0.0.0 = all
    public_address: str | None  # put in Contact and SDP when peers reach us at another address (NAT)
    transports: str  # "udp", "tcp" or "udp,tcp"
    codecs: str  # preference order, e.g. "PCMU,PCMA,G722,opus"; what the build lacks is skipped
    rtp_port: int  # first RTP port (each call takes RTP and RTCP); 0 = any
    rtp_port_range: int  # how many ports from rtp_port; 0 = no limit
    clock_rate: int  # Hz of the audio bridge and the frames crossing to the engine: 8000 or 16000
    frame_ms: int  # audio per crossing between pjsua2's clock thread and Python: 20, 40 or 60 (sip/bridge.py)
    max_calls: int
    registrar: str | None  # sip:pbx.example.com to register to; None = no registration
    username: str | None
    password: str | None
    realm: str  # "*" = any realm the registrar challenges with
    account: str | None  # our SIP address of record; default sip:username@registrar-host
    register_expires_s: int


def wanted_codecs(options: SipOptions) -> list[str]:
    """The codec names of `options.codecs`, upper-cased, in preference order."""
    return [name.strip().upper() for name in options.codecs.split(",") if name.strip()]


def wanted_transports(options: SipOptions) -> list[str]:
    return [name.strip().lower() for name in options.transports.split(",") if name.strip()]
