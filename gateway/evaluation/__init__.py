"""Offline evaluation: synthetic callers, scripted conversations and the measurements made from them."""
