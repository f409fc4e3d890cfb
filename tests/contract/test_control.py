from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.testing import advance_clock as advance
from sandbox.testing import approve, pkce, redirect_uri


def test_healthz_and_clock(client: httpx.Client) -> None:
    assert client.get("/_sandbox/healthz").json() == {"status": "ok"}
    before = client.get("/_sandbox/clock").json()["ts"]
    advance(client, 3600)
    after = client.get("/_sandbox/clock").json()
    assert after["offset"] == 3600
    assert after["ts"] - before >= 3600


def x_token(client: httpx.Client, user: str = "alice") -> str:
    p = pkce()
    params = {
        "response_type": "code",
        "client_id": "socialseed-local",
        "redirect_uri": redirect_uri("x"),
        "scope": "tweet.read tweet.write users.read offline.access",
        "state": "s",
        "code_challenge": p.challenge,
        "code_challenge_method": "S256",
    }
    code = approve(client, "/x/i/oauth2/authorize", params, user)["code"]
    response = client.post(
        "/x/2/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri("x"),
            "code_verifier": p.verifier,
        },
        auth=("socialseed-local", "socialseed-local-secret"),
    )
    token: str = response.json()["access_token"]
    return token


def test_tokens_ledger_stats(client: httpx.Client) -> None:
    token = x_token(client)
    tokens = client.get("/_sandbox/tokens", params={"platform": "x"}).json()["tokens"]
    assert {t["kind"] for t in tokens} == {"access", "refresh"}
    assert token in {t["value"] for t in tokens}
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post("/x/2/tweets", headers=headers, json={"text": "ledger me"})
    entries = client.get("/_sandbox/ledger", params={"platform": "x", "account": "alice"}).json()
    assert entries["count"] == 1
    entry = entries["entries"][0]
    assert entry["platform_post_id"] == created.json()["data"]["id"]
    assert entry["text"] == "ledger me"
    assert entry["request"]["method"] == "POST" and entry["request"]["body"]["text"] == "ledger me"
    assert "authorization" not in str(entry["request"]).lower()
    seeded = client.get("/_sandbox/ledger", params={"include_seeded": "true"}).json()
    assert seeded["count"] > 1
    truth = client.get(f"/_sandbox/truth/x/{entry['platform_post_id']}").json()
    assert set(truth["metrics"]["public_metrics"]) >= {"like_count", "impression_count"}
    stats = client.get("/_sandbox/stats").json()["platforms"]["x"]
    assert stats["endpoints"]["POST /2/tweets"]["calls"] == 1


def test_a_post_deleted_in_the_app_is_gone_from_the_api(client: httpx.Client) -> None:
    token = x_token(client)
    headers = {"Authorization": f"Bearer {token}"}
    tweet = client.post("/x/2/tweets", headers=headers, json={"text": "soon gone"}).json()["data"]
    assert client.delete("/_sandbox/posts/x/nope").status_code == 404
    deleted = client.delete(f"/_sandbox/posts/x/{tweet['id']}")
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    lookup = client.get("/x/2/tweets", headers=headers, params={"ids": tweet["id"]}).json()
    assert "data" not in lookup and lookup["errors"][0]["title"] == "Not Found Error"
    assert client.get(f"/_sandbox/truth/x/{tweet['id']}").status_code == 200
    ledger = client.get("/_sandbox/ledger", params={"platform": "x"}).json()["entries"]
    assert ledger[0]["deleted"] is True


def test_stats_per_account(client: httpx.Client) -> None:
    """Calls are counted for the account whose token or code they carried, refused or not,
    and a connection dropped after the platform acted counts with the status it answered."""
    alice, bob = x_token(client, "alice"), x_token(client, "bob")
    for token in (alice, alice, bob):
        client.get("/x/2/users/me", headers={"Authorization": f"Bearer {token}"})
    client.post("/_sandbox/faults", json={"revoke_tokens": True, "platform": "x"})
    client.get("/x/2/users/me", headers={"Authorization": f"Bearer {bob}"})  # refused: 401
    client.post(
        "/_sandbox/faults",
        json={"platform": "x", "endpoint": "/2/oauth2/token", "drop_after_accept": True},
    )
    with pytest.raises(httpx.TransportError):
        x_token(client, "alice")

    def stats(account: str) -> dict[str, Any]:
        answer = client.get("/_sandbox/stats", params={"account": account}).json()
        return dict(answer["platforms"]["x"])

    mine = stats("alice")
    assert mine["endpoints"]["GET /2/users/me"] == {"calls": 2, "statuses": {"200": 2}}
    assert mine["endpoints"]["POST /2/oauth2/token"] == {"calls": 2, "statuses": {"200": 2}}
    assert mine["dropped"] == 1
    theirs = stats("bob")
    assert theirs["endpoints"]["GET /2/users/me"] == {"calls": 2, "statuses": {"200": 1, "401": 1}}
    assert theirs["endpoints"]["POST /2/oauth2/token"]["calls"] == 1
    assert theirs["dropped"] == 0
    total = client.get("/_sandbox/stats").json()["platforms"]["x"]["endpoints"]
    assert total["GET /2/users/me"]["calls"] == 4


def test_faults(client: httpx.Client) -> None:
    token = x_token(client)
    headers = {"Authorization": f"Bearer {token}"}
    client.post(
        "/_sandbox/faults", json={"platform": "x", "endpoint": "/2/users/me", "burst_429": 2}
    )
    assert client.get("/x/2/users/me", headers=headers).status_code == 429
    assert client.get("/x/2/users/me", headers=headers).status_code == 429
    assert client.get("/x/2/users/me", headers=headers).status_code == 200
    client.post(
        "/_sandbox/faults",
        json={"platform": "x", "endpoint": "/2/users/me", "error_rate": 1.0, "error_status": 503},
    )
    assert client.get("/x/2/users/me", headers=headers).status_code == 503
    client.delete("/_sandbox/faults")
    assert client.get("/x/2/users/me", headers=headers).status_code == 200
    assert client.get("/_sandbox/stats").json()["platforms"]["x"]["rate_limited"] == 2


def test_injected_x_429_carries_rate_limit_headers(client: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {x_token(client)}"}
    client.post(
        "/_sandbox/faults",
        json={"platform": "x", "endpoint": "/2/tweets", "burst_429": 1},  # headers by default
    )
    now = client.get("/_sandbox/clock").json()["ts"]
    burst = client.get("/x/2/tweets", headers=headers, params={"ids": "1"})
    assert burst.status_code == 429 and "retry-after" not in burst.headers
    assert burst.headers["x-rate-limit-limit"] == "5000"
    assert burst.headers["x-rate-limit-remaining"] == "0"
    assert now < int(burst.headers["x-rate-limit-reset"]) <= now + 15 * 60 + 1
    client.post(
        "/_sandbox/faults",
        json={
            "platform": "x",
            "endpoint": "/2/tweets",
            "burst_429": 1,
            "rate_limit_headers": False,
        },
    )
    bare = client.get("/x/2/tweets", headers=headers, params={"ids": "1"})
    assert bare.status_code == 429 and "x-rate-limit-reset" not in bare.headers


def test_stats_keys_name_the_method_once(client: httpx.Client) -> None:
    client.get("/instagram/refresh_access_token", params={"grant_type": "ig_refresh_token"})
    client.get("/facebook/v21.0/me", params={"access_token": "nope"})
    x_token(client)
    platforms = client.get("/_sandbox/stats").json()["platforms"]
    keys = {key for entry in platforms.values() for key in entry["endpoints"]}
    assert {"GET /refresh_access_token", "GET /me", "POST /2/oauth2/token"} <= keys
    for key in keys:
        method, path = key.split(" ")
        assert method in {"GET", "POST", "PUT", "DELETE"} and path.startswith("/"), key


def test_accepted_then_dropped(client: httpx.Client) -> None:
    token = x_token(client)
    client.post(
        "/_sandbox/faults",
        json={
            "platform": "x",
            "endpoint": "/2/tweets",
            "method": "POST",
            "drop_after_accept": True,
            "count": 1,
        },
    )
    with pytest.raises(httpx.TransportError):
        client.post(
            "/x/2/tweets", headers={"Authorization": f"Bearer {token}"}, json={"text": "in doubt"}
        )
    # The post exists although the client never heard back.
    ledger = client.get("/_sandbox/ledger", params={"platform": "x"}).json()
    assert [e["text"] for e in ledger["entries"]] == ["in doubt"]
    stats = client.get("/_sandbox/stats").json()["platforms"]["x"]
    assert stats["dropped"] == 1
    assert stats["endpoints"]["POST /2/tweets"]["statuses"] == {"201": 1}  # what it answered


def test_an_answer_held_after_the_platform_acted(client: httpx.Client) -> None:
    token = x_token(client)
    client.post(
        "/_sandbox/faults",
        json={
            "platform": "x",
            "endpoint": "/2/tweets",
            "method": "POST",
            "hold_answer_ms": 5000,
            "count": 1,
        },
    )
    # The caller gives up waiting; the post is there all the same.
    with pytest.raises(httpx.TimeoutException):
        client.post(
            "/x/2/tweets",
            headers={"Authorization": f"Bearer {token}"},
            json={"text": "held"},
            timeout=1,
        )
    ledger = client.get("/_sandbox/ledger", params={"platform": "x"}).json()
    assert [e["text"] for e in ledger["entries"]] == ["held"]


def test_fault_after_lets_the_first_calls_through(client: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {x_token(client)}"}
    client.post(
        "/_sandbox/faults",
        json={
            "platform": "x",
            "endpoint": "/2/users/me",
            "error_rate": 1.0,
            "after": 2,
            "count": 1,
        },
    )
    statuses = [client.get("/x/2/users/me", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 503, 200]


def test_timeout_and_latency(client: httpx.Client) -> None:
    token = x_token(client)
    headers = {"Authorization": f"Bearer {token}"}
    client.post(
        "/_sandbox/faults",
        json={
            "platform": "x",
            "endpoint": "/2/users/me",
            "timeout": True,
            "timeout_seconds": 0.5,
            "count": 1,
        },
    )
    with pytest.raises(httpx.TransportError):
        client.get("/x/2/users/me", headers=headers, timeout=5)
    stats = client.get("/_sandbox/stats").json()["platforms"]["x"]
    assert stats["endpoints"]["GET /2/users/me"]["statuses"] == {"0": 1}  # never answered
    assert stats["dropped"] == 1
    client.post("/_sandbox/faults", json={"platform": "x", "latency_ms": 200, "count": 1})
    response = client.get("/x/2/users/me", headers=headers)
    assert response.status_code == 200 and response.elapsed.total_seconds() >= 0.2


def test_revocation_fault(client: httpx.Client) -> None:
    token = x_token(client)
    client.post("/_sandbox/faults", json={"platform": "x", "revoke_tokens": True})
    response = client.get("/x/2/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_reset_forgets(client: httpx.Client) -> None:
    x_token(client)
    client.post("/_sandbox/reset")
    assert client.get("/_sandbox/tokens").json()["tokens"] == []
