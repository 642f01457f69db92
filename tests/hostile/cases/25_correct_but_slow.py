import time


def pace(n):
    """Correct, but waits 0.2 s between readings where 0.1 s would do: 0.8 s for pace(5)."""
    times = []
    for i in range(n):
        if i:
            time.sleep(0.2)
        times.append(time.monotonic())
    return times
