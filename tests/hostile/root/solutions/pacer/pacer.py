"""Calls spaced at least a tenth of a second apart."""
import time


def pace(n):
    times = []
    for i in range(n):
        if i:
            time.sleep(0.1)
        times.append(time.monotonic())
    return times
