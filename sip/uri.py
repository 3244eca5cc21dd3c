"""Pure helpers for the SIP text a call arrives with: the request URI, user parts, transfer targets."""

import re
from urllib.parse import unquote

_REQUEST_LINE = re.compile(r"^[A-Z]+\s+(\S+)\s+SIP/2\.0", re.ASCII)
_URI_IN_ANGLES = re.compile(r"<([^>]*)>")
_SCHEME = re.compile(r"^(sips?|tel):", re.IGNORECASE)


def request_uri(message: str) -> str:
    """The request URI of a SIP request ("INVITE sip:1000@host SIP/2.0" -> "sip:1000@host"); "" if none."""
    match = _REQUEST_LINE.match(message.lstrip())
    return match.group(1) if match else ""


def header(message: str, name: str, compact: str | None = None) -> str:
    """The first value of header `name` (or its compact form, "i" for Call-ID) in a SIP message; "" if absent."""
    names = {name.lower()} | ({compact.lower()} if compact else set())
    for line in message.split("\r\n\r\n", 1)[0].splitlines()[1:]:
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in names:
            return value.strip()
    return ""


def bare_uri(value: str) -> str:
    """`"Alice" <sip:alice@pbx>;tag=1` -> `sip:alice@pbx`: the URI of a name-addr, without parameters."""
    match = _URI_IN_ANGLES.search(value)
    uri = match.group(1) if match else value.strip().split(";", 1)[0]
    return uri.strip()


def user_part(uri: str) -> str:
    """The user of a SIP or tel URI, unescaped: "sip:%2B1555@pbx;user=phone" -> "+1555"; "" if it has none."""
    uri = bare_uri(uri)
    scheme = _SCHEME.match(uri)
    if scheme is None:
        return ""
    rest = uri[scheme.end():]
    if scheme.group(1).lower() == "tel":
        return unquote(rest.split(";", 1)[0])
    if "@" not in rest:
        return ""  # sip:host: a request to the host itself, no user
    return unquote(rest.split("@", 1)[0].split(";", 1)[0].split(":", 1)[0])


def host_part(uri: str) -> str:
    """host[:port] of a SIP URI ("sip:1000@pbx.example.com:5070;transport=tcp" -> "pbx.example.com:5070")."""
    uri = bare_uri(uri)
    scheme = _SCHEME.match(uri)
    rest = uri[scheme.end():] if scheme else uri
    return rest.split("@", 1)[-1].split(";", 1)[0].split("?", 1)[0]


def dial_uri(target: str, domain: str) -> str:
    """A SIP URI to send a REFER or INVITE to: sip:/sips: URIs as given, tel:/E.164/extensions at `domain`."""
    target = target.strip()
    if target.lower().startswith(("sip:", "sips:")):
        return target
    if target.lower().startswith("tel:"):
        target = target[4:].split(";", 1)[0]
    number = re.sub(r"[\s().-]", "", target)
    return f"sip:{number}@{domain}"
