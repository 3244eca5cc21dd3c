"""The web console in Debian's headless Chromium (Playwright), against a real `parley serve` (SPEC §7, §10).

Screenshots land in $PARLEY_SCREENSHOTS (default: the test's tmp dir) so a person can look at them.
"""

import asyncio
import json
import os
import secrets
import wave
from pathlib import Path

import aiohttp
import pytest
from playwright import async_api as playwright

from tests.integration.test_api import new_key, request
from tests.unit.agents.asr.clips import at_rate, piper

CHROMIUM = "/usr/bin/chromium"  # Debian's, installed by scripts/setup.sh test: Playwright downloads no browser

QUESTION = "What is the status of my order? The order number is one two three four."
HOSTILE_NAME = f"<script>window.__pwned = 1</script>Acme support {secrets.token_hex(3)}"  # unique on a shared server
HOSTILE_PROMPT = 'You help Acme customers in one short sentence. <img src=x onerror="window.__pwned = 1">'


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("PARLEY_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def admin(server) -> str:
    return new_key(server, "--admin", "--name", "console")


@pytest.fixture(scope="module")
def mic_wav(tmp_path_factory) -> Path:
    """What the fake microphone says: the question, then silence (played once, %noloop)."""
    pcm = b"\x00\x00" * 16000 + at_rate(piper(QUESTION), 16000) + b"\x00\x00" * 16000 * 8
    path = tmp_path_factory.mktemp("mic") / "question.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(pcm)
    return path


@pytest.fixture
async def browser(mic_wav):
    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={mic_wav}%noloop", "--autoplay-policy=no-user-gesture-required"])
        yield browser
        await browser.close()


async def signed_in(browser, server, key: str):
    page = await browser.new_page(viewport={"width": 1360, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    await page.goto(server.url + "/console")
    await page.fill("#signin-key", key)
    await page.click("#signin-form button[type=submit]")
    await page.wait_for_selector("#app:not([hidden])")
    return page


async def test_sign_in_refuses_keys_that_are_not_admin(browser, server, shots):
    page = await browser.new_page()
    await page.goto(server.url + "/console")
    assert await page.is_visible("#signin-form")
    for key, says in (("pk_not_a_real_key", "not valid"), (new_key(server, "--name", "app"), "not an admin key")):
        await page.fill("#signin-key", key)
        await page.click("#signin-form button[type=submit]")
        # Wait for this attempt's own verdict: the previous attempt's message is still on screen until it comes.
        await page.wait_for_function(
            "says => document.getElementById('signin-error').textContent.includes(says)", arg=says
        )
        assert await page.is_hidden("#app")
    await page.screenshot(path=shots / "signin.png")


async def test_personas_and_numbers(browser, server, admin, shots):
    page = await signed_in(browser, server, admin)
    await page.click("#nav a[data-view=personas]")
    await page.click("text=New persona")
    await page.fill("input[name=name]", HOSTILE_NAME)
    await page.select_option("select[name=voice_id]", "joe")
    await page.fill("textarea[name=system_prompt]", HOSTILE_PROMPT)
    await page.fill("input[name=greeting]", "Acme support, how can I help?")
    await page.check("input[type=checkbox][value=lookup_order]")
    await page.fill("input[name=vad_threshold]", "1.5")  # refused by the API, shown on the form
    await page.click("button:text('Create persona')")
    await page.wait_for_selector("input[name=vad_threshold].invalid")
    assert "vad_threshold" in await page.text_content(".persona-form .form-error")
    await page.fill("input[name=vad_threshold]", "0.5")
    await page.fill("input[name='llm.max_tokens']", "80")
    await page.click("button:text('Create persona')")
    card = page.locator("article.persona", has_text=HOSTILE_NAME)
    await card.wait_for()
    # User text is shown as text, never run as markup.
    assert await card.locator(".persona-name").text_content() == HOSTILE_NAME
    assert HOSTILE_PROMPT in await card.locator(".prompt-preview").text_content()
    assert await page.evaluate("window.__pwned") is None
    persona_id = await card.get_attribute("data-persona")
    stored = request(server, "GET", f"/v1/personas/{persona_id}", admin)[1]
    assert stored["name"] == HOSTILE_NAME and stored["llm"] == {"max_tokens": 80} and stored["vad_threshold"] == 0.5
    await page.screenshot(path=shots / "personas.png", full_page=True)

    await page.click("#nav a[data-view=numbers]")
    await page.fill("input[name=number]", "+1 555 010 7777")
    await page.select_option(".inline-form select[name=persona_id]", persona_id)
    await page.click("button:text('Add route')")
    await page.wait_for_selector("tr[data-number='+15550107777']")
    await page.fill("input[name=number]", "+15550107777")
    await page.click("button:text('Add route')")
    await page.wait_for_selector(".inline-form .form-error:text('already routed')")
    await page.screenshot(path=shots / "numbers.png", full_page=True)
    routes = request(server, "GET", "/v1/phone-numbers", admin)[1]["phone_numbers"]
    assert {"number": "+15550107777", "persona_id": persona_id} in [
        {"number": r["number"], "persona_id": r["persona_id"]} for r in routes]
    assert page.errors == []


async def test_a_live_call_shows_as_it_happens_then_in_the_history(browser, server, admin, shots):
    desk = f"Order desk {secrets.token_hex(3)}"
    persona_id = request(server, "POST", "/v1/personas", admin, {
        "name": desk, "voice_id": "joe", "tools": [{"name": "lookup_order"}],
        "system_prompt": "You are Acme's support agent. Answer in one short sentence."})[1]["persona_id"]
    page = await signed_in(browser, server, admin)
    await page.click("#nav a[data-view=live]")
    _, session = request(server, "POST", "/v1/conversations/create", admin, {"persona_id": persona_id})
    sid = session["session_id"]
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(f"{server.url}/v1/conversations/{sid}/stream?token={admin}") as ws:
            card = page.locator(f"article.call[data-session='{sid}']")
            await card.wait_for(timeout=15000)
            assert desk in await card.text_content()
            await ws.send_json({"type": "user_text", "text": "What is the status of order 1234?"})
            await card.locator(".line.user .said:text('order 1234')").wait_for(timeout=15000)
            await wait_for_event(ws, "turn_end", "assistant")  # slow on a busy machine: the reply plays in real time
            await card.locator(".line.assistant .said").first.wait_for(timeout=10000)
            await card.locator(".badge.latency").first.wait_for()
            history = request(server, "GET", f"/v1/conversations/{sid}", admin)[1]["history"]
            reply = history[-1]
            assert await card.locator(".line.assistant .said").last.text_content() == reply["text"]
            for call in reply["tool_calls"]:  # the model may or may not look the order up
                await card.locator(f".tool .tool-name:text('{call['name']}')").wait_for(timeout=5000)
            assert await page.text_content("#live-count") == "1"
            await page.screenshot(path=shots / "live.png", full_page=True)
            await ws.send_json({"type": "end"})
    await card.wait_for(state="detached", timeout=15000)

    await page.click("#nav a[data-view=conversations]")
    row = page.locator("tr.clickable", has_text=desk).first
    await row.click()
    await page.wait_for_selector(".transcript-card .line.assistant")
    text = await page.text_content(".transcript-card")
    assert "order 1234" in text and reply["text"] in text and "latency" in text
    assert all(call["name"] in text for call in reply["tool_calls"])
    await page.screenshot(path=shots / "conversation.png", full_page=True)
    assert page.errors == []


async def wait_for_event(ws, kind: str, role: str | None = None) -> dict:
    while True:
        msg = await asyncio.wait_for(ws.receive(), 60)
        if msg.type == aiohttp.WSMsgType.TEXT:
            event = json.loads(msg.data)
            if event["type"] == kind and (role is None or event.get("role") == role):
                return event
        elif msg.type != aiohttp.WSMsgType.BINARY:
            raise AssertionError(f"stream closed waiting for {kind}")


async def test_talk_to_a_persona_with_the_microphone(browser, server, admin, shots):
    persona_id = request(server, "POST", "/v1/personas", admin, {
        "name": "Talk test", "voice_id": "joe", "tools": [{"name": "lookup_order"}],
        "system_prompt": "You are Acme's support agent. Answer in one short sentence."})[1]["persona_id"]
    page = await signed_in(browser, server, admin)
    await page.goto(f"{server.url}/console/#/talk/{persona_id}")
    await page.click("button:text('Start talking')")
    await page.wait_for_selector(".state.listening, .state.hearing", timeout=15000)
    said = page.locator(".talk-transcript .line.user:not(.partial) .said")
    await said.first.wait_for(timeout=40000)
    heard = (await said.first.text_content()).lower()
    assert "order" in heard, heard
    answer = page.locator(".talk-transcript .line.assistant:not(.partial) .said")
    await answer.first.wait_for(timeout=120000)  # the reply plays in real time; slow on a busy machine
    assert (await answer.first.text_content()).strip()
    await page.locator(".talk-transcript .badge.latency").first.wait_for(timeout=30000)
    await page.screenshot(path=shots / "talk.png", full_page=True)
    session_id = await page.get_attribute(".talk-transcript", "data-session")
    await page.click("button:text('Hang up')")
    await page.wait_for_selector(".state.ended", timeout=15000)
    history = request(server, "GET", f"/v1/conversations/{session_id}", admin)[1]["history"]
    assert history[0]["role"] == "user" and "order" in history[0]["text"].lower()
    assert page.errors == []
