"""Every typed key under which the aiohttp Application keeps shared objects."""

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

from agents.tools.webhook import WebhookClient
from gateway.config import Config
from gateway.limits import KeyLimiter
from gateway.metrics import Metrics
from gateway.models import Models
from gateway.monitor import Monitor
from gateway.recordings import Recordings
from gateway.storage import Storage
from gateway.twilio.rest import TwilioRest

if TYPE_CHECKING:  # importing sip.ua loads pjsua2: only a gateway that runs SIP needs it
    from gateway.telemetry import Tracing
    from sip.ua import UserAgent

CONFIG = web.AppKey("config", Config)
STORAGE = web.AppKey("storage", Storage)
MODELS = web.AppKey("models", Models)
LIVE = web.AppKey("live", dict)  # session_id -> the LiveSession (gateway/call_session.py) running it on this node
WEBHOOKS = web.AppKey("webhooks", WebhookClient)  # the process's one HTTP client for webhook tools
MONITOR = web.AppKey("monitor", Monitor)  # this node's live calls, for the admin's live view
RECORDINGS = web.AppKey("recordings", Recordings)  # data_dir/recordings: call recordings (a persona option)
SIP_AGENT: web.AppKey["UserAgent"] = web.AppKey("sip_agent")  # the SIP user agent, when [sip] port is set (gateway/sip_calls.py)
TWILIO_REST = web.AppKey("twilio_rest", TwilioRest)  # Twilio's REST API client, when [twilio] credentials are set
DRAINING = web.AppKey("draining", asyncio.Event)  # set once a SIGTERM starts a drain (gateway/draining.py)
METRICS = web.AppKey("metrics", Metrics)  # this node's counters for GET /metrics
LIMITER = web.AppKey("limiter", KeyLimiter)  # requests per API key per minute ([limits])
TRACING: web.AppKey["Tracing | None"] = web.AppKey("tracing")  # OpenTelemetry, when [telemetry] is set (gateway/telemetry.py)
DIALERS = web.AppKey("dialers", dict)  # channel -> its Dialer (gateway/api/calls.py) for POST /v1/calls
