"""Is a request really from Twilio? X-Twilio-Signature checked with the twilio library's RequestValidator
against the URL exactly as Twilio was given it: the public URL (PARLEY_TWILIO_PUBLIC_URL /
PARLEY_PUBLIC_URL) plus the path, never the loopback URL a proxy or TLS terminator forwards to."""

from collections.abc import Mapping

from aiohttp import web
from twilio.request_validator import RequestValidator

from agents.errors import Forbidden, ParleyError
from gateway.app_keys import CONFIG

SIGNATURE_HEADER = "X-Twilio-Signature"


class TwilioNotConfigured(ParleyError):
    code, status = "twilio_not_configured", 503


def public_base(request: web.Request) -> str:
    """The base URL Twilio reaches us at (https://gw.example.com), without a trailing slash."""
    config = request.app[CONFIG]
    if config.twilio.public_url:
        return config.twilio.public_url.rstrip("/")
    return config.resolved_public_url(request.url.port)


def websocket_base(request: web.Request) -> str:
    """The public base as a WebSocket URL: https -> wss, http -> ws."""
    base = public_base(request)
    return "wss://" + base[len("https://"):] if base.startswith("https://") else "ws://" + base.split("://", 1)[1]


def check_signature(request: web.Request, url: str, params: Mapping[str, str]) -> None:
    """Raise unless the request is signed by Twilio for `url` and `params` (the POST form; none for the
    WebSocket upgrade). 503 twilio_not_configured with no auth token, unless checks are switched off."""
    twilio = request.app[CONFIG].twilio
    if not twilio.validate_signatures:
        return
    if not twilio.auth_token:
        raise TwilioNotConfigured("Twilio is not configured: set PARLEY_TWILIO_AUTH_TOKEN (or, for local "
                                  "testing only, PARLEY_TWILIO_VALIDATE_SIGNATURES=false)")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature or not RequestValidator(twilio.auth_token).validate(url, params, signature):
        raise Forbidden(f"missing or invalid {SIGNATURE_HEADER} for {url}")

