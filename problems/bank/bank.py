"""A bank whose accounts many threads can transfer between at once. See README.md for what each method guarantees."""
import threading  # noqa: F401  (you will need it)


class InsufficientFunds(Exception):
    """Raised by transfer() when the source account holds less than the amount; nothing changes."""


class Bank:
    """Accounts numbered 0 to n - 1 that any number of threads can transfer between at once."""

    def __init__(self, balances: list[int]):
        """Open one account per entry of balances, holding that balance (keep your own copy of the list)."""
        raise NotImplementedError("__init__() is yours to write; see README.md")

    def transfer(self, src: int, dst: int, amount: int) -> None:
        """Move amount from account src to account dst, as one step that no other call can see half done.

        Transfers between different accounts run at the same time; transfers in opposite directions never deadlock.

        Raises:
            ValueError: src or dst is not an account number, src == dst, or amount <= 0. Nothing changes.
            InsufficientFunds: src holds less than amount. Nothing changes.
        """
        raise NotImplementedError("transfer() is yours to write; see README.md")

    def balance(self, account: int) -> int:
        """The balance of account now.

        Raises:
            ValueError: account is not an account number.
        """
        raise NotImplementedError("balance() is yours to write; see README.md")

    def total(self) -> int:
        """The sum of all balances, as one consistent snapshot: always the initial total, even while transfers run."""
        raise NotImplementedError("total() is yours to write; see README.md")
