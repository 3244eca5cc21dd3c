"""SIP door: a pjsua2 user agent that answers and places calls and bridges RTP audio to sessions.

ua.py (the endpoint's thread and life cycle), account.py, call.py (a call on the UA thread),
bridge.py (frames across threads), pump.py (caller audio to the engine), door.py (a call on the loop).
Imports agents/ and media/, never gateway/ (SPEC §1).
"""
