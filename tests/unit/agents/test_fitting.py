"""Tool arguments fitted to the tool's schema: the caller's value written another way runs; guesses do not."""

import pytest

from agents.tools.fitting import fit_arguments
from agents.tools.spec import ToolDefinition, lacking_argument

SCHEMA = {
    "type": "object",
    "properties": {
        "phone": {"type": "string", "pattern": "^[0-9]{10}$"},
        "postcode": {"type": "string", "pattern": "^[0-9]{5}$"},
        "last_four": {"type": "string", "pattern": "^[0-9]{4}$"},
        "plate": {"type": "string", "pattern": "^[A-Z]{2}[0-9]{3}$"},
        "service": {"type": "string", "enum": ["internet", "tv", "phone line"]},
        "time": {"type": "string", "enum": ["18:00", "19:00"]},
        "party_size": {"type": "integer", "minimum": 1, "maximum": 12},
        "amount": {"type": "number"},
        "urgent": {"type": "boolean"},
        "note": {"type": "string"},
    },
    "required": ["phone"],
}


@pytest.mark.parametrize("given, fitted", [
    ({"phone": "415 555 0199"}, {"phone": "4155550199"}),
    ({"phone": "(415) 555-0199"}, {"phone": "4155550199"}),
    ({"postcode": 90210}, {"postcode": "90210"}),
    ({"note": 1234}, {"note": "1234"}),
    ({"last_four": "43 21"}, {"last_four": "4321"}),
    ({"plate": "AB 123"}, {"plate": "AB123"}),
    ({"service": "Internet"}, {"service": "internet"}),
    ({"service": "phone-line"}, {"service": "phone line"}),
    ({"service": "TV "}, {"service": "tv"}),
    ({"party_size": "4"}, {"party_size": 4}),
    ({"party_size": "four"}, {"party_size": 4}),
    ({"amount": "12.50"}, {"amount": 12.5}),
    ({"urgent": "yes"}, {"urgent": True}),
    ({"urgent": "False"}, {"urgent": False}),
])
def test_the_same_value_in_another_shape_is_fitted(given, fitted):
    assert fit_arguments(SCHEMA, given) == fitted


@pytest.mark.parametrize("given", [
    {"phone": "415 555 019"},          # nine digits: a digit is missing, ask for it
    {"phone": "call me at 4155550199"},  # words around it: not only a shape
    {"time": "6:00"},                  # 18:00 or 06:00 is a guess
    {"service": "cable"},              # no choice of that name
    {"party_size": "four or five"},    # two numbers
    {"party_size": "a few"},
    {"urgent": "maybe"},
    {"unknown": "x"},                  # not the tool's: left for validation to refuse
])
def test_what_cannot_be_read_for_certain_stays_as_written(given):
    fitted = fit_arguments(SCHEMA, given)
    assert fitted == given


def test_a_fitted_call_runs_and_an_unfitted_one_is_asked_about():
    tool = ToolDefinition("schedule_callback", "Call the caller back.", SCHEMA)
    assert lacking_argument(tool, {"phone": "415 555 0199"}) is not None  # as the model wrote it: refused
    assert lacking_argument(tool, fit_arguments(SCHEMA, {"phone": "415 555 0199"})) is None
    assert lacking_argument(tool, fit_arguments(SCHEMA, {"phone": "415 555 019"})) is not None


def test_arguments_that_are_not_an_object_or_a_schema_without_properties_pass_through():
    assert fit_arguments(SCHEMA, ["4155550199"]) == ["4155550199"]
    assert fit_arguments({"type": "object"}, {"a": "1"}) == {"a": "1"}
    assert fit_arguments(None, {"a": "1"}) == {"a": "1"}
    assert fit_arguments({"properties": {"p": {"type": "string", "pattern": "("}}}, {"p": "x"}) == {"p": "x"}
