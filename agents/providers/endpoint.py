"""One model server's HTTP endpoint, shared by the remote providers (asr/remote.py, tts/remote.py).

A pooled aiohttp session made on first use (on the event loop that uses it), the API key, bounded waits,
one retry of a request that failed before it was sent (a pooled keep-alive connection the server had
closed), and the outcome of the latest request: `/healthz` says which provider is failing and why.
"""

import json
from dataclasses import dataclass

import aiohttp

from agents.errors import ProviderError


@dataclass
class Health:
    """What the latest request to a server came to; `error` is None while it works."""

    error: str | None = None

    def ok(self) -> None:
        self.error = None

    def failed(self, error: str) -> None:
        self.error = error

    def to_wire(self) -> dict:
        return {"status": "ok"} if self.error is None else {"status": "error", "error": self.error}


class Endpoint:
    """`base_url` ends where the API's paths begin (`http://models:8000/v1`). `timeout_s` bounds the wait for
    the response to start and then for each next piece of it; `connect_timeout_s` the connect."""

    def __init__(self, base_url: str, api_key: str | None = None, *, timeout_s: float = 10.0,
                 connect_timeout_s: float = 3.0, headers: dict[str, str] | None = None,
                 what: str = "model server") -> None:
        self.base_url = base_url.rstrip("/")
        self.what = what
        self.health = Health()
        self.headers = dict(headers or {})  # sent with every request; the key as a bearer token
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self._timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout_s, sock_read=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def post(self, path: str, **kwargs) -> aiohttp.ClientResponse:
        """POST `path`; the response's status is checked (ProviderError for anything but 200). The caller reads
        the body and closes it (`async with`). A failure to connect or a timeout is a ProviderError too."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        url = self.base_url + path
        try:
            response = await self._send(url, kwargs)
        except TimeoutError as exc:  # first: aiohttp's timeouts are ClientErrors too
            raise self.fail(f"{self.what} {self.base_url} sent nothing for {self._timeout.sock_read} s") from exc
        except aiohttp.ClientError as exc:
            raise self.fail(f"{self.what} {self.base_url} failed: {type(exc).__name__}: {exc}") from exc
        if response.status != 200:
            text = error_text(await response.text(errors="replace"))
            response.release()
            raise self.fail(f"{self.what} {url} answered {response.status}: {text}")
        return response

    def fail(self, message: str) -> ProviderError:
        """Note a failure (for /healthz) and return the error to raise."""
        self.health.failed(message)
        return ProviderError(message)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _send(self, url: str, kwargs: dict) -> aiohttp.ClientResponse:
        # A pooled keep-alive connection the server has meanwhile closed fails before the request
        # is sent; one retry on a fresh connection is safe (nothing reached the model).
        for attempt in (1, 2):
            try:
                return await self._session.post(url, headers=self.headers, **kwargs)
            except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError):
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def error_text(body: str) -> str:
    """The message of an OpenAI-style error body ({"error": {"message": ...}}), else the body, shortened."""
    try:
        error = json.loads(body).get("error", body)
    except (ValueError, AttributeError):
        return body.strip()[:300]
    if isinstance(error, dict):
        return str(error.get("message") or error)[:300]
    return str(error)[:300]
