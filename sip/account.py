"""The SIP account calls arrive on and leave from: local only, or registered to a trunk/PBX with credentials."""

from typing import TYPE_CHECKING

import pjsua2 as pj
import structlog

from sip.options import SipOptions
from sip.uri import host_part

if TYPE_CHECKING:
    from sip.ua import UserAgent

log = structlog.get_logger(__name__)

_ALL_INTERFACES = ("", "0.0.0.0", "::")


def specific_address(address: str | None) -> str:
    """The address to bind to, or "" for all interfaces (what pjsua2 expects for "any")."""
    return "" if address is None or address in _ALL_INTERFACES else address


def account_uri(options: SipOptions, local_host: str) -> str:
    """Our address of record: the configured one, the registration's, or sip:parley@ where we listen."""
    if options.account:
        return options.account
    if options.registrar and options.username:
        return f"sip:{options.username}@{host_part(options.registrar)}"
    return f"sip:parley@{local_host}"


def account_config(options: SipOptions, local_host: str) -> pj.AccountConfig:
    config = pj.AccountConfig()
    config.idUri = account_uri(options, local_host)
    if options.registrar:
        config.regConfig.registrarUri = options.registrar
        config.regConfig.timeoutSec = options.register_expires_s
        config.regConfig.retryIntervalSec = 60
        config.regConfig.registerOnAdd = True
    if options.username:
        config.sipConfig.authCreds.append(
            pj.AuthCredInfo("digest", options.realm or "*", options.username, 0, options.password or ""))
    media = config.mediaConfig.transportConfig
    media.port = options.rtp_port
    media.portRange = options.rtp_port_range
    media.boundAddress = specific_address(options.bind_address)
    media.publicAddress = options.public_address or ""
    return config


class PjAccount(pj.Account):
    """Hands every incoming INVITE to the UA and logs the registration's state. UA thread only."""

    def __init__(self, ua: "UserAgent") -> None:
        super().__init__()
        self.ua = ua

    def onIncomingCall(self, prm) -> None:  # noqa: N802 (pjsua2's names)
        self.ua.incoming(self, prm)

    def onRegState(self, prm) -> None:  # noqa: N802
        if 200 <= prm.code < 300:
            log.info("sip_registered", registrar=self.ua.options.registrar, expires_s=prm.expiration)
        else:
            log.warning("sip_registration_failed", registrar=self.ua.options.registrar, code=prm.code,
                        reason=prm.reason)
