import threading

class Tally
    pass
