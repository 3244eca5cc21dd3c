"""The LLM protocol: chat history and tool specs in, a stream of text deltas and tool-call requests out."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool offered to the model; `parameters` is a JSON Schema object."""

    name: str
    description: str
    parameters: dict


@dataclass(frozen=True, slots=True)
class ToolCallRequest:
    """The model asks for a tool; `arguments` is already parsed JSON (not yet validated)."""

    call_id: str
    name: str
    arguments: dict


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message. Assistant messages may carry tool calls; tool messages answer one by `tool_call_id`."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: tuple[ToolCallRequest, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None  # the tool's name, on tool messages


@dataclass(frozen=True, slots=True)
class LLMOptions:
    temperature: float = 0.2
    max_tokens: int = 160  # spoken replies are short; this bounds a runaway answer
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ToolCallStarting:
    """The model has begun writing a tool call whose arguments are still coming (a hint: the engine
    may speak a hold line now instead of waiting in silence for the call to be complete). Sent as the
    call begins with `name` None when the name comes later in the text, then once more with `name`
    as soon as it is readable."""

    name: str | None = None


LLMOutput = TextDelta | ToolCallRequest | ToolCallStarting


class LLM(Protocol):
    """A chat model shared by all sessions.

    `reply` streams the answer: text as it is generated, and tool calls once
    complete (text and calls may both appear). Generation runs off the event
    loop; when the consumer stops iterating (barge-in cancels it) generation
    stops within a token or two and the worker is freed.
    """

    name: str

    def reply(self, messages: list[Message], tools: list[ToolSpec], options: LLMOptions) -> AsyncIterator[LLMOutput]: ...
