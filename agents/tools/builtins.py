"""Built-in call-control tools a session enables by name: end_call, transfer_call, send_dtmf (SPEC §7).

They act through the door's CallControl (agents/ports.py); the engine never learns
which wire the call is on. What a door cannot do comes back as an error result.
end_call and transfer_call only mark the reply's ending: the call is ended or
transferred once the reply's last words have been heard (agents/conversation.py).
"""

import re

from agents.ports import CallControlError
from agents.tools.handler import Handler, ToolContext, ToolFailure, tool

DTMF_DIGITS = frozenset("0123456789*#ABCD")
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_SIP_URI = re.compile(r"^sips?:[^\s]+$", re.IGNORECASE)


def is_transfer_target(value: str) -> bool:
    """An E.164 number (+15550100) or a sip:/sips: URI."""
    return bool(_E164.match(value) or _SIP_URI.match(value))


def _canonical(target: str) -> str:
    """Compare targets as a caller would write them: "+1 (555) 010-0200" is +15550100200."""
    target = target.strip()
    if _SIP_URI.match(target):
        scheme, rest = target.split(":", 1)
        return scheme.lower() + ":" + rest
    return "+" + re.sub(r"\D", "", target)


def _control(context: ToolContext):
    if context.control is None:
        raise ToolFailure("call control is not available in this session")
    return context.control


@tool(
    "End the call. Use it once the caller has nothing more to ask or says goodbye; say your goodbye "
    "in the same reply, the call ends after it has been heard.",
    {"type": "object", "properties": {}},
    wants_context=True, hold_line=False,
)
async def end_call(context: ToolContext) -> dict:
    context.ending = "hang_up"
    return {"ending_call": True}


@tool(
    "Transfer the caller to a person or another line. Only the allowed transfer targets can be dialled.",
    {
        "type": "object",
        "properties": {"target": {"type": "string",
                                  "description": "an E.164 phone number (+15550100) or a sip: URI"}},
        "required": ["target"],
    },
    wants_context=True, hold_line=False,
)
async def transfer_call(context: ToolContext, target: str) -> dict:
    allowed = {_canonical(t): t for t in context.transfer_targets}
    chosen = allowed.get(_canonical(target))
    if chosen is None:
        listed = ", ".join(context.transfer_targets) or "none"
        raise ToolFailure(f"cannot transfer to {target!r}: it is not an allowed transfer target (allowed: {listed})")
    try:
        _control(context).check_transfer()
    except CallControlError as exc:
        raise ToolFailure(str(exc)) from None
    context.ending, context.transfer_to = "transfer", chosen
    return {"transferring": True, "target": chosen}


@tool(
    "Send telephone key presses (DTMF) on the call, e.g. to choose an option in another phone menu.",
    {
        "type": "object",
        "properties": {"digits": {"type": "string", "pattern": "^[0-9*#A-D]{1,32}$",
                                  "description": "keys to press: 0-9, *, #, A-D"}},
        "required": ["digits"],
    },
    wants_context=True, hold_line=False,
)
async def send_dtmf(context: ToolContext, digits: str) -> dict:
    if not digits or len(digits) > 32 or set(digits) - DTMF_DIGITS:
        raise ToolFailure(f"cannot send {digits!r}: digits must be 1-32 of 0-9, *, #, A-D")
    try:
        await _control(context).send_dtmf(digits)
    except CallControlError as exc:
        raise ToolFailure(str(exc)) from None
    return {"sent": digits}


BUILTINS: dict[str, Handler] = {"end_call": end_call, "transfer_call": transfer_call, "send_dtmf": send_dtmf}
