"""`parley call`: one conversation from the command line, as a newcomer's first look at the gateway working."""

import argparse
import sys

import aiohttp

from gateway.client import GatewayClient, converse, read_wav, write_wav


def _show(event: dict) -> None:
    kind = event["type"]
    if kind == "transcript" and not event["is_final"]:
        line = f"  ... {event['text']}"
    elif kind == "transcript":
        return  # final transcripts go to stdout
    elif kind == "turn_start" and event["role"] == "assistant":
        line = f"[{event['turn_id']}] assistant starts speaking (latency {event.get('latency_ms')} ms)"
    elif kind == "tool_call":
        line = f"  tool {event['name']}({event['arguments']})"
    elif kind == "tool_result":
        line = f"  -> {event.get('result', event.get('error'))} ({event['duration_ms']} ms)"
    elif kind == "interruption":
        line = f"  interrupted after {event['played_ms']} ms: {event['text']!r}"
    else:
        line = " ".join(f"{k}={v}" for k, v in event.items() if k != "type")
        line = f"{kind} {line}"
    print(line, file=sys.stderr)


def _print_final(event: dict) -> None:
    if event["type"] == "transcript" and event["is_final"] and event["text"]:
        print(f"{event['role']}: {event['text']}", flush=True)
    _show(event)


async def _session_fields(client: GatewayClient, args: argparse.Namespace) -> dict:
    """The create body from the options; a language without a voice gets the first voice that speaks it."""
    fields = {}
    if args.persona:
        fields["persona_id"] = args.persona
    if args.language:
        fields["language"] = args.language
    if args.prompt:
        fields["system_prompt"] = args.prompt
    voice = args.voice
    if voice is None and args.language and args.language != "en":
        voices = (await client.request("GET", f"/v1/voices?language={args.language}"))["voices"]
        voice = voices[0]["voice_id"] if voices else None
    if voice is not None:
        fields["voice_id"] = voice
    return fields


async def run_call(args: argparse.Namespace, api_key: str) -> int:
    if not args.wav and not args.text:
        print("parley call: give --wav FILE and/or --text 'what to say'", file=sys.stderr)
        return 2
    wav = read_wav(args.wav, args.sample_rate) if args.wav else None
    async with aiohttp.ClientSession() as http:
        client = GatewayClient(args.url, api_key, http)
        if args.session:
            session_id = args.session
        else:
            fields = await _session_fields(client, args)
            session_id = (await client.create(defaults=not args.persona, **fields))["session_id"]
        print(f"session {session_id}", file=sys.stderr)
        result = await converse(client, session_id, wav=wav, texts=args.text, sample_rate=args.sample_rate,
                                encoding=args.encoding, on_event=_print_final)
    if args.out:
        write_wav(args.out, bytes(result.audio), args.sample_rate)
        print(f"assistant audio: {args.out} ({len(result.audio) / 2 / args.sample_rate:.1f} s)", file=sys.stderr)
    return 0
