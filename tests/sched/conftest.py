"""Fixtures of the scheduler's tests: the sample submission, and a fresh replay configuration per test."""
import os

import pytest

from grader.sched import configure, load_module

SAMPLES = os.path.join(os.path.dirname(__file__), "samples.py")


@pytest.fixture(scope="module")
def s():
    """tests/sched/samples.py loaded as a submission (instruction-level scheduling points)."""
    return load_module(SAMPLES, "samples")


@pytest.fixture(autouse=True)
def fresh_config():
    configure(seed=None, base_seed=0, replay="explore(..., seed={seed})")
    yield
    configure(seed=None, base_seed=0)
