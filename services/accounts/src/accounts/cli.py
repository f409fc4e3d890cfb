"""``socialseed-accounts rotate-keys``: re-encrypt every stored token under the primary key.

Rotate by prepending a new key to ACCOUNTS_TOKEN_KEYS (keep the old ones), run this, then drop
the old keys once it finished.
"""

from __future__ import annotations

import argparse
import asyncio

from accounts.cipher import TokenCipher
from accounts.connections.repository import AccountRepository
from accounts.oauth.repository import OAuthStateRepository
from accounts.settings import AccountsSettings
from socialseed.console import CommandHelp, Step, step
from socialseed.db import Database

ROTATE_KEYS = (
    "Re-encrypt every stored token under the first key of ACCOUNTS_TOKEN_KEYS. Rotate by "
    "prepending a new key (keep the old ones), run this, then drop the old keys."
)


async def rotate_keys(
    settings: AccountsSettings, *, batch: int = 200, progress: Step | None = None
) -> int:
    """Re-encrypt all rows in batches (one transaction each). Returns rows rewritten;
    ``progress`` is told the total first, then each batch."""
    db = Database(settings.database_url, pool_size=4)
    cipher = TokenCipher(settings.token_keys)
    rewritten, after = 0, None
    try:
        if progress is not None:
            async with db.transaction() as session:
                progress.update(total=await AccountRepository(session).count_all())
        while True:
            async with db.transaction() as session:
                accounts = await AccountRepository(session).batch_after(after, batch)
                if not accounts:
                    break
                for account in accounts:
                    if account.access_token_enc is not None:
                        account.access_token_enc = cipher.rotate(account.access_token_enc)
                    if account.refresh_token_enc is not None:
                        account.refresh_token_enc = cipher.rotate(account.refresh_token_enc)
                    rewritten += 1
                after = accounts[-1].id
            if progress is not None:
                progress.update(advance=len(accounts))
        async with db.transaction() as session:
            for state in await OAuthStateRepository(session).with_verifier():
                assert state.code_verifier_enc is not None
                state.code_verifier_enc = cipher.rotate(state.code_verifier_enc)
    finally:
        await db.dispose()
    return rewritten


def parser() -> argparse.ArgumentParser:
    """The command line; every command has a one-line ``help``."""
    parser = argparse.ArgumentParser(
        prog="socialseed-accounts",
        formatter_class=CommandHelp,
        description="Maintenance of the accounts service's data.",
    )
    sub = parser.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")
    sub.add_parser(
        "rotate-keys",
        help="re-encrypt every stored token under the first key",
        description=ROTATE_KEYS,
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.command == "rotate-keys":
        with step("re-encrypting tokens under the first key") as progress:
            count = asyncio.run(rotate_keys(AccountsSettings(), progress=progress))
        print(f"re-encrypted {count} accounts")


if __name__ == "__main__":
    main()
