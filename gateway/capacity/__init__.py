"""`parley bench capacity`: many simulated callers at once against a running gateway (issue 14, items 5 and 6).

`lines.py` is one caller (its earpiece and its script) on either door, `metrics.py` reads the server's own
figures from /metrics, `run.py` dials them at a rate, holds them, measures and reports.
"""
