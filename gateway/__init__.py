"""The gateway: aiohttp server, doors (API stream, Twilio), admin, auth, storage, metrics, command line.

The only package that wires parts together (SPEC §1).
"""

__version__ = "0.1.0"
