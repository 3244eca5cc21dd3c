"""ASR providers: base.py is the protocol, one file per implementation."""
