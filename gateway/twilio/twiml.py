"""The TwiML Parley answers Twilio with, built with the twilio library (never by hand)."""

from twilio.twiml.voice_response import Connect, Dial, VoiceResponse

from agents.tools.builtins import is_transfer_target


def connect_stream(stream_url: str, session_id: str, status_callback: str) -> str:
    """Connect the call's audio to our Media Streams WebSocket (bidirectional), naming the session in a
    <Parameter> (a Stream url takes no query string). When the stream ends the call ends: nothing follows."""
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=stream_url, status_callback=status_callback, status_callback_method="POST")
    stream.parameter(name="session_id", value=session_id)
    response.append(connect)
    return str(response)


def say_and_hang_up(message: str, language: str = "en-US") -> str:
    """A polite line and the end of the call (a number nothing answers, the gateway still starting)."""
    response = VoiceResponse()
    response.say(message, language=language)
    response.hangup()
    return str(response)


def dial(target: str) -> str:
    """Hand the call to `target`: an E.164 number, or a sip:/sips: URI (transfer_call)."""
    if not is_transfer_target(target):
        raise ValueError(f"not a number or SIP URI: {target!r}")
    response = VoiceResponse()
    dial_ = Dial()
    if target.lower().startswith(("sip:", "sips:")):
        dial_.sip(target)
    else:
        dial_.number(target)
    response.append(dial_)
    return str(response)
