"""The token call (``socialseed.vault.call_with_token``): a token the platform refuses is
refreshed once and the call made again; nothing else is retried."""

from __future__ import annotations

import pytest

from socialseed.platforms import ErrorKind, Platform, PlatformError
from socialseed.vault import call_with_token


def refusal(kind: ErrorKind) -> PlatformError:
    return PlatformError(kind, "refused", platform=Platform.X, status=401)


class Platform401:
    """A platform that refuses the first ``refusals`` tokens it is shown (with ``kind``)."""

    def __init__(self, refusals: int, kind: ErrorKind = ErrorKind.REAUTH_REQUIRED) -> None:
        self.refusals, self.kind = refusals, kind
        self.fetched: list[bool] = []  # the ``force`` of each token asked for
        self.shown: list[str] = []

    async def fetch(self, force: bool) -> str:
        self.fetched.append(force)
        return f"token-{len(self.fetched)}"

    async def call(self, token: str) -> str:
        self.shown.append(token)
        if len(self.shown) <= self.refusals:
            raise refusal(self.kind)
        return f"answer with {token}"


async def test_an_accepted_token_is_used_once_and_never_refreshed() -> None:
    platform = Platform401(refusals=0)
    assert await call_with_token(platform.fetch, platform.call) == "answer with token-1"
    assert platform.fetched == [False]


async def test_a_refused_token_is_refreshed_and_the_call_made_once_more() -> None:
    platform = Platform401(refusals=1)
    assert await call_with_token(platform.fetch, platform.call) == "answer with token-2"
    assert platform.fetched == [False, True]
    assert platform.shown == ["token-1", "token-2"]


async def test_a_second_refusal_goes_to_the_caller_without_a_third_try() -> None:
    platform = Platform401(refusals=5)
    with pytest.raises(PlatformError) as raised:
        await call_with_token(platform.fetch, platform.call)
    assert raised.value.kind is ErrorKind.REAUTH_REQUIRED
    assert platform.fetched == [False, True]


@pytest.mark.parametrize(
    "kind",
    [ErrorKind.RATE_LIMITED, ErrorKind.TRANSIENT, ErrorKind.BAD_REQUEST, ErrorKind.PERMANENT],
)
async def test_other_platform_errors_are_not_retried(kind: ErrorKind) -> None:
    platform = Platform401(refusals=1, kind=kind)
    with pytest.raises(PlatformError) as raised:
        await call_with_token(platform.fetch, platform.call)
    assert raised.value.kind is kind
    assert platform.fetched == [False]
