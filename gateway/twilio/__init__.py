"""The Twilio door (SPEC §6): webhooks, the Media Streams WebSocket and REST call control.

Light on purpose: gateway/config.py imports gateway.twilio.config; the routes are added by
gateway.twilio.routes.setup(app).
"""
