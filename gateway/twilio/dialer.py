"""Outbound Twilio calls for POST /v1/calls: Twilio dials, and on answer runs the same <Connect><Stream>
TwiML an inbound call gets, so the session starts the same way."""

from aiohttp import web

from agents.errors import InvalidRequest
from gateway.api.calls import CallFailed
from gateway.storage import SessionRecord
from gateway.twilio.rest import TwilioApiError, TwilioRest
from gateway.twilio.signatures import TwilioNotConfigured, public_base
from gateway.twilio.webhooks import STATUS_PATH, stream_twiml


class TwilioDialer:
    """app[DIALERS]["twilio"]."""

    def __init__(self, app: web.Application, rest: TwilioRest | None) -> None:
        self.app = app
        self.rest = rest

    def check(self, to: str, from_: str | None) -> None:
        if self.rest is None:
            raise TwilioNotConfigured("placing Twilio calls needs PARLEY_TWILIO_ACCOUNT_SID and "
                                      "PARLEY_TWILIO_AUTH_TOKEN", param="channel")
        if from_ is None:
            raise InvalidRequest("from is required for a Twilio call: one of your Twilio numbers", param="from")

    async def dial(self, request: web.Request, session: SessionRecord, to: str, from_: str | None) -> str:
        assert self.rest is not None and from_ is not None
        # The status callback names the session: a call that fails at once is reported before we know its sid.
        status_url = f"{public_base(request)}{STATUS_PATH}?session_id={session.session_id}"
        try:
            return await self.rest.place_call(to, from_, stream_twiml(request, session.session_id), status_url)
        except TwilioApiError as exc:
            if exc.status is not None and 400 <= exc.status < 500 and exc.status not in (401, 403):
                raise InvalidRequest(str(exc), param="to") from None  # a number Twilio will not call
            raise CallFailed(str(exc)) from None
