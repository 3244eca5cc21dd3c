"""Twilio's REST API for call control: hang up, redirect a live call to new TwiML, place a call.

The twilio library's Client on its own aiohttp transport (AsyncTwilioHttpClient), so
nothing blocks the event loop and no thread is needed. `api_base_url` points it at
another host than api.twilio.com (a stand-in in the tests); the library builds
every path (/2010-04-01/Accounts/{sid}/Calls...) itself.
"""

import aiohttp
import structlog
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from gateway.twilio.config import TwilioConfig

log = structlog.get_logger(__name__)

TIMEOUT_S = 10.0
# The call is over already: "not in progress" on an update, or no such call any more.
_CALL_ENDED_CODES = frozenset({21220, 20404})


class TwilioApiError(Exception):
    """Twilio refused a request or could not be reached; str(exc) says which, for a log or a tool result."""

    def __init__(self, message: str, status: int | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class TwilioRest:
    """One client per process (credentials from [twilio]); `close()` at shutdown."""

    def __init__(self, config: TwilioConfig) -> None:
        self._http = AsyncTwilioHttpClient(timeout=TIMEOUT_S)
        self._client = Client(config.account_sid, config.auth_token, http_client=self._http)
        # Domain.base_url is where every request of the api.twilio.com domain goes.
        self._client.api.base_url = config.api_base_url.rstrip("/")

    async def close(self) -> None:
        await self._http.close()

    async def hang_up(self, call_sid: str) -> bool:
        """End the call. False if it had ended already (that is done, not an error)."""
        try:
            await self._call(self._client.calls(call_sid).update_async(status="completed"), "hang up")
        except TwilioApiError as exc:
            if exc.code in _CALL_ENDED_CODES or exc.status == 404:
                log.info("twilio_call_already_ended", call_sid=call_sid, code=exc.code)
                return False
            raise
        return True

    async def redirect(self, call_sid: str, twiml: str) -> None:
        """Replace what the live call is doing with `twiml` (a transfer's <Dial>); the stream stops."""
        await self._call(self._client.calls(call_sid).update_async(twiml=twiml), "redirect the call")

    async def place_call(self, to: str, from_: str, twiml: str, status_callback: str) -> str:
        """Dial `to` from our number `from_`; once answered the call runs `twiml`. Returns its CallSid."""
        call = await self._call(self._client.calls.create_async(
            to=to, from_=from_, twiml=twiml, status_callback=status_callback, status_callback_method="POST",
            status_callback_event=["initiated", "ringing", "answered", "completed"],
        ), "place the call")
        return call.sid

    @staticmethod
    async def _call(request, doing: str):
        try:
            return await request
        except TwilioRestException as exc:
            raise TwilioApiError(f"Twilio refused to {doing}: {exc.msg} (HTTP {exc.status}, code {exc.code})",
                                 exc.status, exc.code) from None
        except (TwilioException, aiohttp.ClientError, TimeoutError) as exc:
            raise TwilioApiError(f"could not {doing}: Twilio's API is unreachable ({type(exc).__name__})") from None
