"""ASR, LLM and TTS providers: a small protocol per kind (base.py) and one file per implementation."""
