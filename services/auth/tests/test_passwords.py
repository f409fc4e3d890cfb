"""Password rules and Argon2id hashing (``auth.passwords``): what is refused and why, nothing
truncated, verification of an unknown account still spending a hash, and rehash on a change of
parameters."""

from __future__ import annotations

import pytest

from auth.passwords import MAX_LENGTH, MIN_LENGTH, Hasher, weakness
from auth.settings import AuthSettings

WHO = {"email": "ada.lovelace@example.com", "name": "Ada"}


def test_a_good_password_passes() -> None:
    assert weakness("correct horse battery staple", **WHO) is None
    assert weakness("ünïcødé pässwörd ✓", **WHO) is None


@pytest.mark.parametrize(
    ("password", "words"),
    [
        ("a" * (MIN_LENGTH - 1), "at least 8"),
        ("a" * (MAX_LENGTH + 1), "at most 1024"),
        ("password", "most common"),
        ("PassWord1", "most common"),  # the list is read without case
        ("ADA.LOVELACE@EXAMPLE.COM", "email or name"),
        ("ada.lovelace", "email or name"),
        ("adaadaada", None),  # the name inside a longer password is fine
    ],
)
def test_a_weak_password_is_refused_in_words(password: str, words: str | None) -> None:
    found = weakness(password, **WHO)
    if words is None:
        assert found is None
    else:
        assert found is not None and words in found


def test_the_bounds_are_inclusive() -> None:
    assert weakness("k" * 7 + "Z", **WHO) is None  # 8 characters
    assert weakness("kZ" * (MAX_LENGTH // 2), **WHO) is None  # 1024
    # the name counts only as the whole password
    assert weakness("Ada" * 3, email="x@example.com", name="Ada") is None
    assert weakness("adalovelace", email="x@example.com", name="AdaLovelace") is not None


@pytest.fixture(scope="module")
def hasher() -> Hasher:
    return Hasher(
        AuthSettings(dev_mode=True, argon2_time_cost=1, argon2_memory_kib=8, argon2_parallelism=1)
    )


async def test_passwords_past_72_bytes_are_not_truncated(hasher: Hasher) -> None:
    """bcrypt reads 72 bytes; Argon2 reads all of them."""
    long = "é" * 40 + "tail-one"  # 88 bytes in UTF-8
    stored = await hasher.hash(long)
    assert stored.startswith("$argon2id$")
    assert await hasher.verify(stored, long)
    assert not await hasher.verify(stored, "é" * 40 + "tail-two")
    assert not await hasher.verify(stored, "é" * 36)  # its first 72 bytes


async def test_an_unknown_account_or_a_broken_hash_never_verifies(hasher: Hasher) -> None:
    assert not await hasher.verify(None, "socialseed-timing-equaliser")  # the dummy's own
    assert not await hasher.verify("not-a-hash", "anything")


async def test_a_hash_of_weaker_parameters_is_rehashed(hasher: Hasher) -> None:
    stored = await hasher.hash("correct horse battery staple")
    assert not hasher.needs_rehash(stored)
    stronger = Hasher(
        AuthSettings(dev_mode=True, argon2_time_cost=2, argon2_memory_kib=8, argon2_parallelism=1)
    )
    assert stronger.needs_rehash(stored)
    assert await stronger.verify(stored, "correct horse battery staple")  # still accepted
