"""A vault that opens."""


class Vault:
    async def open(self) -> int:
        """Return 42."""
        return 42
