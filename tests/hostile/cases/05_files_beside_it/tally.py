class Tally:
    value = 0

    def add(self, n=1):
        pass
