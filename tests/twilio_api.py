"""A stand-in for Twilio's REST API on loopback (the real one is unreachable here).

It answers the Calls requests the twilio library makes (create a call, update a
call: hang up or new TwiML), checks their Basic auth, records each one, and says
"not in progress" (21220) for a call that has ended, as Twilio does. It runs on
its own thread and event loop for the whole test run, so the shared gateway can
be pointed at it (`[twilio] api_base_url`) before it starts.
"""

import asyncio
import base64
import re
import secrets
import threading
import time
from dataclasses import dataclass

from aiohttp import web

ACCOUNT_SID = "AC" + "7" * 32
AUTH_TOKEN = "parley-test-twilio-auth-token"
PUBLIC_URL = "https://parley.example.test"  # what Twilio was given; the tests reach the gateway on loopback

_CALLS = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Calls(?:/(?P<call>[^/.]+))?\.json$")


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    form: dict[str, list[str]]
    call_sid: str | None  # the call it updates; None for a create
    at: float  # time.monotonic() when it arrived

    def value(self, name: str) -> str | None:
        values = self.form.get(name)
        return values[0] if values else None


class TwilioApi:
    def __init__(self) -> None:
        self.requests: list[ApiRequest] = []
        self.ended: set[str] = set()  # calls that are over: updating them is a 21220
        self.refuse_twiml: tuple[int, int, str] | None = None  # (status, code, message) for any new TwiML
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="twilio-api", daemon=True)
        self._runner: web.AppRunner | None = None
        self.url = ""

    def env(self) -> dict[str, str]:
        """What the gateway needs to talk to this stand-in and to check the tests' signatures."""
        return {"PARLEY_TWILIO_ACCOUNT_SID": ACCOUNT_SID, "PARLEY_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "PARLEY_TWILIO_PUBLIC_URL": PUBLIC_URL, "PARLEY_TWILIO_API_BASE_URL": self.url}

    def __enter__(self) -> "TwilioApi":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    def end_call(self, call_sid: str) -> None:
        with self._lock:
            self.ended.add(call_sid)

    def for_call(self, call_sid: str) -> list[ApiRequest]:
        with self._lock:
            return [r for r in self.requests if r.call_sid == call_sid]

    async def wait_for(self, predicate, timeout: float = 10.0) -> ApiRequest:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = next((r for r in self.requests if predicate(r)), None)
            if found is not None:
                return found
            await asyncio.sleep(0.02)
        raise AssertionError(f"no such request to the Twilio API within {timeout} s: {self.requests}")

    @staticmethod
    def _error(status: int, code: int, message: str) -> web.Response:
        return web.json_response({"code": code, "message": message, "more_info": "", "status": status}, status=status)

    async def _handle(self, request: web.Request) -> web.Response:
        form = await request.post()
        match = _CALLS.match(request.path)
        record = ApiRequest(request.method, request.path, {k: form.getall(k) for k in set(form.keys())},
                            match["call"] if match else None, time.monotonic())
        with self._lock:
            self.requests.append(record)
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return self._error(401, 20003, "Authenticate")
        if match is None or match["account"] != ACCOUNT_SID or request.method != "POST":
            return self._error(404, 20404, f"The requested resource {request.path} was not found")
        call_sid = match["call"]
        if call_sid is None:  # create: Twilio queues the call and answers with its new sid
            if not record.value("To") or not record.value("From"):
                return self._error(400, 21201, "No 'To' or 'From' number is specified")
            sid = "CA" + secrets.token_hex(16)
            return web.json_response({"sid": sid, "account_sid": ACCOUNT_SID, "to": record.value("To"),
                                      "from": record.value("From"), "status": "queued"}, status=201)
        if self.refuse_twiml is not None and record.value("Twiml"):
            return self._error(*self.refuse_twiml)
        with self._lock:
            if call_sid in self.ended:
                return self._error(400, 21220, "Call is not in-progress. Cannot redirect.")
            if record.value("Status") == "completed":
                self.ended.add(call_sid)
        return web.json_response({"sid": call_sid, "account_sid": ACCOUNT_SID,
                                  "status": "completed" if record.value("Status") else "in-progress"})
