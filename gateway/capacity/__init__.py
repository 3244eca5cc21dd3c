"""`parley bench capacity`: many simulated callers at once against a running gateway (issue 14, items 5 and 6).

`lines.py` is one caller (its script and its earpiece), `doors.py` how it reaches the gateway (the API stream
or Twilio Media Streams), `server.py` reads the gateway's own figures from /metrics, `options.py` the command's
options, and `run.py` dials the callers at a rate, holds them, measures and reports.
"""
