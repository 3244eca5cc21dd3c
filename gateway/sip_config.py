"""[sip]: the SIP user agent's settings (a section of gateway/config.py, kept here for its size).

Every field is overridden by PARLEY_SIP_<KEY>; `parley serve --sip-port N` sets PARLEY_SIP_PORT.
"""

from dataclasses import dataclass, field

from gateway.config_values import ConfigError

_TRANSPORTS = frozenset({"udp", "tcp"})
_CLOCK_RATES = (8000, 16000)
_FRAME_MS = (20, 40, 60)


def _setting(default, doc: str, **rules):
    # The same field shape as gateway/config.py's (doc and rules in the metadata the loader checks).
    return field(default=default, metadata={"doc": doc, **rules})


@dataclass(frozen=True)
class SIPConfig:
    """[sip]: the SIP user agent (off unless a port is set)."""

    port: int | None = _setting(None, "UDP/TCP port for SIP (PARLEY_SIP_PORT); unset = no SIP", min=1, max=65535)
    bind_address: str | None = _setting(
        None, "interface for SIP and RTP; unset = the [server] host (127.0.0.1 by default); 0.0.0.0 = all")
    public_address: str | None = _setting(
        None, "address written in Contact and SDP when the PBX reaches Parley at another one (NAT); "
        "unset = the bound address")
    transports: str = _setting("udp", "udp, tcp, or udp,tcp")
    codecs: str = _setting(
        "PCMU,PCMA,G722,opus", "codecs in order of preference; ones this pjsua2 build lacks are skipped "
        "(the pjsua2-python wheel has no opus)")
    rtp_port: int = _setting(10000, "first RTP port; each call takes two (RTP, RTCP); 0 = any", min=0, max=65535)
    rtp_port_range: int = _setting(2000, "how many ports from rtp_port calls may use; 0 = no limit", min=0, max=65535)
    clock_rate: int = _setting(8000, "Hz of call audio to and from the engine: 8000, or 16000 to keep G.722 wideband")
    frame_ms: int = _setting(
        20, "audio per crossing between the SIP media clock and Python: 20, 40 or 60 ms; longer costs less CPU "
        "per call and adds up to frame_ms - 20 of delay each way (RTP stays at the codec's 20 ms)")
    max_calls: int = _setting(4, "simultaneous SIP calls, more get 486 Busy Here; the pjsua2-python wheel is built "
                              "for at most 4 (PJSUA_MAX_CALLS)", min=1, max=512)
    registrar: str | None = _setting(
        None, "register to this trunk/PBX (sip:pbx.example.com) so that calls to the account reach Parley; "
        "unset = no registration (the PBX sends calls to this address)")
    username: str | None = _setting(None, "the account's user name at the registrar (also the digest user)")
    password: str | None = _setting(None, "the account's password (PARLEY_SIP_PASSWORD)")
    realm: str = _setting("*", "the digest realm to answer; * = whatever the registrar asks for")
    account: str | None = _setting(None, "our SIP address (sip:1000@pbx.example.com); default sip:USERNAME@REGISTRAR")
    register_expires_s: int = _setting(300, "registration lifetime; renewed before it runs out", min=60, max=86400)

    def __post_init__(self) -> None:
        transports = {t.strip().lower() for t in self.transports.split(",") if t.strip()}
        if not transports or transports - _TRANSPORTS:
            raise ConfigError(f"invalid setting sip.transports (PARLEY_SIP_TRANSPORTS): expected udp, tcp or "
                              f"udp,tcp, got {self.transports!r}")
        if self.clock_rate not in _CLOCK_RATES:
            raise ConfigError(f"invalid setting sip.clock_rate (PARLEY_SIP_CLOCK_RATE): expected 8000 or 16000, "
                              f"got {self.clock_rate!r}")
        if self.frame_ms not in _FRAME_MS:
            raise ConfigError(f"invalid setting sip.frame_ms (PARLEY_SIP_FRAME_MS): expected 20, 40 or 60, "
                              f"got {self.frame_ms!r}")
        if not [c for c in self.codecs.split(",") if c.strip()]:
            raise ConfigError("invalid setting sip.codecs (PARLEY_SIP_CODECS): name at least one codec (PCMU,PCMA)")
        for name, value in (("registrar", self.registrar), ("account", self.account)):
            if value is not None and not value.lower().startswith(("sip:", "sips:")):
                raise ConfigError(f"invalid setting sip.{name} (PARLEY_SIP_{name.upper()}): expected a SIP URI "
                                  f"such as sip:pbx.example.com, got {value!r}")
        if self.registrar and not self.username:
            raise ConfigError("sip.registrar needs sip.username (and usually sip.password) to register with")
