"""Route keys: dialled numbers as routes store them (E.164, a SIP user part, or "default")."""

import re

from agents.errors import InvalidRequest

DEFAULT_ROUTE = "default"  # the route for numbers no other route names
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_SIP_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~*#+-]{0,63}$")
_SEPARATORS = re.compile(r"[\s().-]")


def normalise_number(value: str) -> str:
    """"+1 (555) 010-0" -> "+15550100"; a SIP user part such as "support" or "1000" is kept as it is."""
    value = value.strip()
    if value.startswith("+"):
        return _SEPARATORS.sub("", value)
    return value


def parse_number(value, param: str = "number") -> str:
    """A route's number: E.164 (+15550100, separators allowed), a SIP user part (1000, support), or "default"."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"{param} must be an E.164 number such as +15550100, a SIP user part such as 1000, "
                             f"or {DEFAULT_ROUTE!r}", param=param)
    number = normalise_number(value)
    if number.startswith("+"):
        if not _E164.match(number):
            raise InvalidRequest(f"{param} {value!r} is not an E.164 number (+, country code, up to 15 digits)",
                                 param=param)
        return number
    if not _SIP_USER.match(number):
        raise InvalidRequest(f"{param} {value!r} is neither an E.164 number nor a SIP user part (letters, digits "
                             "and . _ ~ * # + -, at most 64)", param=param)
    return number


def number_candidates(called: str) -> list[str]:
    """The route keys a dialled number may be stored under: a PBX often drops the "+" of an E.164 number."""
    number = normalise_number(called)
    if not number:
        return []
    if number.startswith("+"):
        return [number, number[1:]]
    if number.isdigit():
        return [number, "+" + number]
    return [number]
