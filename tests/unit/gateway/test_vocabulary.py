"""A session's `vocabulary`: checked on create (and so on personas), stored with the session, handed to the engine."""

from datetime import UTC, datetime

import pytest

from agents.errors import InvalidRequest
from agents.providers.tts.base import VoiceInfo
from agents.tools.registry import ToolRegistry
from gateway.api.validation import MAX_VOCABULARY, MAX_VOCABULARY_CHARS, parse_create
from gateway.call_session import session_settings
from gateway.storage import SessionRecord

VOICES = {"joe": VoiceInfo("joe", "Joe", ("en",), "male", "piper", 22050)}


def create(**body):
    return parse_create({"voice_id": "joe", "system_prompt": "Be brief.", **body}, VOICES, frozenset({"en"}),
                        ToolRegistry())


def test_vocabulary_is_optional_and_kept_in_order_without_repeats():
    assert create().vocabulary == ()
    assert create().settings()["vocabulary"] == []
    request = create(vocabulary=["Acme", "  order   number ", "Acme", "Nguyen"])
    assert request.vocabulary == ("Acme", "order number", "Nguyen")
    assert request.settings()["vocabulary"] == ["Acme", "order number", "Nguyen"]


@pytest.mark.parametrize("value", [
    "Acme",  # not a list
    {"a": 1},
    ["Acme", ""],
    ["   "],
    ["Acme", 3],
    [None],
    ["x" * (MAX_VOCABULARY_CHARS + 1)],
    [f"w{i}" for i in range(MAX_VOCABULARY + 1)],
])
def test_a_bad_vocabulary_is_a_400_naming_the_field(value):
    with pytest.raises(InvalidRequest) as err:
        create(vocabulary=value)
    assert err.value.param == "vocabulary"
    assert "vocabulary" in err.value.message


def test_limits_are_inclusive():
    assert len(create(vocabulary=[f"w{i}" for i in range(MAX_VOCABULARY)]).vocabulary) == MAX_VOCABULARY
    assert create(vocabulary=["x" * MAX_VOCABULARY_CHARS]).vocabulary == ("x" * MAX_VOCABULARY_CHARS,)


def _record(settings: dict) -> SessionRecord:
    now = datetime.now(UTC)
    return SessionRecord(session_id="conv_1", owner_key_id="k", status="ready", settings=settings,
                         created_at=now, last_activity_at=now)


def test_the_engine_gets_the_stored_vocabulary():
    assert session_settings(_record(create(vocabulary=["Acme", "Nguyen"]).settings())).vocabulary == (
        "Acme", "Nguyen")
    old = create().settings()
    del old["vocabulary"]  # a session stored before the field existed
    assert session_settings(_record(old)).vocabulary == ()
