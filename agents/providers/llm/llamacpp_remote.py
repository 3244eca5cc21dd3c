"""The packaged chat model on `parley models serve` instead of in this process, for LlamaCppLLM.

LlamaCppLLM does more than pass messages to llama.cpp (the tool policy, notes for the small model, grounding,
calls under a grammar): on another server behind the plain OpenAI-compatible provider all of that would be
lost. So the gateway keeps LlamaCppLLM, and only the call it makes to llama.cpp goes over HTTP: this object
answers `handle_chat_completions(request[, on_chunk])` as xllamacpp's Server does (blocking, from a worker
of the LLM's pool, one callback per streamed chunk, a True from it stopping generation), by POSTing the same
request to the model server's `/chat/completions`, which hands it to its own llama.cpp unchanged.
"""

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from agents.errors import ProviderError
from agents.providers.endpoint import Health

WAIT_S = 120  # for a model server started beside the gateway to finish loading


def connect(base_url: str, api_key: str | None, ask_tools: bool) -> tuple["RemoteLlamaServer", bool]:
    """The model server at `base_url`, once it answers (blocking), and whether its chat template renders tools
    (asked only if `ask_tools`; else False)."""
    server = RemoteLlamaServer(base_url, api_key)
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            return server, server.template_supports_tools() if ask_tools else False
        except (OSError, ValueError) as exc:
            if time.monotonic() > deadline:
                raise ProviderError(f"the model server {base_url} did not answer: {exc}") from exc
            time.sleep(1.0)


class RemoteLlamaServer:
    def __init__(self, base_url: str, api_key: str | None = None, timeout_s: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.health = Health()
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._timeout_s = timeout_s  # for the answer to start, and then between chunks

    def template_supports_tools(self) -> bool:
        """Whether the served model's chat template renders `tools` (the model server's GET /props)."""
        request = urllib.request.Request(self.base_url + "/props", headers=self._headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            return bool(json.load(response).get("chat_template_caps", {}).get("supports_tools"))

    def handle_chat_completions(self, request: dict, on_chunk: Callable[[dict], bool] | None = None) -> dict | None:
        """The answer to `request` (stream false), or each chunk handed to `on_chunk` (stream true). llama.cpp's
        own refusals come back as its {"error": ...} object; a server that cannot be reached raises RuntimeError."""
        body = json.dumps({**request, "stream": on_chunk is not None}).encode()
        post = urllib.request.Request(self.base_url + "/chat/completions", data=body, headers=self._headers)
        try:
            with urllib.request.urlopen(post, timeout=self._timeout_s) as response:
                result = json.load(response) if on_chunk is None else self._stream(response, on_chunk)
        except urllib.error.HTTPError as exc:  # refused by llama.cpp (400) or the server (401, 503 while loading)
            result = _error_body(exc)
            if exc.code >= 401:
                self.health.failed(f"model server {self.base_url} answered {exc.code}: "
                                   f"{result['error'].get('message', '') if isinstance(result['error'], dict) else ''}")
            if on_chunk is not None:
                on_chunk(result)  # as llama.cpp hands its own errors: the reader raises it
                return None
            return result
        except (OSError, ValueError) as exc:  # refused, reset, timed out, not JSON
            message = f"model server {self.base_url} failed: {type(exc).__name__}: {exc}"
            self.health.failed(message)
            raise RuntimeError(message) from exc
        self.health.ok()
        return result

    @staticmethod
    def _stream(response, on_chunk: Callable[[dict], bool]) -> None:
        for raw in response:  # server-sent events, one `data:` line each
            line = raw.strip()
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                return
            if on_chunk(json.loads(data)):
                return  # leaving closes the connection: the model server stops llama.cpp there


def _error_body(exc: urllib.error.HTTPError) -> dict:
    try:
        body = json.loads(exc.read())
    except ValueError:
        body = None
    if isinstance(body, dict) and "error" in body:
        return body
    return {"error": {"code": "internal", "message": f"model server answered {exc.code}"}}
