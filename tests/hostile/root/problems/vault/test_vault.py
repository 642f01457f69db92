"""Checks of the fixture problem vault: one hidden, then one visible."""
import asyncio

import pytest


@pytest.mark.points(1)
@pytest.mark.hidden
def test_opens_from_another_coroutine(impl):
    """open() returns 42 when another coroutine awaits it."""
    async def inside():
        return await impl.Vault().open()  # the-code-of-a-hidden-check: no line of it may reach the student
    assert asyncio.run(inside()) == 42


@pytest.mark.points(1)
def test_opens(impl):
    """open() returns 42."""
    assert asyncio.run(impl.Vault().open()) == 42
