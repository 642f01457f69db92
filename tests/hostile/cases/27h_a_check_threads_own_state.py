import threading


class Tally:
    value = 0

    def add(self, n=1):
        worker = threading.current_thread()
        worker._target = None  # the check's own thread: its target and arguments are the check's state
        print(worker._args, worker._kwargs)
