"""LlamaCppLLM with the real default model: streaming off the loop, barge-in cancellation, a real tool call."""

import asyncio
import contextlib
import json
import threading
import time

import pytest

from agents.errors import ProviderError
from agents.providers.llm import make_llm
from agents.providers.llm.base import LLMOptions, Message, TextDelta, ToolCallRequest, ToolSpec
from agents.providers.llm.llamacpp import LlamaCppLLM
from agents.providers.llm.openai import OpenAICompatibleLLM

pytestmark = pytest.mark.slow

SYSTEM = Message("system", "You are a concise phone support agent for Acme. Answer in one or two short sentences.")
LOOKUP = ToolSpec(
    "lookup_order",
    "Look up the status of a customer's order by its order number.",
    {"type": "object", "properties": {"order_id": {"type": "string", "description": "The order number"}}, "required": ["order_id"]},
)
GREEDY = LLMOptions(temperature=0.0, max_tokens=24)
STORY = [Message("user", "Tell me a long story about a lighthouse keeper.")]


async def _collect(llm, messages, tools, options):
    stamps, outs = [], []
    started = time.monotonic()
    async for out in llm.reply(messages, tools, options):
        stamps.append(time.monotonic() - started)
        outs.append(out)
    return outs, stamps


async def _all_workers_free(llm, timeout_s: float = 60) -> None:
    """Every worker of the LLM's pool is free: jobs that wait for each other all run at once."""
    barrier = threading.Barrier(llm._pool.workers, timeout=timeout_s)
    jobs = [llm._pool.run(barrier.wait) for _ in range(llm._pool.workers)]
    await asyncio.wait_for(asyncio.gather(*jobs), timeout=timeout_s + 1)  # BrokenBarrierError if still busy


async def test_streams_text_without_blocking_the_loop(local_llm):
    gaps, running = [], True

    async def ticker():
        last = time.monotonic()
        while running:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    outs, stamps = await _collect(local_llm, [SYSTEM, Message("user", "Hi, can you help me?")], [], GREEDY)
    running = False
    await tick
    assert len(outs) >= 3 and all(isinstance(o, TextDelta) for o in outs)
    assert stamps[-1] - stamps[0] > 0  # deltas arrive one by one, not in one lump at the end
    assert "".join(o.text for o in outs).strip()
    assert max(gaps) < 0.5  # the event loop kept ticking while the model generated


async def test_breaking_off_stops_generation_and_frees_the_worker(local_llm):
    replies = local_llm.reply(STORY, [], LLMOptions(temperature=0.0, max_tokens=400))
    stamps = []
    async with contextlib.aclosing(replies):
        async for _ in replies:
            stamps.append(time.monotonic())
            if len(stamps) == 6:
                break
    per_token = (stamps[-1] - stamps[1]) / 4  # measured now, at this machine's present load
    started = time.monotonic()
    await _all_workers_free(local_llm)  # only once llama.cpp gave up the 400-token story
    # Freed within a few tokens' time, not after the ~390 tokens still to write (no wall-clock bound:
    # the same run's token rate is the yardstick, so a loaded machine does not fail it).
    assert time.monotonic() - started < 40 * per_token + 0.5


async def test_cancelling_the_consumer_task_stops_generation(local_llm):
    first = asyncio.Event()

    async def consume():
        async for _ in local_llm.reply(STORY, [], LLMOptions(temperature=0.0, max_tokens=400)):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), timeout=30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _all_workers_free(local_llm)
    # and the model answers the next caller at once
    outs, _ = await _collect(local_llm, [Message("user", "Say OK.")], [], LLMOptions(temperature=0.0, max_tokens=4))
    assert outs


async def test_calls_lookup_order_for_1234(local_llm):
    outs, _ = await _collect(
        local_llm, [SYSTEM, Message("user", "What is the status of order 1234?")], [LOOKUP], LLMOptions(temperature=0.0, max_tokens=60)
    )
    calls = [o for o in outs if isinstance(o, ToolCallRequest)]
    spoken = "".join(o.text for o in outs if isinstance(o, TextDelta))
    assert [(c.name, c.arguments) for c in calls] == [("lookup_order", {"order_id": "1234"})]
    assert "{" not in spoken and "lookup_order" not in spoken


async def test_answers_from_the_tool_result(local_llm):
    call = ToolCallRequest("call_1", "lookup_order", {"order_id": "1234"})
    history = [
        SYSTEM,
        Message("user", "What is the status of order 1234?"),
        Message("assistant", "", tool_calls=(call,)),
        Message("tool", '{"order_id": "1234", "status": "shipped", "carrier": "UPS", "eta": "Friday"}', tool_call_id="call_1", name="lookup_order"),
    ]
    outs, _ = await _collect(local_llm, history, [LOOKUP], LLMOptions(temperature=0.0, max_tokens=40))
    assert all(isinstance(o, TextDelta) for o in outs)
    assert "shipped" in "".join(o.text for o in outs).lower()


async def test_a_question_about_an_order_without_its_number_asks_for_it(local_llm):
    outs, _ = await _collect(local_llm, [SYSTEM, Message("user", "Hi, where is my order?")], [LOOKUP], GREEDY)
    assert outs == [TextDelta("Could you tell me the order number?")]


async def test_an_unknown_model_is_a_clear_error_at_first_use():
    llm = LlamaCppLLM("no-such-model")
    with pytest.raises(ProviderError, match="neither a packaged model"):
        async for _ in llm.reply([Message("user", "hi")], [], GREEDY):
            pass
    with pytest.raises(ProviderError, match="neither a packaged model"):
        await llm.warm_up()
    llm.close()


def test_make_llm_by_name():
    assert isinstance(make_llm("llamacpp", model="smollm2-135m"), LlamaCppLLM)
    assert isinstance(make_llm("openai", base_url="http://127.0.0.1:1/v1", model="m"), OpenAICompatibleLLM)
    with pytest.raises(ValueError, match="'claude'"):
        make_llm("claude")


TABLE = ToolSpec("book_table", "Book a table for the caller.", {"type": "object", "properties": {
    "guests": {"type": "integer", "minimum": 1, "maximum": 12},
    "sitting": {"type": "string", "enum": ["first sitting", "second sitting"], "description": "first is 6 pm, second 8 pm"},
    "name": {"type": "string"}}, "required": ["guests", "sitting", "name"]})
TOO_MANY = [Message("system", "You are the phone line of Luigi's, an Italian restaurant."),
            Message("user", "A table for twenty at eight o'clock, the name's Martinez.")]


@pytest.fixture
def constrained(local_llm):
    local_llm.constrained_calls = True
    yield local_llm
    local_llm.constrained_calls = False


async def test_a_constrained_call_stays_within_the_tools_schema_and_reuses_the_prompt(constrained):
    from jsonschema import Draft202012Validator

    outs, _ = await _collect(constrained, TOO_MANY, [TABLE], LLMOptions(temperature=0.0, max_tokens=80))
    calls = [o for o in outs if isinstance(o, ToolCallRequest)]
    assert [c.name for c in calls] == ["book_table"] and not any(isinstance(o, TextDelta) for o in outs)
    # Left to itself the model books 20 guests at a table for at most 12 (the engine would ask again);
    # under the grammar every value it writes fits: the integer's range, the choices, no other keys.
    assert Draft202012Validator({**TABLE.parameters, "required": []}).is_valid(calls[0].arguments), calls[0].arguments
    assert calls[0].arguments.get("sitting") in ("first sitting", "second sitting")
    # written again from the slot that already holds the prompt: only the last token is read again
    assert constrained.last_timings["prompt_n"] <= 2


async def test_free_calls_are_written_as_the_model_likes(local_llm):
    outs, _ = await _collect(local_llm, TOO_MANY, [TABLE], LLMOptions(temperature=0.0, max_tokens=80))
    calls = [o for o in outs if isinstance(o, ToolCallRequest)]
    assert [c.arguments.get("guests") for c in calls] == [20]  # what constrained decoding keeps out


async def test_a_constrained_model_still_answers_in_words_when_it_does_not_call(constrained):
    outs, _ = await _collect(constrained, [Message("user", "Hi! How are you today?")], [TABLE], GREEDY)
    assert not any(isinstance(o, ToolCallRequest) for o in outs)
    assert len("".join(o.text for o in outs if isinstance(o, TextDelta)).split()) >= 3


async def test_a_warmed_prompt_leaves_only_the_callers_words_to_read(local_llm):
    # warm_up shapes the prompt as the tool policy shapes a reply it leaves to the model (no number tool
    # offered, its notes added): warmed otherwise, the reply read the notes and tools again (~200 ms).
    system = [Message("system", "You are a concise phone support agent for Acme. Answer in one or two sentences.")]
    await local_llm.warm_up(system, [LOOKUP])
    await _collect(local_llm, [*system, Message("user", "Can I pay by card?")], [LOOKUP],
                   LLMOptions(temperature=0.0, max_tokens=8))
    assert local_llm.last_timings["prompt_n"] <= 16  # the caller's words and the chat template around them


async def test_the_answer_to_a_look_up_by_number_is_said_at_once_from_its_result(local_llm):
    call = ToolCallRequest("call_1", "lookup_order", {"order_id": "1234"})
    result = {"order_id": "1234", "status": "shipped", "carrier": "UPS", "expected_delivery": "Friday"}
    messages = [Message("system", "You are Acme's phone agent."), Message("user", "Where is order 1234?"),
                Message("assistant", "Let me look that up.", tool_calls=(call,)),
                Message("tool", json.dumps(result), tool_call_id="call_1", name="lookup_order")]
    outs, _ = await _collect(local_llm, messages, [LOOKUP], GREEDY)
    assert [o.text for o in outs] == [
        "I looked up 1234 and found: the status is shipped, the carrier is UPS, the expected delivery is Friday."]
    # a German caller's answer is still the model's (grounding.py checks it)
    german = [Message("system", "You are Acme's phone agent.\n\nThe caller speaks German. Always reply in German (de), "
                                "even though these instructions are in another language."), *messages[1:]]
    outs, _ = await _collect(local_llm, german, [LOOKUP], GREEDY)
    assert outs and not (isinstance(outs[0], TextDelta) and outs[0].text.startswith("I looked up"))


async def test_a_personas_prompt_is_read_once_however_many_calls_start_with_it(local_llm, monkeypatch):
    # Each call's start warms its persona's prompt (Conversation._prefill); read once, it stays in llama.cpp's
    # prompt cache in RAM even after other prompts took both slots, so later calls need not read it again.
    system = [Message("system", "You are the phone line of Nora's bakery, open every day but Monday. " * 4)]
    await local_llm.warm_up(system, [])
    runs = []
    real_run = local_llm._pool.run
    monkeypatch.setattr(local_llm._pool, "run", lambda fn, *a: runs.append(a) or real_run(fn, *a))
    for _ in range(3):
        await local_llm.warm_up(system, [])
    assert runs == []
    kept = len(local_llm._warmed)
    await local_llm.warm_up([*system, Message("user", "Are you open")], [])  # a caller's words, read in a pause
    assert len(runs) == 1 and len(local_llm._warmed) == kept  # read, but not kept: they never come twice
    runs.clear()
    for other in ("You are a travel agency's line. Be brief. " * 6, "You answer for a dentist. Be kind. " * 6):
        await _collect(local_llm, [Message("system", other), Message("user", "Hello, who is this?")], [],
                       LLMOptions(temperature=0.0, max_tokens=2))
    await _collect(local_llm, [*system, Message("user", "Are you open on Sunday?")], [],
                   LLMOptions(temperature=0.0, max_tokens=2))
    assert local_llm.last_timings["prompt_n"] <= 16  # restored from the cache: only the caller's words are read
