"""[twilio]: the Twilio door's settings (a section of gateway/config.py, kept beside the door it configures).

Every field is overridden by PARLEY_TWILIO_<KEY>. The README's "Twilio" section says how to set
them for a real Twilio number.
"""

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from gateway.config_values import ConfigError

DEFAULT_API_BASE_URL = "https://api.twilio.com"


def _setting(default, doc: str, **rules):
    # The same field shape as gateway/config.py's (doc and rules in the metadata the loader checks).
    return field(default=default, metadata={"doc": doc, **rules})


def _is_base_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.query and not parts.fragment


@dataclass(frozen=True)
class TwilioConfig:
    """[twilio]: credentials, the URL Twilio reaches us at, and how the door plays to Twilio."""

    account_sid: str | None = _setting(None, "Twilio account SID (PARLEY_TWILIO_ACCOUNT_SID); REST call control")
    auth_token: str | None = _setting(
        None, "Twilio auth token (PARLEY_TWILIO_AUTH_TOKEN): checks webhook signatures, signs REST requests; "
        "unset: the Twilio routes answer 503 twilio_not_configured unless validate_signatures is false")
    validate_signatures: bool = _setting(True, "check X-Twilio-Signature; false only for local testing")
    public_url: str | None = _setting(
        None, "the base URL Twilio reaches Parley at, as given to Twilio (https://abc.ngrok.app); "
        "unset: PARLEY_PUBLIC_URL, else http://HOST:PORT")
    api_base_url: str = _setting(DEFAULT_API_BASE_URL, "Twilio's REST API; another base URL only for a stand-in")
    lead_ms: int = _setting(
        200, "ms of speech sent ahead of what Twilio has played: covers network jitter; more makes a "
        "barge-in's clear drop more", min=40, max=2000)
    unrouted_message: str = _setting(
        "Sorry, this number is not in service. Goodbye.", "what a caller to a number no persona answers hears")

    def __post_init__(self) -> None:
        for name in ("public_url", "api_base_url"):
            value = getattr(self, name)
            if value is not None and not _is_base_url(value):
                raise ConfigError(f"invalid setting twilio.{name} (PARLEY_TWILIO_{name.upper()}): expected an "
                                  f"http:// or https:// base URL without a query, got {value!r}")

    @property
    def rest_configured(self) -> bool:
        """Credentials for Twilio's REST API (hang-up, transfer, outbound calls) are set."""
        return bool(self.account_sid and self.auth_token)
