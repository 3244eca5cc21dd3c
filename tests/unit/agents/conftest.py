"""Fixtures the engine tests share."""

import pytest


@pytest.fixture
async def closing():
    """`closing(harness)`: the harness (a live Conversation and its sink) is closed after the test."""
    harnesses = []
    yield harnesses.append
    for h in harnesses:
        await h.close()
