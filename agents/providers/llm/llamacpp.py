"""LlamaCppLLM: a GGUF chat model run in-process by xllamacpp (llama.cpp), one model shared by every session.

xllamacpp's `Server` owns the model and runs llama.cpp's own scheduling loop on
a thread of its own; `handle_chat_completions(request, callback)` blocks its
caller and hands it one OpenAI-style chunk per token; callback_stream.py runs it
on a worker of the shared InferencePool and turns the chunks into an async
iterator. When the consumer stops iterating (barge-in cancels it) the next
chunk's callback returns True, which makes llama.cpp cancel the task and free
its slot (checked through `/slots`: idle at once). `slots` requests are decoded together, with the
pool bounded to the same number.

The Server also listens on a random loopback port (llama.cpp's HTTP server
cannot be switched off here); it is given a random API key so nothing else on
the machine can use it.
"""

import asyncio
import contextlib
import json
import re
import secrets
import threading
import time
import urllib.request
from collections import OrderedDict
from collections.abc import AsyncIterator
from pathlib import Path

import structlog

from agents import lines
from agents.errors import ProviderError
from agents.pool import InferencePool
from agents.providers.libstdcxx import prefer_system_libstdcxx
from agents.providers.llm.base import (LLMOptions, LLMOutput, Message, TextDelta, ToolCallRequest, ToolCallStarting,
                                       ToolSpec)
from agents.providers.llm.callback_stream import callback_stream
from agents.providers.llm.constrained import call_schema
from agents.providers.llm.chatformat import ASK_NOTE, NO_GUESS_NOTE, REPLY_IN, TOOL_RULES, tool_dicts, to_local
from agents.providers.llm.grounding import GroundedAnswer, grounded_answer, last_result, looked_up_answer
from agents.providers.llm.packaged import resolve_model
from agents.providers.llm.streaming import ReplySplitter, ToolCallDeltas
from agents.tool_policy import decide, model_tools, number_parameter
from agents.tools.spec import value_phrase

log = structlog.get_logger(__name__)

DEFAULT_MODEL = "qwen2.5-coder-0.5b"
# Distinct system-only prompts warm_up remembers having read: each persona's, and the demo agent's. llama.cpp's prompt cache in
# RAM (cache_ram_mib, 8 GiB by default) holds thousands of them (a 300-token prompt's state is ~4 MB).
_WARMED_KEPT = 256
_RANDOM_DEVICE_HINT = (
    "; vosk was imported before xllamacpp: libvosk.so exports an old libstdc++'s std::random_device, "
    "which then replaces the system's for llama.cpp. Load libstdc++ globally before vosk "
    "(ctypes.CDLL('libstdc++.so.6', mode=os.RTLD_GLOBAL)), or import this module first"
)


prefer_system_libstdcxx()  # in case vosk is imported later: see libstdcxx.py


class LlamaCppLLM:
    """A local chat model; build one per process and share it.

    `model` is a packaged model name (packaged.MODELS) or a .gguf path.
    `slots`: requests decoded in parallel, each with its own KV cache of `n_ctx`
    tokens, so two live calls keep their prompts cached (measured with two
    callers at once on 2 cores: 1 s for both replies with 2 slots, 2.4-2.8 s
    with 1, where the second caller waited ~2 s).
    `threads`: llama.cpp threads (None: one per core). `seed`: sampling seed,
    fixed so that temperature 0 replies repeat. `tool_rules`: the instruction
    appended to the system prompt when tools are offered. `tools_in`: "template"
    lets the model's chat template list the tools (llama.cpp's jinja support),
    "prompt" writes them into the system prompt ourselves, "auto" picks
    "template" when the template supports tools. `normalize_digits`: spoken
    digits in tool arguments become digits ("one two three four" -> "1234").
    `constrained_calls`: a call the model begins before saying anything is written
    again under a grammar of the offered tools' schemas (constrained.py).

    `last_timings` holds llama.cpp's timings of the last finished reply
    (prompt/predicted tokens and per-second rates), for measurement only.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        cache_dir: str | Path | None = None,
        n_ctx: int = 4096,
        slots: int = 2,
        threads: int | None = None,
        seed: int = 1234,
        pool: InferencePool | None = None,
        tool_rules: str = TOOL_RULES,
        normalize_digits: bool = True,
        tools_in: str = "auto",
        tool_policy: bool = True,
        constrained_calls: bool = False,
        base_url: str | None = None,
        api_key: str | None = None,
    ) -> None:
        if slots < 1:
            raise ValueError(f"slots must be at least 1, got {slots}")
        if tools_in not in ("auto", "template", "prompt"):
            raise ValueError(f"tools_in must be auto, template or prompt, got {tools_in!r}")
        self.name = f"llamacpp:{model}"
        self.model = model
        self.model_path: Path | None = None
        self._cache_dir = cache_dir
        self._n_ctx = n_ctx
        self._slots = slots
        self._threads = threads
        self._seed = seed
        self._own_pool = pool is None
        self._pool = pool or InferencePool("llm", slots)
        self._tool_rules = tool_rules
        self._normalize_digits = normalize_digits
        self._tools_in = tools_in
        self._tool_policy = tool_policy
        self.constrained_calls = constrained_calls  # public: the evaluation and tests switch it
        self.last_timings: dict = {}
        self._server = None
        # The model on `parley models serve` at base_url (llamacpp_remote.py) instead of in this process.
        self.base_url = base_url
        self._api_key = api_key
        self._template_has_tools = False
        self._load_lock = threading.Lock()
        self._warmed: OrderedDict[str, None] = OrderedDict()  # warm_up requests already read (newest last)

    # --- life cycle ---------------------------------------------------------------------------

    def load(self) -> None:
        """Resolve the weights (joining split parts once) and load the model. Blocking; idempotent."""
        with self._load_lock:
            if self._server is not None:
                return
            if self.base_url is not None:
                self._connect()
                return
            import xllamacpp

            path = resolve_model(self.model, self._cache_dir)
            params = xllamacpp.CommonParams()
            params.model.path = str(path)
            params.n_parallel = self._slots
            params.n_ctx = self._n_ctx * self._slots  # llama.cpp splits n_ctx between the slots
            params.verbosity = -1  # llama.cpp logs every request at info level; failures come back as errors
            params.api_keys = [secrets.token_urlsafe(24)]
            if self._threads:
                params.cpuparams.n_threads = self._threads
                params.cpuparams_batch.n_threads = self._threads
            started = time.monotonic()
            try:
                server = xllamacpp.Server(params)
            except Exception as exc:
                raise ProviderError(f"llama.cpp could not load {path}: {exc}") from exc
            if self._tools_in == "auto":
                self._template_has_tools = _template_supports_tools(server.listening_address, params.api_keys[0])
            else:
                self._template_has_tools = self._tools_in == "template"
            self._server = server
            self.model_path = path
            log.info(
                "llm_loaded",
                model=self.model,
                path=str(path),
                load_ms=round((time.monotonic() - started) * 1000),
                template_tools=self._template_has_tools,
                slots=self._slots,
            )

    def _connect(self) -> None:
        from agents.providers.llm.llamacpp_remote import connect

        self._server, has_tools = connect(self.base_url, self._api_key, ask_tools=self._tools_in == "auto")
        self._template_has_tools = has_tools if self._tools_in == "auto" else self._tools_in == "template"
        log.info("llm_connected", model=self.model, base_url=self.base_url, template_tools=self._template_has_tools)

    @property
    def template_has_tools(self) -> bool:
        """Whether the model's chat template renders `tools` (known once loaded)."""
        return self._template_has_tools

    @property
    def health(self):
        """How the latest request to the model server went (None in-process: nothing to report)."""
        return getattr(self._server, "health", None)

    async def start(self) -> None:
        """Load (off the event loop) and warm up; the gateway does this before /healthz is ok."""
        await self.warm_up()

    async def warm_up(self, messages: list[Message] | None = None, tools: list[ToolSpec] | None = None) -> None:
        """One one-token completion: pages the weights in and builds the compute graph, so the first
        caller is not slow. Given a persona's system prompt and tools, it also leaves their tokens in
        llama.cpp's prompt cache, so the first turn only processes what the caller said. Loads the
        model first if needed."""
        await self._ready()
        tools, withheld = list(tools or []), []
        if self._tool_policy and tools:
            # Shaped as a reply the policy leaves to the model will be (its notes, the tools it offers), or the
            # cache holds a prompt no reply starts with: measured, a first token of ~200 ms instead of ~100 ms.
            offered = model_tools(tools)
            tools, withheld = offered, [t for t in tools if t not in offered]
        request = self.request(messages or [Message("user", "Hi")], tools, LLMOptions(temperature=0.0, max_tokens=1),
                               withheld)
        request["stream"] = False
        # A prompt of system text only (a persona's, as each of its calls starts) is remembered once read: llama.cpp
        # keeps it (a slot, else its prompt cache in RAM, which restores a prefix in a few ms), and reading it again
        # cost ~50 ms of both cores per call set-up (issue 14, item 6). Prompts with the caller's words in them
        # (read ahead in a pause) never come twice: they are neither looked up nor kept.
        key = json.dumps(request, sort_keys=True) if all(m.role == "system" for m in messages or ()) else None
        if key is not None and key in self._warmed:
            self._warmed.move_to_end(key)
            return
        try:
            result = await self._pool.run(self._server.handle_chat_completions, request)
        except RuntimeError as exc:
            raise ProviderError(f"llama.cpp could not run {self.model}: {exc}{_hint(exc)}") from exc
        if "choices" not in result:
            raise ProviderError(f"llama.cpp could not run {self.model}: {result.get('error', result)}")
        if key is not None:
            self._warmed[key] = None
            while len(self._warmed) > _WARMED_KEPT:
                self._warmed.popitem(last=False)

    def close(self) -> None:
        """Free the model (blocking: waits for llama.cpp's loop to end)."""
        self._server = None  # the Server's destructor stops its loop and frees the model
        if self._own_pool:
            self._pool.shutdown()

    # --- generation ---------------------------------------------------------------------------

    def request(self, messages: list[Message], tools: list[ToolSpec], options: LLMOptions,
                withheld: list[ToolSpec] = ()) -> dict:
        """The chat-completions request sent to llama.cpp (public for the evaluation script). `withheld`:
        tools the policy keeps from the model; it is told to ask for what they need."""
        policy = self._tool_policy
        notes = tuple(_ask_note(t) for t in withheld if number_parameter(t)) + ((NO_GUESS_NOTE,) if withheld else ())
        request = {
            "messages": to_local(messages, tools, template_has_tools=self._template_has_tools, tool_rules=self._tool_rules,
                                 fold=not policy or _after_result(messages), notes=notes, plain_results=policy),
            "stream": True,
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
            "seed": self._seed,
        }
        if tools and self._template_has_tools:
            request["tools"] = tool_dicts(tools)
        request.update(options.extra)
        return request

    async def reply(self, messages: list[Message], tools: list[ToolSpec], options: LLMOptions) -> AsyncIterator[LLMOutput]:
        """Stream the answer (see base.LLM). Closing or cancelling the iterator stops generation.

        Loads the model on first use if nobody called start()/warm_up() (that caller then waits for it)."""
        await self._ready()
        withheld: list[ToolSpec] = []
        if self._tool_policy and tools:
            decision = decide(messages, tools)
            if decision.call is not None:
                log.info("tool_policy_call", tool=decision.call.name, reason=decision.reason)
                yield ToolCallStarting(decision.call.name)  # the hold line can start at once
                yield decision.call
                return
            english = not REPLY_IN.search(messages[0].content)  # other languages: the model, then grounding.py
            if decision.ask is not None and english:  # the tool's words
                log.info("tool_policy_ask", tool=decision.ask.name)
                yield TextDelta(_ask_question(decision.ask))
                return
            answer = looked_up_answer(messages, tools) if english else None
            if answer is not None:
                log.info("tool_policy_answer")
                yield TextDelta(answer)
                return
            withheld = [t for t in tools if t not in decision.tools]
            tools = decision.tools
        request = self.request(messages, tools, options, withheld)
        splitter = ReplySplitter(tools, normalize_digits=self._normalize_digits)
        native = ToolCallDeltas()
        grounded = grounded_answer(messages) if self._tool_policy else None
        rewrite = False  # the model began a call before saying anything: write it again under the grammar
        said = False
        ended = asyncio.Event()
        async with contextlib.aclosing(self._chunks(request, ended)) as chunks:
            async for chunk in chunks:
                outs = self._outputs(chunk, splitter, native)
                if self.constrained_calls and tools and not said and _starts_call(outs, native):
                    rewrite = True
                    yield ToolCallStarting()  # the hold line can start while the call is written
                    break
                for out in _through(grounded, outs):
                    said = said or isinstance(out, TextDelta)
                    yield out
        if rewrite:
            # Its slot holds this prompt once llama.cpp has let go of it; asked sooner, the other slot takes
            # the call and reads the whole prompt again (measured: 4 s instead of 0.03 s).
            await ended.wait()
            async for out in self._constrained_call(request, tools):
                yield out
            return
        for out in _through(grounded, splitter.finish()):
            yield out
        for out in grounded.finish() if grounded else ():
            yield out
        if grounded and grounded.replaced:
            log.info("llm_answer_grounded")  # the model's first sentence lacked the result's leading fact
        for call in native.finish():
            yield splitter.call(call)

    async def _constrained_call(self, request: dict, tools: list[ToolSpec]) -> AsyncIterator[LLMOutput]:
        """The same prompt again (llama.cpp finds it in the slot's cache), sampled under constrained.call_schema."""
        request = dict(request, json_schema=call_schema(tools), max_tokens=max(request.get("max_tokens") or 0, 200))
        splitter = ReplySplitter(tools, normalize_digits=self._normalize_digits)
        native = ToolCallDeltas()
        async with contextlib.aclosing(self._chunks(request)) as chunks:
            async for chunk in chunks:
                for out in self._outputs(chunk, splitter, native):
                    if not isinstance(out, TextDelta):  # nothing outside the call can be written under the grammar
                        yield out
        for out in splitter.finish():
            if isinstance(out, ToolCallRequest):
                yield out
        for call in native.finish():
            yield splitter.call(call)
        log.info("llm_call_constrained", tools=[t.name for t in tools])

    # --- as a server (`parley models serve`: POST /v1/chat/completions, passed through) ----------------

    async def completion(self, request: dict) -> dict:
        """llama.cpp's answer to an OpenAI-style chat request with `stream` false (or its error object)."""
        await self._ready()
        try:
            return await self._pool.run(self._server.handle_chat_completions, {**request, "stream": False})
        except RuntimeError as exc:
            raise ProviderError(f"llama.cpp could not run {self.model}: {exc}{_hint(exc)}") from exc

    async def completion_chunks(self, request: dict) -> AsyncIterator[dict]:
        """llama.cpp's streamed chunks for an OpenAI-style chat request; closing the iterator stops it."""
        await self._ready()
        async with contextlib.aclosing(self._chunks({**request, "stream": True})) as chunks:
            async for chunk in chunks:
                yield chunk

    def _chunks(self, request: dict, ended: asyncio.Event | None = None) -> AsyncIterator[dict]:
        """llama.cpp's streamed chunks for `request`. Closing the iterator stops generation and frees the slot;
        `ended` is set once llama.cpp has returned."""
        return callback_stream(
            self._pool, lambda on_chunk: self._server.handle_chat_completions(request, on_chunk),
            lambda exc: ProviderError(f"llama.cpp generation failed: {exc}{_hint(exc)}"), ended)

    def _outputs(self, chunk: dict, splitter: ReplySplitter, native: ToolCallDeltas) -> list[LLMOutput]:
        if "choices" not in chunk:
            error = chunk.get("error", chunk)
            message = error.get("message", error) if isinstance(error, dict) else error
            raise ProviderError(f"llama.cpp rejected the request: {message}")
        if chunk.get("timings"):
            self.last_timings = chunk["timings"]
        out: list[LLMOutput] = []
        for choice in chunk["choices"]:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                out += splitter.feed(delta["content"])
            if delta.get("tool_calls"):  # the chat template's own tool-call syntax, parsed by llama.cpp
                native.add(delta["tool_calls"])
                if splitter.tools:
                    out += native.hint()  # the server parses the call: it has begun, say so now
        return out

    async def _ready(self) -> None:
        if self._server is None:
            await self._pool.run(self.load)


def _starts_call(outs: list[LLMOutput], native: ToolCallDeltas) -> bool:
    """The model's reply begins with a tool call (nothing in `outs` is text to speak)."""
    if any(isinstance(out, TextDelta) for out in outs):
        return False
    return bool(native) or any(isinstance(out, ToolCallStarting) for out in outs)


def _through(grounded: GroundedAnswer | None, outs: list[LLMOutput]) -> list[LLMOutput]:
    """Text goes through the grounding check after a look-up; everything else as it is."""
    if grounded is None:
        return outs
    return [passed for out in outs for passed in (grounded.feed(out) if isinstance(out, TextDelta) else (out,))]


def _after_result(messages: list[Message]) -> bool:
    """The reply reports what a tool found. Earlier turns then go in as a transcript: shown as chat turns,
    the 0.5B model repeated its own last plain turn ("Hi Priya, how can I help?") instead of the result."""
    return last_result(messages) is not None


def _ask_question(tool: ToolSpec) -> str:
    """"Could you tell me the order number?" (the engine's own wording, lines.py, from the parameter's description)."""
    return lines.ask_for(value_phrase(tool, number_parameter(tool)), "en")


def _ask_note(tool: ToolSpec) -> str:
    name = number_parameter(tool)
    prop = ((tool.parameters or {}).get("properties") or {}).get(name) or {}
    needs = prop.get("description") or name.replace("_", " ")
    what = re.split(r"[.;]| and ", tool.description or "")[0].strip() or tool.name.replace("_", " ")
    return ASK_NOTE.format(what=what[:1].lower() + what[1:], needs=needs)


def _hint(exc: BaseException) -> str:
    return _RANDOM_DEVICE_HINT if "random_device" in str(exc) else ""


def _template_supports_tools(base_url: str, api_key: str) -> bool:
    """Whether the model's chat template renders `tools` (llama.cpp reports it only on /props)."""
    req = urllib.request.Request(base_url + "/props", headers={"Authorization": f"Bearer {api_key}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            caps = json.load(resp).get("chat_template_caps", {})
    except (OSError, ValueError) as exc:
        log.warning("llm_template_caps_unknown", error=str(exc))
        return False
    return bool(caps.get("supports_tools"))
