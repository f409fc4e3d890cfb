from __future__ import annotations

from datetime import UTC, datetime

import httpx

from sandbox.testing import CLIENT_ID, CLIENT_SECRET, JPEG, MP4, approve, pkce, redirect_uri
from sandbox.testing import advance_clock as advance

AUTH = (CLIENT_ID, CLIENT_SECRET)
UNAUTHORIZED = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}


def authorize_params(
    challenge: str, scope: str = "tweet.read tweet.write users.read offline.access media.write"
) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": redirect_uri("x"),
        "scope": scope,
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


def connect(client: httpx.Client, user: str = "alice") -> dict[str, str]:
    p = pkce()
    callback = approve(client, "/x/i/oauth2/authorize", authorize_params(p.challenge), user)
    assert callback["state"] == "xyz"
    response = client.post(
        "/x/2/oauth2/token",
        auth=AUTH,
        data={
            "grant_type": "authorization_code",
            "code": callback["code"],
            "redirect_uri": redirect_uri("x"),
            "code_verifier": p.verifier,
        },
    )
    assert response.status_code == 200
    body: dict[str, str] = response.json()
    return body


def test_consent_page_and_denial(client: httpx.Client) -> None:
    p = pkce()
    page = client.get("/x/i/oauth2/authorize", params=authorize_params(p.challenge))
    assert page.status_code == 200 and "<form" in page.text and "Allow" in page.text
    form = {**authorize_params(p.challenge), "username": "bob", "decision": "allow"}
    allowed = client.post("/x/i/oauth2/authorize", data=form)
    assert allowed.status_code == 302 and "code=" in allowed.headers["location"]
    denied = client.get(
        "/x/i/oauth2/authorize", params={**authorize_params(p.challenge), "sandbox_deny": "1"}
    )
    assert "error=access_denied" in denied.headers["location"]


def test_pkce_mandatory_and_redirect_exact(client: httpx.Client) -> None:
    params = authorize_params("c")
    del params["code_challenge"]
    assert client.get("/x/i/oauth2/authorize", params=params).status_code == 400
    bad = {**authorize_params("c"), "redirect_uri": redirect_uri("x") + "/"}
    assert client.get("/x/i/oauth2/authorize", params=bad).status_code == 400
    other = {**authorize_params("c"), "client_id": "someone-else"}
    assert client.get("/x/i/oauth2/authorize", params=other).status_code == 400


def test_token_exchange_code_single_use_and_verifier(client: httpx.Client) -> None:
    p = pkce()
    code = approve(client, "/x/i/oauth2/authorize", authorize_params(p.challenge), "a")["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri("x"),
        "code_verifier": "wrong",
    }
    bad = client.post("/x/2/oauth2/token", auth=AUTH, data=form)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_request"
    ok = client.post("/x/2/oauth2/token", auth=AUTH, data={**form, "code_verifier": p.verifier})
    body = ok.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 7200
    assert set(body) == {"token_type", "expires_in", "access_token", "scope", "refresh_token"}
    again = client.post("/x/2/oauth2/token", auth=AUTH, data={**form, "code_verifier": p.verifier})
    assert again.status_code == 400
    no_basic = client.post("/x/2/oauth2/token", data={**form, "client_id": CLIENT_ID})
    assert no_basic.status_code == 401


def test_code_expires_after_30s(client: httpx.Client) -> None:
    p = pkce()
    code = approve(client, "/x/i/oauth2/authorize", authorize_params(p.challenge), "a")["code"]
    advance(client, 31)
    response = client.post(
        "/x/2/oauth2/token",
        auth=AUTH,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri("x"),
            "code_verifier": p.verifier,
        },
    )
    assert response.status_code == 400


def test_no_refresh_without_offline_access(client: httpx.Client) -> None:
    p = pkce()
    params = authorize_params(p.challenge, "tweet.read users.read")
    code = approve(client, "/x/i/oauth2/authorize", params, "a")["code"]
    body = client.post(
        "/x/2/oauth2/token",
        auth=AUTH,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri("x"),
            "code_verifier": p.verifier,
        },
    ).json()
    assert "refresh_token" not in body


def test_expiry_and_rotating_refresh(client: httpx.Client) -> None:
    tokens = connect(client)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = client.get("/x/2/users/me", headers=headers)
    assert me.json()["data"]["username"] == "alice"
    assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= set(me.headers)
    advance(client, 7201)
    expired = client.get("/x/2/users/me", headers=headers)
    assert expired.status_code == 401 and expired.json() == UNAUTHORIZED
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    new = client.post("/x/2/oauth2/token", auth=AUTH, data=refresh).json()
    assert new["refresh_token"] != tokens["refresh_token"]
    reused = client.post("/x/2/oauth2/token", auth=AUTH, data=refresh)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_request"
    headers = {"Authorization": f"Bearer {new['access_token']}"}
    assert client.get("/x/2/users/me", headers=headers).status_code == 200
    client.post("/x/2/oauth2/revoke", auth=AUTH, data={"token": new["access_token"]})
    assert client.get("/x/2/users/me", headers=headers).json() == UNAUTHORIZED


def test_tweet_duplicate_and_metrics(client: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {connect(client)['access_token']}"}
    created = client.post("/x/2/tweets", headers=headers, json={"text": "Hello sandbox"})
    assert created.status_code == 201
    data = created.json()["data"]
    assert data["edit_history_tweet_ids"] == [data["id"]]
    dup = client.post("/x/2/tweets", headers=headers, json={"text": "Hello sandbox"})
    assert dup.status_code == 403
    assert dup.json()["detail"] == "You are not allowed to create a Tweet with duplicate content."
    advance(client, 3600)
    ids = f"{data['id']},1,{data['id']}"
    lookup = client.get(
        "/x/2/tweets",
        headers=headers,
        params={"ids": ids, "tweet.fields": "public_metrics,non_public_metrics,created_at"},
    )
    body = lookup.json()
    assert lookup.status_code == 200
    assert body["errors"][0]["title"] == "Not Found Error"
    assert body["errors"][0]["parameter"] == "ids" and body["errors"][0]["resource_id"] == "1"
    truth = client.get(f"/_sandbox/truth/x/{data['id']}").json()["metrics"]
    assert body["data"][0]["public_metrics"] == truth["public_metrics"]
    assert body["data"][0]["public_metrics"]["impression_count"] > 0
    assert body["data"][0]["non_public_metrics"] == truth["non_public_metrics"]
    too_many = client.get(
        "/x/2/tweets", headers=headers, params={"ids": ",".join(str(i) for i in range(1, 102))}
    )
    assert too_many.status_code == 400


def test_private_metrics_only_30_days(client: httpx.Client) -> None:
    """With private metrics asked for, X returns only the caller's own tweets of the last 30
    days: a lookup refuses the others per tweet (left out of ``data``, one error each), a
    timeline of one's own tweets adjusts to the last 30 days."""
    tokens = connect(client)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = client.get("/x/2/users/me", headers=headers).json()["data"]
    everything = client.get(
        f"/x/2/users/{me['id']}/tweets",
        headers=headers,
        params={"tweet.fields": "public_metrics", "max_results": 100},
    ).json()
    assert len(everything["data"]) == 5  # seeded history (1, 3, 8, 20 and 45 days old)
    ids = [t["id"] for t in everything["data"]]

    timeline = client.get(
        f"/x/2/users/{me['id']}/tweets",
        headers=headers,
        params={"tweet.fields": "non_public_metrics", "max_results": 100},
    ).json()
    assert [t["id"] for t in timeline["data"]] == ids[:4]
    assert all("non_public_metrics" in t for t in timeline["data"]) and "errors" not in timeline
    assert timeline["meta"]["result_count"] == 4

    bob = connect(client, "bob")
    bobs = client.get(
        "/x/2/tweets",
        headers={"Authorization": f"Bearer {bob['access_token']}"},
        params={"ids": ids[0], "tweet.fields": "public_metrics"},
    ).json()
    assert bobs["data"][0]["public_metrics"]  # anyone's public metrics can be read

    lookup = client.get(
        "/x/2/tweets",
        headers=headers,
        params={"ids": ",".join(ids), "tweet.fields": "public_metrics,non_public_metrics"},
    ).json()
    assert [t["id"] for t in lookup["data"]] == ids[:4]
    (error,) = lookup["errors"]
    assert error["resource_id"] == ids[4] and error["field"] == "non_public_metrics"
    assert error["type"] == "https://api.twitter.com/2/problems/not-authorized-for-field"

    not_mine = client.get(
        "/x/2/tweets",
        headers={"Authorization": f"Bearer {bob['access_token']}"},
        params={"ids": ids[0], "tweet.fields": "non_public_metrics"},
    ).json()
    assert "data" not in not_mine and not_mine["errors"][0]["resource_id"] == ids[0]
    single = client.get(
        f"/x/2/tweets/{ids[4]}", headers=headers, params={"tweet.fields": "non_public_metrics"}
    ).json()
    assert "data" not in single and single["errors"][0]["field"] == "non_public_metrics"


def test_media_upload_and_limits(client: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {connect(client)['access_token']}"}
    init = client.post(
        "/x/2/media/upload/initialize",
        headers=headers,
        json={
            "media_type": "image/jpeg",
            "total_bytes": len(JPEG),
            "media_category": "tweet_image",
        },
    )
    media_id = init.json()["data"]["id"]
    client.post(
        f"/x/2/media/upload/{media_id}/append",
        headers=headers,
        files={"media": ("a.jpg", JPEG)},
        data={"segment_index": "0"},
    )
    final = client.post(f"/x/2/media/upload/{media_id}/finalize", headers=headers)
    assert final.status_code == 200 and "processing_info" not in final.json()["data"]
    tweet = client.post(
        "/x/2/tweets", headers=headers, json={"text": "pic", "media": {"media_ids": [media_id]}}
    )
    assert tweet.status_code == 201
    big = client.post(
        "/x/2/media/upload/initialize",
        headers=headers,
        json={"media_type": "image/jpeg", "total_bytes": 6 * 1024 * 1024},
    )
    assert big.status_code == 400


def test_tweet_cap_15_minutes(client: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {connect(client)['access_token']}"}
    for i in range(100):
        assert (
            client.post("/x/2/tweets", headers=headers, json={"text": f"n{i}"}).status_code == 201
        )
    over = client.post("/x/2/tweets", headers=headers, json={"text": "one more"})
    assert over.status_code == 429 and over.headers["x-rate-limit-remaining"] == "0"
    assert "retry-after" not in over.headers
    advance(client, 15 * 60 + 1)
    assert client.post("/x/2/tweets", headers=headers, json={"text": "later"}).status_code == 201


def test_timeline_since_start_time_with_conversations_and_media_keys(
    client: httpx.Client,
) -> None:
    token = connect(client)["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    user_id = client.get("/x/2/users/me", headers=headers).json()["data"]["id"]
    now = client.get("/_sandbox/clock").json()["ts"]
    since = datetime.fromtimestamp(now - 1, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    media = client.post(
        "/x/2/media/upload",
        headers=headers,
        files={"media": ("a.jpg", JPEG, "image/jpeg")},
    ).json()["data"]
    root = client.post(
        "/x/2/tweets",
        headers=headers,
        json={"text": "root", "media": {"media_ids": [media["id"]]}},
    ).json()["data"]["id"]
    reply = client.post(
        "/x/2/tweets",
        headers=headers,
        json={"text": "reply", "reply": {"in_reply_to_tweet_id": root}},
    ).json()["data"]["id"]
    fields = {"tweet.fields": "conversation_id,referenced_tweets,attachments", "max_results": "5"}
    timeline = client.get(
        f"/x/2/users/{user_id}/tweets", headers=headers, params={**fields, "start_time": since}
    ).json()
    tweets = {t["id"]: t for t in timeline["data"]}
    assert set(tweets) == {root, reply}  # seeded history is older
    assert tweets[root]["conversation_id"] == tweets[reply]["conversation_id"] == root
    assert tweets[reply]["referenced_tweets"] == [{"type": "replied_to", "id": root}]
    assert tweets[root]["attachments"] == {"media_keys": [media["media_key"]]}
    assert "referenced_tweets" not in tweets[root] and "attachments" not in tweets[reply]
    bad = client.get(
        f"/x/2/users/{user_id}/tweets", headers=headers, params={"start_time": "yesterday"}
    )
    assert bad.status_code == 400


def upload(client: httpx.Client, headers: dict[str, str], data: bytes, media_type: str) -> str:
    """Chunked upload (initialize, one append, finalize); the media id."""
    category = "tweet_video" if media_type.startswith("video/") else "tweet_image"
    init = client.post(
        "/x/2/media/upload/initialize",
        headers=headers,
        json={"media_type": media_type, "total_bytes": len(data), "media_category": category},
    )
    media_id: str = init.json()["data"]["id"]
    client.post(
        f"/x/2/media/upload/{media_id}/append",
        headers=headers,
        files={"media": ("f", data)},
        data={"segment_index": "0"},
    )
    client.post(f"/x/2/media/upload/{media_id}/finalize", headers=headers)
    return media_id


def test_replies_carry_conversation_and_referenced_tweets(client: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {connect(client)['access_token']}"}
    root = client.post("/x/2/tweets", headers=headers, json={"text": "1/3"}).json()["data"]["id"]
    reply = client.post(
        "/x/2/tweets",
        headers=headers,
        json={"text": "2/3", "reply": {"in_reply_to_tweet_id": root}},
    ).json()["data"]["id"]
    last = client.post(
        "/x/2/tweets",
        headers=headers,
        json={"text": "3/3", "reply": {"in_reply_to_tweet_id": reply}},
    ).json()["data"]["id"]
    fields = "conversation_id,referenced_tweets,in_reply_to_user_id,author_id"
    found = client.get(
        "/x/2/tweets",
        headers=headers,
        params={"ids": f"{root},{reply},{last}", "tweet.fields": fields},
    ).json()["data"]
    by_id = {t["id"]: t for t in found}
    assert {t["conversation_id"] for t in found} == {root}
    assert "referenced_tweets" not in by_id[root]
    assert by_id[reply]["referenced_tweets"] == [{"type": "replied_to", "id": root}]
    assert by_id[last]["referenced_tweets"] == [{"type": "replied_to", "id": reply}]
    assert by_id[last]["in_reply_to_user_id"] == by_id[root]["author_id"]
    plain = client.get(f"/x/2/tweets/{last}", headers=headers).json()["data"]
    assert set(plain) == {"id", "text", "edit_history_tweet_ids"}  # only what was asked for


def test_media_keys_when_asked_for(client: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {connect(client)['access_token']}"}
    media_id = upload(client, headers, JPEG, "image/jpeg")
    tweet = client.post(
        "/x/2/tweets", headers=headers, json={"text": "pic", "media": {"media_ids": [media_id]}}
    ).json()["data"]["id"]
    key = client.get(
        "/x/2/media/upload", headers=headers, params={"command": "STATUS", "media_id": media_id}
    ).json()["data"]["media_key"]
    bare = client.get(f"/x/2/tweets/{tweet}", headers=headers).json()
    assert "attachments" not in bare["data"] and "includes" not in bare
    asked = client.get(
        f"/x/2/tweets/{tweet}", headers=headers, params={"tweet.fields": "attachments"}
    ).json()
    assert asked["data"]["attachments"] == {"media_keys": [key]}
    expanded = client.get(
        "/x/2/tweets",
        headers=headers,
        params={"ids": tweet, "expansions": "attachments.media_keys"},
    ).json()
    assert expanded["data"][0]["attachments"] == {"media_keys": [key]}
    assert expanded["includes"]["media"] == [{"media_key": key, "type": "photo"}]


def test_text_limit_is_the_weighted_length(client: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {connect(client)['access_token']}"}

    def status(text: str) -> int:
        return client.post("/x/2/tweets", headers=headers, json={"text": text}).status_code

    assert status("日" * 140) == 201  # CJK weighs 2: 280
    assert status("本" * 141) == 400  # 282
    long_url = "https://example.com/" + "p" * 300  # any URL counts 23
    assert status("a" * 256 + " " + long_url) == 201  # 256 + 1 + 23 = 280
    assert status("b" * 257 + " " + long_url) == 400
    assert status("é" * 280) == 201  # Latin with accents weighs 1
    assert status("👍" * 140) == 201 and status("🎉" * 141) == 400
    assert status("👨‍👩‍👧" * 140) == 201  # a ZWJ family is one emoji: 2


def test_media_processing_can_fail(client: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {connect(client)['access_token']}"}
    client.post(
        "/_sandbox/faults",
        json={
            "platform": "x",
            "endpoint": "/2/media/upload/*/finalize",
            "fail_processing": True,
            "count": 1,
        },
    )
    failed = upload(client, headers, MP4, "video/mp4")
    fine = upload(client, headers, MP4, "video/mp4")  # the fault was for one call
    advance(client, 11)

    def info(media_id: str) -> dict[str, object]:
        data = client.get(
            "/x/2/media/upload", headers=headers, params={"command": "STATUS", "media_id": media_id}
        ).json()["data"]
        result: dict[str, object] = data["processing_info"]
        return result

    assert info(failed)["state"] == "failed"
    assert info(failed)["error"] == {
        "code": 1,
        "name": "InvalidMedia",
        "message": "Invalid or Unsupported media, Reason: UnsupportedMedia.",
    }
    assert info(fine)["state"] == "succeeded"
    refused = client.post(
        "/x/2/tweets", headers=headers, json={"text": "v", "media": {"media_ids": [failed]}}
    )
    assert refused.status_code == 400
