"""The conversation engine: sessions, turn-taking, barge-in, providers, tools and personas.

Knows nothing of HTTP, Twilio or SIP; doors adapt to it (SPEC §1). Imports media/ only.
"""
