"""A session's settings and its history: turn ids, stored turns, and the context the LLM sees."""

import json
from dataclasses import dataclass, field

from agents.languages import reply_instruction
from agents.ports import TurnRecord
from agents.providers.llm.base import LLMOptions, Message, ToolCallRequest
from agents.tools.spec import ToolDefinition


@dataclass(frozen=True)
class LLMSettings:
    """A session's (a persona's) own LLM settings; None leaves the gateway's [llm] setting."""

    model: str | None = None  # another model the LLM server offers (openai provider); None = the configured one
    temperature: float | None = None  # 0.0-2.0
    max_tokens: int | None = None  # longest reply, in tokens

    def options(self, default: LLMOptions) -> LLMOptions:
        if self.model is None and self.temperature is None and self.max_tokens is None:
            return default
        extra = {**default.extra, "model": self.model} if self.model is not None else default.extra
        return LLMOptions(
            temperature=default.temperature if self.temperature is None else self.temperature,
            max_tokens=default.max_tokens if self.max_tokens is None else self.max_tokens,
            extra=extra,
        )


@dataclass(frozen=True)
class SessionSettings:
    """What POST /v1/conversations/create (or a persona) decided for one session."""

    session_id: str
    voice_id: str
    system_prompt: str
    language: str = "en"
    tools: tuple[ToolDefinition, ...] = ()
    context_window: int = 50  # turns of history the LLM sees
    max_turns: int | None = None  # None = unlimited; counts user and assistant turns
    greeting: str | None = None
    transfer_targets: tuple[str, ...] = ()  # where transfer_call may send the caller (E.164 or sip: URIs)
    vad_threshold: float | None = None  # 0.0-1.0; None = the engine's default (a stream may still override)
    llm: LLMSettings = LLMSettings()
    recording: bool = False  # record both sides (the engine's recorder, if the gateway gave it one)
    vocabulary: tuple[str, ...] = ()  # words callers may say; with the tools' words they prime the ASR
    asr_model: str | None = None  # a loaded recogniser other than the language's default (the engine's ASR names it)
    noise_suppression: bool = False  # clean the caller's audio before the VAD and the ASR hear it (Engine.make_denoiser)

    @property
    def tools_by_name(self) -> dict[str, ToolDefinition]:
        return {t.name: t for t in self.tools}


def turn_id(number: int) -> str:
    return f"turn_{number:03d}"


def turn_number(turn_id_: str) -> int:
    return int(turn_id_.split("_", 1)[1])


@dataclass
class History:
    """Completed turns in order, and the next turn number (ids are never reused)."""

    turns: list[TurnRecord] = field(default_factory=list)
    next_number: int = 1

    @classmethod
    def of(cls, turns: list[TurnRecord], last_issued: int = 0) -> "History":
        highest = max([turn_number(t.turn_id) for t in turns] + [last_issued])
        return cls(list(turns), highest + 1)

    def new_turn_id(self) -> str:
        number, self.next_number = self.next_number, self.next_number + 1
        return turn_id(number)

    def next_turn_id(self) -> str:
        """The id `new_turn_id` will give next (a speculative reply's, agents/speculation.py)."""
        return turn_id(self.next_number)

    def add(self, turn: TurnRecord) -> None:
        self.turns.append(turn)

    @property
    def total_turns(self) -> int:
        return len(self.turns)

    def messages(self, system_prompt: str, context_window: int, language: str = "en") -> list[Message]:
        """System prompt plus the last `context_window` turns, tool calls and results included.

        For a session in another `language` than English the system prompt ends
        with an instruction to reply in it (agents/languages.py).
        """
        instruction = reply_instruction(language)
        messages = [Message("system", f"{system_prompt}\n\n{instruction}" if instruction else system_prompt)]
        for turn in self.turns[-context_window:]:
            if turn.role == "user":
                messages.append(Message("user", turn.text))
                continue
            if turn.tool_calls:
                calls = tuple(ToolCallRequest(c.call_id, c.name, c.arguments) for c in turn.tool_calls)
                messages.append(Message("assistant", "", tool_calls=calls))
                for c in turn.tool_calls:
                    content = json.dumps({"error": c.error} if c.error is not None else c.result)
                    messages.append(Message("tool", content, tool_call_id=c.call_id, name=c.name))
            if turn.text:
                messages.append(Message("assistant", turn.text))
        return messages
