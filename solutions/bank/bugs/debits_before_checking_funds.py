"""transfer() takes the money from the source first and raises InsufficientFunds if it went below zero,
without putting it back.

The refused transfer leaves the source account short (at -1, say): a failed transfer must change
nothing. Check first, then move.

Caught by: insufficient_funds_changes_nothing, stress_real_threads
"""
import contextlib
import threading


class InsufficientFunds(Exception):
    """Raised by transfer() when the source account holds less than the amount; nothing changes."""


class Bank:
    """Accounts numbered 0 to n - 1 that any number of threads can transfer between at once."""

    def __init__(self, balances: list[int]):
        """Open one account per entry of balances, holding that balance (keep your own copy of the list)."""
        self._balances = list(balances)
        # _locks[i] guards _balances[i]. Every caller that needs several takes them in increasing
        # account order (transfer() two, total() all), so no two callers ever wait for each other in
        # a cycle. Nobody waits for a balance to change, so there are no conditions and no notifies.
        self._locks = [threading.Lock() for _ in self._balances]

    def _check_account(self, account: int) -> None:
        if not 0 <= account < len(self._balances):
            raise ValueError(f"no account {account}: accounts are 0 to {len(self._balances) - 1}")

    def transfer(self, src: int, dst: int, amount: int) -> None:
        """Move amount from account src to account dst, as one step that no other call can see half done.

        Transfers between different accounts run at the same time; transfers in opposite directions never deadlock.

        Raises:
            ValueError: src or dst is not an account number, src == dst, or amount <= 0. Nothing changes.
            InsufficientFunds: src holds less than amount. Nothing changes.
        """
        self._check_account(src)
        self._check_account(dst)
        if src == dst:
            raise ValueError(f"cannot transfer from account {src} to itself")
        if amount <= 0:
            raise ValueError(f"the amount must be positive, not {amount}")
        first, second = min(src, dst), max(src, dst)  # lock order: the lower account number first
        with self._locks[first], self._locks[second]:
            # Check and move under both locks: nobody can take the money between the check and the move.
            self._balances[src] -= amount
            if self._balances[src] < 0:  # BUG: the money has already left src, and stays gone
                raise InsufficientFunds(f"account {src} holds {self._balances[src] + amount}, less than {amount}")
            self._balances[dst] += amount

    def balance(self, account: int) -> int:
        """The balance of account now.

        Raises:
            ValueError: account is not an account number.
        """
        self._check_account(account)
        with self._locks[account]:
            return self._balances[account]

    def total(self) -> int:
        """The sum of all balances, as one consistent snapshot: always the initial total, even while transfers run."""
        with contextlib.ExitStack() as held:
            for lock in self._locks:  # every account, in the same order as transfer() takes them
                held.enter_context(lock)
            return sum(self._balances)
