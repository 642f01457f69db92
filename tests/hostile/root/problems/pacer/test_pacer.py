"""Checks of the fixture problem pacer. Its reference needs 0.4 s a check, near its 0.5 s floor: the
check's limit comes from timing the reference (grader.calibration)."""
import time

import pytest


@pytest.mark.points(1)
def test_spaces_five_times(impl):
    """pace(5) takes five readings of the clock at least 0.1 s apart."""
    start = time.monotonic()
    times = [float(t) for t in list(impl.pace(5))]
    elapsed = time.monotonic() - start
    assert len(times) == 5, f"pace(5) returned {len(times)} times"
    gaps = [round(b - a, 3) for a, b in zip(times, times[1:])]
    assert all(gap >= 0.1 for gap in gaps), f"gaps between the times: {gaps}"
    assert elapsed >= 0.4, f"pace(5) returned after {elapsed:.2f} s: it did not wait between the readings"
