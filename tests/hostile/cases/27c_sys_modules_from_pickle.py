import pickle

modules = pickle.loads(b"csys\nmodules\n.")  # sys.modules, with no sys in sight


class Tally:
    value = 0

    def add(self, n=1):
        pass
