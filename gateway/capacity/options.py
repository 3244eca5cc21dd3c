"""The options of `parley bench capacity` (apart from run.py, so the command line loads nothing heavy to parse)."""

import argparse

from gateway.config_values import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="the gateway's base URL")
    parser.add_argument("--door", choices=("api", "twilio"), default="api", help="API stream or Twilio Media Streams")
    parser.add_argument("--calls", type=int, default=50, help="simulated callers (default 50)")
    parser.add_argument("--rate", type=float, default=10.0, help="new calls a second during the ramp (default 10)")
    parser.add_argument("--hold", type=float, default=30.0, help="seconds all calls are held and measured (default 30)")
    parser.add_argument("--silent", action="store_true", help="callers only listen (default: they ask and listen)")
    parser.add_argument("--turns", type=int, default=0, help="questions each caller asks, then it listens; the "
                        "window lasts until all were answered (default 0: ask on for the whole window)")
    parser.add_argument("--think", type=float, default=1.0, help="seconds a caller waits after an answer (default 1)")
    parser.add_argument("--key", help="API key (default: $PARLEY_API_KEY)")
    parser.add_argument("--admin-key", default=None, help="admin key to read the server's /metrics "
                        "(default: $PARLEY_ADMIN_KEY)")
    parser.add_argument("--persona", help="API door: sessions from this persona (default: the demo agent)")
    parser.add_argument("--twilio-auth-token", help="Twilio door: the gateway's auth token, to sign the webhooks "
                        "(default: $PARLEY_TWILIO_AUTH_TOKEN)")
    parser.add_argument("--public-url", help="Twilio door: the gateway's public URL the signatures are for "
                        "(default: URL)")
    parser.add_argument("--to", default="+15550100", help="Twilio door: the number dialled (needs a route)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress line")


def defaults_from_env(args: argparse.Namespace, environ) -> None:
    args.admin_key = args.admin_key or environ.get("PARLEY_ADMIN_KEY")
    if getattr(args, "twilio_auth_token", None) is None:
        args.twilio_auth_token = environ.get("PARLEY_TWILIO_AUTH_TOKEN")
    if args.calls < 1 or args.rate <= 0 or args.hold < 0 or args.turns < 0:
        raise ConfigError("--calls must be at least 1, --rate above 0, --hold and --turns at least 0")
