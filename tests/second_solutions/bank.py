"""A second correct bank, written differently from the reference: no lock per account, but one condition
guarding a set of accounts in use. A transfer claims both its accounts at once (so it can never hold one
and wait for the other) and moves the money after letting go of the condition's lock; total() stops new
transfers and waits for those in flight. It must get full marks, so the checks cannot demand one design."""
import threading


class InsufficientFunds(Exception):
    pass


class Bank:
    def __init__(self, balances: list[int]):
        self._balances = dict(enumerate(balances))
        # _changed's lock guards _in_use and _auditors (not the balances). A balance is touched only by
        # the one transfer that has its account in _in_use, or by total() once _in_use is empty and
        # _auditors keeps new transfers out. Transfers and total() wait on _changed for accounts to be
        # let go; whoever lets go (a transfer done, an audit done) notifies all.
        self._changed = threading.Condition()
        self._in_use: set[int] = set()
        self._auditors = 0

    def _account(self, account: int) -> int:
        if account not in self._balances:
            raise ValueError(f"there is no account {account!r}")
        return account

    def transfer(self, src: int, dst: int, amount: int) -> None:
        self._account(src)
        self._account(dst)
        if src == dst:
            raise ValueError("src and dst are the same account")
        if not amount > 0:
            raise ValueError(f"amount must be positive: {amount!r}")
        with self._changed:
            self._changed.wait_for(lambda: not self._auditors and not {src, dst} & self._in_use)
            self._in_use |= {src, dst}
        try:
            if amount > self._balances[src]:
                raise InsufficientFunds(f"{amount} from account {src}, which holds {self._balances[src]}")
            self._balances[src] = self._balances[src] - amount
            self._balances[dst] = self._balances[dst] + amount
        finally:
            with self._changed:
                self._in_use -= {src, dst}
                self._changed.notify_all()

    def balance(self, account: int) -> int:
        self._account(account)
        with self._changed:
            self._changed.wait_for(lambda: account not in self._in_use)
            return self._balances[account]

    def total(self) -> int:
        with self._changed:
            self._auditors += 1
            try:
                self._changed.wait_for(lambda: not self._in_use)
                return sum(self._balances.values())
            finally:
                self._auditors -= 1
                self._changed.notify_all()
