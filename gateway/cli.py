"""The `parley` command line: serve, keys, call, bench and eval."""

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import structlog
from aiohttp import web

from gateway import __version__
from gateway.capacity.options import add_arguments as add_capacity_arguments
from gateway.capacity.options import defaults_from_env as capacity_defaults
from gateway.client import ClientError
from gateway.config import Config, ConfigError, known_env_names, load_config
from gateway.evaluation.cases import CATEGORIES
from gateway.logs import configure_logging

log = structlog.get_logger("parley")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parley", description="Parley: a self-hosted telephony voice-agent gateway.")
    parser.add_argument("--version", action="version", version=f"parley {__version__}")
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file (default: $PARLEY_CONFIG)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", help="TCP port (default 8080; 0 picks a free one)")
    serve.add_argument("--sip-port", help="answer SIP calls on this port")

    models = commands.add_parser("models", help="the embedded models as a server other workers share")
    model_commands = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    models_serve = model_commands.add_parser(
        "serve", help="serve ASR, LLM and TTS as OpenAI-compatible endpoints (/v1/audio/transcriptions, "
        "/v1/audio/speech, /v1/chat/completions)")
    models_serve.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    models_serve.add_argument("--port", help="TCP port (default 8090; 0 picks a free one)")

    keys = commands.add_parser("keys", help="manage API keys")
    key_commands = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    create = key_commands.add_parser("create", help="create an API key and print it (last line)")
    create.add_argument("--admin", action="store_true", help="may manage personas, numbers and all sessions")
    create.add_argument("--name", help="a label to tell keys apart")
    key_commands.add_parser("list", help="list API keys (never the keys themselves)")
    revoke = key_commands.add_parser("revoke", help="revoke an API key: refused from then on, on every node")
    revoke.add_argument("key_id", help="the key's id, as `parley keys list` shows it (key_...)")

    commands.add_parser("webhook-secret", help="print the secret that signs webhook tool requests (made if missing)")

    call = commands.add_parser("call", help="talk to a running gateway: stream a WAV or typed turns, save the reply")
    call.add_argument("url", help="the gateway's base URL, e.g. http://127.0.0.1:8080")
    call.add_argument("--wav", type=Path, help="a mono 16-bit WAV to say (any rate)")
    call.add_argument("--text", action="append", default=[], help="a typed turn (repeatable)")
    call.add_argument("--out", type=Path, help="write the assistant's audio to this WAV")
    call.add_argument("--key", help="API key (default: $PARLEY_API_KEY)")
    call.add_argument("--session", help="continue this session instead of creating one")
    call.add_argument("--voice", help="voice_id for a new session (default: joe, or the first voice of --language)")
    call.add_argument("--language", help="language of a new session, e.g. de (ISO 639-1; default en)")
    call.add_argument("--persona", help="start the new session from this persona (admin-configured)")
    call.add_argument("--prompt", help="system_prompt for a new session")
    call.add_argument("--sample-rate", type=int, default=16000, choices=(8000, 16000, 24000, 48000))
    call.add_argument("--encoding", default="pcm16", choices=("pcm16", "mulaw", "opus"))

    bench = commands.add_parser("bench", help="benchmarks against a running gateway")
    bench_kinds = bench.add_subparsers(dest="bench_command", metavar="KIND", required=True)
    latency = bench_kinds.add_parser("latency", help="spoken turns over the API: end of speech -> first audio")
    latency.add_argument("url", help="the gateway's base URL")
    latency.add_argument("--key", help="API key (default: $PARLEY_API_KEY)")
    latency.add_argument("--turns", type=int, default=10, help="spoken turns to measure (default 10)")
    latency.add_argument("--wav", type=Path, help="the utterance to say (default: a Piper voice asks about order 1234)")
    latency.add_argument("--json", action="store_true", help="print the figures as JSON")
    latency.add_argument("--asr-model", help="the sessions' asr.model (e.g. base): ASR options compared on latency")
    latency.add_argument("--questions", choices=("order", "ordinary"), default="order",
                         help="order: the order question (a look-up, a hold line first); ordinary: five questions "
                         "answered without a tool, in turn (default order)")

    capacity = bench_kinds.add_parser("capacity", help="many simulated callers at once (API or Twilio): calls "
                                      "held, server CPU and memory per call, set-up and turn latency, stalls")
    add_capacity_arguments(capacity)

    evaluation = commands.add_parser("eval", help="scripted calls against a running gateway, judged on their outcome")
    evaluation.add_argument("url", help="the gateway's base URL, e.g. http://127.0.0.1:8080")
    evaluation.add_argument("--key", help="API key (default: $PARLEY_API_KEY)")
    evaluation.add_argument("--mode", choices=("typed", "spoken", "both"), default="both", help="typed, spoken or both (default)")
    evaluation.add_argument("--split", choices=("all", "tuned", "held-out", "blind"), default="all",
                        help="held-out: the calls never tuned on, blind: those of them written by someone who never "
                        "saw the engine (default all, reported apart)")
    evaluation.add_argument("--category", action="append", default=[], choices=CATEGORIES, help="only these (repeatable)")
    evaluation.add_argument("--case", action="append", default=[], help="only these case ids (repeatable)")
    evaluation.add_argument("--smoke", action="store_true", help="only the regression subset the test suite runs")
    evaluation.add_argument("--concurrency", type=int, default=2, help="calls at once (default 2)")
    evaluation.add_argument("--json", type=Path, help="write every call, its events and verdict to this file")
    evaluation.add_argument("--reply-timeout", type=float, default=60.0, help="seconds to wait for a reply")
    evaluation.add_argument("--quiet", action="store_true", help="no progress lines")
    evaluation.add_argument("--asr-model", help="the sessions' asr.model (e.g. base): ASR options compared on calls")
    return parser


def _load(args: argparse.Namespace) -> Config:
    # Command-line flags go through the same typed checks as PARLEY_* variables.
    env = dict(os.environ)
    section = "MODELS_SERVER" if args.command == "models" else "SERVER"
    for flag, name in (("host", f"PARLEY_{section}_HOST"), ("port", f"PARLEY_{section}_PORT"),
                       ("sip_port", "PARLEY_SIP_PORT")):
        value = getattr(args, flag, None)
        if value is not None:
            env[name] = value
    return load_config(args.config, env)


def _loop_factory(name: str):
    """The serving loop. uvloop's does the same work as Python's with less CPU per message (libuv's I/O, its
    transports and timers in C): about a tenth less per held call in the capacity bench."""
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return None


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM (each time: the gateway's drain ends early on a second one)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _serve(config: Config) -> None:
    from gateway.app import create_app  # the server's imports are not needed for `keys`

    app = create_app(config)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=config.server.shutdown_timeout_s)
    try:
        # Inside the try: a part failing to start (the SIP port in use) still gets the parts that did
        # started closed, or the database connection's thread keeps the process alive.
        await runner.setup()
        site = web.TCPSite(runner, config.server.host, config.server.port)
        await site.start()
        port = runner.addresses[0][1]
        log.info(f"listening on http://{config.server.host}:{port}", host=config.server.host, port=port,
                 public_url=config.resolved_public_url(port), data_dir=str(config.resolved_data_dir))
        stop = _stop_on_signals()
        await stop.wait()
        if config.server.drain_timeout_s > 0:
            stop.clear()  # a second signal ends the drain at once
            await _drain(app, stop, config.server.drain_timeout_s)
        log.info("shutting_down")
    finally:
        # Also on a failed bind: the database connection's thread must be closed or the process hangs.
        await runner.cleanup()
    log.info("stopped")


async def _serve_models(config: Config) -> None:
    from gateway.model_server import create_models_app

    app = create_models_app(config)
    runner = web.AppRunner(app, handle_signals=False)
    try:
        await runner.setup()
        site = web.TCPSite(runner, config.models_server.host, config.models_server.port)
        await site.start()
        port = runner.addresses[0][1]
        log.info(f"models listening on http://{config.models_server.host}:{port}/v1",
                 host=config.models_server.host, port=port)
        stop = _stop_on_signals()
        await stop.wait()
    finally:
        await runner.cleanup()
    log.info("stopped")


async def _drain(app, stop: asyncio.Event, timeout_s: float) -> None:
    """No new calls (gateway/draining.py); wait until the live ones have ended, `timeout_s` at most."""
    from gateway.app_keys import DRAINING, LIVE

    app[DRAINING].set()
    log.info("draining", live_calls=len(app[LIVE]), timeout_s=timeout_s)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while app[LIVE] and not stop.is_set() and loop.time() < deadline:
        try:
            await asyncio.wait_for(stop.wait(), 0.2)  # the registry has no event of its own: look again shortly
        except TimeoutError:
            pass
    log.info("drained", live_calls=len(app[LIVE]))


async def _keys(config: Config, args: argparse.Namespace) -> None:
    from gateway.auth import create_api_key
    from gateway.storage import storage_for

    storage = storage_for(config.resolved_database_url)
    await storage.open()
    try:
        if args.keys_command == "revoke":
            if not await storage.revoke_api_key(args.key_id, datetime.now(UTC)):
                raise ConfigError(f"no live key {args.key_id!r} (see: parley keys list)")
            print(f"revoked key {args.key_id}")
        elif args.keys_command == "create":
            new = await create_api_key(storage, name=args.name, admin=args.admin)
            scope = "admin" if new.record.admin else "client"
            print(f"created {scope} key {new.record.key_id}" + (f" ({new.record.name})" if new.record.name else ""))
            print("store it now: it is shown only once")
            print(new.key)
        else:
            for key in await storage.list_api_keys():
                state = "revoked" if key.revoked_at else ("admin" if key.admin else "client")
                print(f"{key.key_id}\t{key.prefix}...\t{state}\t{key.created_at:%Y-%m-%dT%H:%M:%SZ}\t{key.name or ''}")
    finally:
        await storage.close()


def _api_key(args: argparse.Namespace) -> str:
    key = args.key or os.environ.get("PARLEY_API_KEY")
    if not key:
        raise ConfigError("need an API key: --key or PARLEY_API_KEY (make one with: parley keys create)")
    return key


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = _load(args)
    except ConfigError as exc:
        print(f"parley: {exc}", file=sys.stderr)
        return 2
    configure_logging(config.log.format, config.log.level, mask_numbers=config.log.mask_numbers)
    unknown = sorted(n for n in os.environ if n.startswith("PARLEY_") and n not in known_env_names())
    if unknown:
        log.warning("unknown_settings_ignored", variables=unknown)
    try:
        if args.command == "serve":
            with asyncio.Runner(loop_factory=_loop_factory(config.server.event_loop)) as runner:
                runner.run(_serve(config))
        elif args.command == "models":
            with asyncio.Runner(loop_factory=_loop_factory(config.server.event_loop)) as runner:
                runner.run(_serve_models(config))
        elif args.command == "keys":
            asyncio.run(_keys(config, args))
        elif args.command == "webhook-secret":
            from gateway.webhooks import webhook_secret

            print(webhook_secret(config))
        elif args.command == "call":
            from gateway.call import run_call

            return asyncio.run(run_call(args, _api_key(args)))
        elif args.command == "bench" and args.bench_command == "capacity":
            from gateway.capacity.run import run_capacity

            capacity_defaults(args, os.environ)
            # Twilio's callers need no API key (the webhooks are signed); the API's do.
            key = _api_key(args) if args.door == "api" else args.key or os.environ.get("PARLEY_API_KEY", "")
            return asyncio.run(run_capacity(args, key))
        elif args.command == "bench":
            from gateway.bench import run_bench

            return asyncio.run(run_bench(args, _api_key(args)))
        elif args.command == "eval":
            from gateway.evaluation.run import run_eval

            return asyncio.run(run_eval(args, _api_key(args)))
    except ConfigError as exc:
        print(f"parley: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # port in use, data dir not writable, a timeout: say so, no traceback
        print(f"parley: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    except ClientError as exc:
        print(f"parley: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
