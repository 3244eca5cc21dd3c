"""OpenAICompatibleLLM: streaming chat completions with tools over HTTP (OpenAI, Ollama, vLLM, llama.cpp's server).

Plain aiohttp and server-sent events rather than the `openai` SDK: aiohttp is
already Parley's HTTP stack, the SDK would add seven packages (pydantic,
pydantic-core, jiter, ...) for one POST and a line reader, and closing an aiohttp
response is exactly the cancel we need at barge-in (the server sees the
connection drop and stops generating).

`base_url` ends where `/chat/completions` is appended: `https://api.openai.com/v1`,
`http://127.0.0.1:11434/v1` (Ollama), `http://127.0.0.1:8000/v1` (vLLM).
"""

import contextlib
import json
from collections.abc import AsyncIterator

import aiohttp

from agents.errors import ProviderError
from agents.providers.endpoint import Endpoint, error_text
from agents.providers.llm.base import LLMOptions, LLMOutput, Message, ToolCallStarting, ToolSpec
from agents.providers.llm.chatformat import to_local, to_openai, tool_dicts
from agents.providers.llm.streaming import ReplySplitter, ToolCallDeltas


class OpenAICompatibleLLM:
    """A remote chat model; one instance (one connection pool) shared by every session.

    `timeout_s` bounds the wait for the response to start and then for each
    next chunk (a stalled stream fails instead of hanging a call);
    `connect_timeout_s` bounds the TCP/TLS connect. Text that is really a tool
    call written as JSON (small models behind Ollama do this) is parsed, never
    spoken; `normalize_digits` turns spoken digits in arguments into digits.
    `plain_tool_turns` is for small models (a 0.5B one behind Ollama or
    llama-server): past tool calls and results go as a plain system note and
    the tool rules are appended to the system prompt (chatformat.to_local),
    instead of the native `tool_calls`/`tool` messages such models echo back.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        timeout_s: float = 30.0,
        connect_timeout_s: float = 5.0,
        headers: dict[str, str] | None = None,
        normalize_digits: bool = False,
        plain_tool_turns: bool = False,
    ) -> None:
        self.name = f"openai:{model}"
        self.model = model
        # No "Accept: text/event-stream": llama.cpp's server then closes the connection after the
        # stream, after aiohttp has already pooled it for reuse (the next request fails to write).
        self.endpoint = Endpoint(base_url, api_key, timeout_s=timeout_s, connect_timeout_s=connect_timeout_s,
                                 headers=headers, what="LLM server")
        self.base_url = self.endpoint.base_url
        self._timeout_s = timeout_s
        self._normalize_digits = normalize_digits
        self._plain_tool_turns = plain_tool_turns

    @property
    def health(self):
        return self.endpoint.health

    async def close(self) -> None:
        await self.endpoint.close()

    def request(self, messages: list[Message], tools: list[ToolSpec], options: LLMOptions) -> dict:
        body = {
            "model": self.model,
            "messages": to_local(messages, tools, template_has_tools=True) if self._plain_tool_turns else to_openai(messages),
            "stream": True,
            "temperature": options.temperature,
            "max_tokens": options.max_tokens,
        }
        if tools:
            body["tools"] = tool_dicts(tools)
        body.update(options.extra)
        return body

    async def reply(self, messages: list[Message], tools: list[ToolSpec], options: LLMOptions) -> AsyncIterator[LLMOutput]:
        """Stream the answer (see base.LLM); closing or cancelling the iterator drops the connection. How it went
        is kept in `health` (/healthz)."""
        try:
            async with contextlib.aclosing(self._reply(messages, tools, options)) as outs:  # closed at once: a barge-in
                async for out in outs:
                    yield out
        except ProviderError as exc:
            self.health.failed(exc.message)
            raise
        self.health.ok()

    async def _reply(self, messages: list[Message], tools: list[ToolSpec], options: LLMOptions) -> AsyncIterator[LLMOutput]:
        splitter = ReplySplitter(tools, normalize_digits=self._normalize_digits)
        deltas = ToolCallDeltas()
        body = self.request(messages, tools, options)
        try:
            async with await self.endpoint.post("/chat/completions", json=body) as resp:  # a status not 200 raises
                try:
                    async for data in _sse_data(resp.content):
                        if data.strip() == "[DONE]":
                            break
                        for out in self._outputs(data, splitter, deltas):
                            yield out
                finally:
                    if not resp.content.at_eof():
                        resp.close()  # stop mid-stream: drop the connection so the server stops generating
        except TimeoutError as exc:  # mid-stream (first: aiohttp's SocketTimeoutError is a ClientError too)
            raise ProviderError(f"LLM server {self.base_url} sent nothing for {self._timeout_s} s") from exc
        except aiohttp.ClientError as exc:
            raise ProviderError(f"LLM server {self.base_url} failed: {exc.__class__.__name__}: {exc}") from exc
        for out in splitter.finish():
            yield out
        for call in deltas.finish():
            yield splitter.call(call)

    def _outputs(self, data: str, splitter: ReplySplitter, deltas: ToolCallDeltas) -> list[LLMOutput]:
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise ProviderError(f"LLM server {self.base_url} sent a chunk that is not JSON: {data[:200]!r}") from exc
        if not isinstance(chunk, dict):
            return []
        if chunk.get("error"):
            raise ProviderError(f"LLM server {self.base_url} failed mid-stream: {error_text(json.dumps(chunk))}")
        out: list[LLMOutput] = []
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                out += splitter.feed(delta["content"])
            if delta.get("tool_calls"):
                deltas.add(delta["tool_calls"])
                if splitter.tools:
                    out += deltas.hint()  # a native tool call has begun: the hold line can start now
        return out


async def _sse_data(stream: aiohttp.StreamReader) -> AsyncIterator[str]:
    """The `data` of each server-sent event (multi-line data joined by newlines; comments skipped)."""
    lines: list[str] = []
    async for raw in stream:
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line:
            if lines:
                yield "\n".join(lines)
                lines = []
        elif line.startswith("data:"):
            lines.append(line[5:].removeprefix(" "))
        # other fields (event:, id:, retry:) and ":" comments carry nothing for chat completions
    if lines:
        yield "\n".join(lines)
