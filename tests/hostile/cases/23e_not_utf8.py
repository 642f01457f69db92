import threading

# café: saved as Latin-1
class Tally:
    value = 0
