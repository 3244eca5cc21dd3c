"""HTTP webhook tools: POST the validated arguments as JSON to the tool's `url`, signed, and read JSON back.

Headers say which session and call the request is for; `X-Parley-Signature:
t=<unix seconds>,v1=<hex>` is HMAC-SHA256 under the gateway's webhook secret over
`<t>.<body bytes>` (Stripe's scheme), so a receiver can check the request came
from this gateway and is fresh. One aiohttp ClientSession serves the whole
process (connection reuse); `start()`/`close()` pair with the app's life cycle.
Every failure is a ToolFailure whose message the LLM can talk about.
"""

import hashlib
import hmac
import json
import time

import aiohttp

from agents.tools.handler import ToolFailure

MAX_RESPONSE_BYTES = 1 << 20  # a tool result goes into the LLM prompt: anything near this is a mistake
SIGNATURE_HEADER = "X-Parley-Signature"
USER_AGENT = "Parley-Webhook/1"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The X-Parley-Signature value for `body` sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _error_detail(raw: bytes) -> str:
    """A short reason from an error body, if it is JSON with an error message; never raw HTML."""
    try:
        data = json.loads(raw)
    except ValueError:
        return ""
    if isinstance(data, dict):
        error = data.get("error", data.get("message"))
        if isinstance(error, dict):
            error = error.get("message")
        if isinstance(error, str) and error.strip():
            return f": {error.strip()[:200]}"
    return ""


class WebhookClient:
    """POSTs tool calls to webhooks. Use from the event loop that called `start()`."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None:
            # No aiohttp timeout: each call is bounded by its tool's timeout (the runner's wait_for).
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None),
                                                  headers={"User-Agent": USER_AGENT})

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, url: str, name: str, arguments: dict, *, session_id: str, call_id: str,
                   turn_id: str = "") -> object:
        """The webhook's JSON answer; raises ToolFailure for anything else. The caller bounds the time."""
        if self._session is None:
            raise ToolFailure(f"the tool {name} cannot be reached: webhooks are not running on this gateway")
        body = json.dumps(arguments, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Parley-Session-Id": session_id,
            "X-Parley-Tool-Call-Id": call_id,
            "X-Parley-Tool-Name": name,
            "X-Parley-Turn-Id": turn_id,
            SIGNATURE_HEADER: sign(self.secret, body, int(time.time())),
        }
        try:
            # No redirects: the signature is for this URL's receiver, not whoever it points at.
            async with self._session.post(url, data=body, headers=headers, allow_redirects=False) as resp:
                raw = await self._read(resp, name)
                status = resp.status
        except aiohttp.ClientConnectorError as exc:
            reason = "connection refused" if isinstance(exc.os_error, ConnectionRefusedError) else (
                exc.os_error.strerror or type(exc.os_error).__name__)
            raise ToolFailure(f"the tool {name} could not reach its service ({reason})") from None
        except aiohttp.ClientError as exc:
            raise ToolFailure(f"the tool {name} failed talking to its service ({type(exc).__name__})") from None
        if not 200 <= status < 300:
            raise ToolFailure(f"the tool {name} failed: its service answered HTTP {status}{_error_detail(raw)}")
        if not raw.strip():
            return {"ok": True}
        try:
            return json.loads(raw)
        except ValueError:
            raise ToolFailure(f"the tool {name} failed: its service did not answer with JSON") from None

    @staticmethod
    async def _read(resp: aiohttp.ClientResponse, name: str) -> bytes:
        raw = bytearray()
        async for chunk in resp.content.iter_chunked(65536):
            raw += chunk
            if len(raw) > MAX_RESPONSE_BYTES:
                raise ToolFailure(f"the tool {name} failed: its answer is larger than {MAX_RESPONSE_BYTES // 1024} KB")
        return bytes(raw)
