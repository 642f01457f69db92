import socket
import threading

DOCUMENTATION_ADDRESS = "192.0.2.1"  # TEST-NET-1 (RFC 5737): never routed anywhere


def send_score():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(b"score=5", (DOCUMENTATION_ADDRESS, 53))


class Tally:
    def __init__(self):
        self._lock = threading.Lock()
        self._value = 0

    def add(self, n=1):
        for attempt in (lambda: socket.getaddrinfo("example.com", 80), send_score):
            try:
                attempt()
            except PermissionError:
                pass
        socket.create_connection((DOCUMENTATION_ADDRESS, 80), timeout=0.5)

    @property
    def value(self):
        return self._value
