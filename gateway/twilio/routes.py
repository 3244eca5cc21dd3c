"""The Twilio door's wiring: its routes, the REST client's life, and the outbound-call dialer."""

from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from agents.errors import Conflict
from gateway.app_keys import CONFIG, DIALERS, MODELS, TWILIO_REST
from gateway.twilio import webhooks
from gateway.twilio.dialer import TwilioDialer
from gateway.twilio.door import TwilioStream
from gateway.twilio.rest import TwilioRest
from gateway.twilio.signatures import check_signature, websocket_base

log = structlog.get_logger(__name__)


async def stream(request: web.Request) -> web.StreamResponse:
    """WS /twilio/stream: the signature is checked on the upgrade (the wss:// URL as in the TwiML, no params)."""
    check_signature(request, websocket_base(request) + request.path_qs, {})
    if not request.app[MODELS].ready.is_set():
        raise Conflict("the gateway is still loading its models")
    connection = TwilioStream(request, request.app.get(TWILIO_REST))
    structlog.contextvars.bind_contextvars(channel="twilio")
    try:
        return await connection.run()
    finally:
        log.info("twilio_stream_closed")
        structlog.contextvars.clear_contextvars()


async def _rest_ctx(app: web.Application) -> AsyncIterator[None]:
    """Twilio's REST client when credentials are set (hang-up, transfer, outbound calls); the dialer either way,
    so POST /v1/calls can say what is missing."""
    config = app[CONFIG].twilio
    rest = TwilioRest(config) if config.rest_configured else None
    if rest is not None:
        app[TWILIO_REST] = rest
    app[DIALERS]["twilio"] = TwilioDialer(app, rest)
    yield
    if rest is not None:
        await rest.close()


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(_rest_ctx)
    app.router.add_post("/twilio/voice", webhooks.voice)
    app.router.add_post(webhooks.STATUS_PATH, webhooks.status)
    app.router.add_get(webhooks.STREAM_PATH, stream)
