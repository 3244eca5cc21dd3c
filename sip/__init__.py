"""SIP door: a pjsua2 user agent that answers and places calls and bridges RTP audio to sessions.

Imports agents/ and media/, never gateway/ (SPEC §1). Arrives with the SIP issue.
"""
