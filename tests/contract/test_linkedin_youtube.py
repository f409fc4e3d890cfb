from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from sandbox.testing import (
    CLIENT_ID,
    CLIENT_SECRET,
    JPEG,
    MP4,
    SandboxFactory,
    approve,
    redirect_uri,
)
from sandbox.testing import advance_clock as advance

DAY = 86_400

LI_SCOPES = "openid profile w_member_social r_organization_social r_member_postAnalytics"


def li_connect(client: httpx.Client, user: str = "lena") -> dict[str, str]:
    code = approve(
        client,
        "/linkedin/oauth/v2/authorization",
        {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "state": "s",
            "redirect_uri": redirect_uri("linkedin"),
            "scope": LI_SCOPES,
        },
        user,
    )["code"]
    body: dict[str, str] = client.post(
        "/linkedin/oauth/v2/accessToken",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uri": redirect_uri("linkedin"),
        },
    ).json()
    return body


def month(delta: int) -> str:
    """``YYYYMM`` ``delta`` months from the current one (the sandbox clock is not advanced)."""
    now = datetime.now(UTC)
    index = now.year * 12 + now.month - 1 + delta
    return f"{index // 12}{index % 12 + 1:02d}"


def rest(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "LinkedIn-Version": month(0),
        "X-Restli-Protocol-Version": "2.0.0",
    }


def test_linkedin_oauth_no_refresh(client: httpx.Client) -> None:
    tokens = li_connect(client)
    assert tokens["expires_in"] == 5_184_000 and "refresh_token" not in tokens
    info = client.get(
        "/linkedin/v2/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).json()
    assert info["given_name"] == "Lena" and info["sub"]
    refresh = client.post(
        "/linkedin/oauth/v2/accessToken",
        data={
            "grant_type": "refresh_token",
            "refresh_token": "x",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    assert refresh.status_code == 400
    advance(client, 5_184_001)
    expired = client.get(
        "/linkedin/v2/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert expired.status_code == 401 and expired.json()["serviceErrorCode"] == 65600


def test_linkedin_partner_refresh_does_not_rotate(sandbox_with: SandboxFactory) -> None:
    c = sandbox_with(linkedin_refresh_tokens=True)
    tokens = li_connect(c)
    assert tokens["refresh_token_expires_in"] == 365 * DAY
    form = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    advance(c, 59 * DAY)
    day59 = c.post("/linkedin/oauth/v2/accessToken", data=form).json()
    # LinkedIn's own example: refreshed on day 59, the refresh token has 306 days left.
    assert day59["refresh_token"] == tokens["refresh_token"]
    assert 306 * DAY - 5 <= day59["refresh_token_expires_in"] <= 306 * DAY
    assert day59["expires_in"] == 60 * DAY and day59["access_token"] != tokens["access_token"]
    advance(c, 300 * DAY)
    again = c.post("/linkedin/oauth/v2/accessToken", data=form).json()
    assert again["refresh_token"] == tokens["refresh_token"]
    assert again["refresh_token_expires_in"] <= 6 * DAY
    advance(c, 6 * DAY)
    expired = c.post("/linkedin/oauth/v2/accessToken", data=form)
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_request"


def test_linkedin_revoked(client: httpx.Client) -> None:
    token = li_connect(client)["access_token"]
    client.post(
        "/linkedin/oauth/v2/revoke",
        data={"token": token, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    )
    revoked = client.get("/linkedin/v2/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert revoked.json()["serviceErrorCode"] == 65601


def test_linkedin_versions_image_post_duplicate(client: httpx.Client) -> None:
    token = li_connect(client)["access_token"]
    me = client.get("/linkedin/v2/userinfo", headers={"Authorization": f"Bearer {token}"})
    author = f"urn:li:person:{me.json()['sub']}"
    missing = client.post(
        "/linkedin/rest/posts", headers={"Authorization": f"Bearer {token}"}, json={}
    )
    assert missing.status_code == 400 and missing.json()["code"] == "VERSION_MISSING"
    for version in ("202001", month(1), month(-12)):  # sunset, not released yet, sunset
        refused = client.post(
            "/linkedin/rest/posts", headers={**rest(token), "LinkedIn-Version": version}, json={}
        )
        assert refused.status_code == 426 and refused.json()["code"] == "NONEXISTENT_VERSION"
    for version in (month(0), month(-11), month(-3) + ".20"):  # the window, and YYYYMM.RR
        accepted = client.get(
            "/linkedin/rest/organizationAcls",
            params={"q": "roleAssignee"},
            headers={**rest(token), "LinkedIn-Version": version},
        )
        assert accepted.status_code == 200, version
    init = client.post(
        "/linkedin/rest/images",
        params={"action": "initializeUpload"},
        headers=rest(token),
        json={"initializeUploadRequest": {"owner": author}},
    ).json()["value"]
    assert (
        client.put(
            init["uploadUrl"], content=JPEG, headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 201
    )
    image = f"/linkedin/rest/images/{init['image']}"
    assert client.get(image, headers=rest(token)).json()["status"] == "PROCESSING"
    advance(client, 11)
    assert client.get(image, headers=rest(token)).json()["status"] == "AVAILABLE"
    body = {
        "author": author,
        "commentary": "Hello LinkedIn",
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED"},
        "lifecycleState": "PUBLISHED",
        "content": {"media": {"id": init["image"]}},
    }
    created = client.post("/linkedin/rest/posts", headers=rest(token), json=body)
    assert created.status_code == 201 and created.content == b""
    urn = created.headers["x-restli-id"]
    assert urn.startswith("urn:li:share:")
    dup = client.post("/linkedin/rest/posts", headers=rest(token), json=body)
    assert dup.status_code == 422 and urn in dup.json()["message"]
    advance(client, 601)
    assert client.post("/linkedin/rest/posts", headers=rest(token), json=body).status_code == 201
    actions = client.get(f"/linkedin/rest/socialActions/{urn}", headers=rest(token)).json()
    assert "totalLikes" in actions["likesSummary"]


def test_linkedin_org_statistics(client: httpx.Client) -> None:
    token = li_connect(client)["access_token"]
    acls = client.get(
        "/linkedin/rest/organizationAcls", params={"q": "roleAssignee"}, headers=rest(token)
    ).json()
    org = acls["elements"][0]["organization"]
    stats = client.get(
        "/linkedin/rest/organizationalEntityShareStatistics",
        params={"q": "organizationalEntity", "organizationalEntity": org},
        headers=rest(token),
    ).json()
    totals = stats["elements"][0]["totalShareStatistics"]
    assert totals["impressionCount"] > 0 and "uniqueImpressionsCount" in totals


GOOGLE = "https://www.googleapis.com/auth/"
YT_SCOPES = f"{GOOGLE}youtube.upload {GOOGLE}youtube.readonly {GOOGLE}yt-analytics.readonly"


def yt_connect(client: httpx.Client, user: str = "yuri") -> dict[str, str]:
    code = approve(
        client,
        "/youtube/o/oauth2/v2/auth",
        {
            "client_id": CLIENT_ID,
            "redirect_uri": redirect_uri("youtube"),
            "response_type": "code",
            "scope": YT_SCOPES,
            "access_type": "offline",
            "prompt": "consent",
            "state": "s",
        },
        user,
    )["code"]
    body: dict[str, str] = client.post(
        "/youtube/token",
        data={
            "code": code,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uri": redirect_uri("youtube"),
            "grant_type": "authorization_code",
        },
    ).json()
    return body


def test_google_tokens(client: httpx.Client) -> None:
    tokens = yt_connect(client)
    assert tokens["expires_in"] == 3599 and tokens["refresh_token"]
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    channel = client.get(
        "/youtube/youtube/v3/channels",
        headers=headers,
        params={"part": "snippet,statistics,contentDetails", "mine": "true"},
    )
    item = channel.json()["items"][0]
    assert item["id"].startswith("UC") and isinstance(item["statistics"]["videoCount"], str)
    advance(client, 3600)
    expired = client.get(
        "/youtube/youtube/v3/channels", headers=headers, params={"part": "id", "mine": "true"}
    )
    assert expired.status_code == 401
    assert expired.json()["error"]["errors"][0]["reason"] == "authError"
    form = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    first = client.post("/youtube/token", data=form).json()
    second = client.post("/youtube/token", data=form).json()
    assert "refresh_token" not in first and second["access_token"] != first["access_token"]
    client.post("/youtube/revoke", params={"token": tokens["refresh_token"]})
    assert client.post("/youtube/token", data=form).json() == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }


def test_channel_subscribers_are_rounded_or_hidden(client: httpx.Client) -> None:
    """Subscriber counts above 1,000 come rounded down to three significant figures; a channel
    whose owner hides them says so and gives no count."""

    def statistics() -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {yt_connect(client)['access_token']}"}
        answer = client.get(
            "/youtube/youtube/v3/channels",
            headers=headers,
            params={"part": "statistics", "mine": "true"},
        )
        stats: dict[str, Any] = answer.json()["items"][0]["statistics"]
        return stats

    def is_rounded(count: int) -> bool:
        return count < 1_000 or str(count)[3:] == "0" * (len(str(count)) - 3)

    shown = statistics()
    assert shown["hiddenSubscriberCount"] is False
    assert is_rounded(int(shown["subscriberCount"]))
    advance(client, 3 * 365 * 86_400)  # at least a follower a day: past 1,000 whatever the seed
    grown = int(statistics()["subscriberCount"])
    assert grown >= 1_000 and is_rounded(grown)
    assert client.put("/_sandbox/youtube/channels/nobody", json={}).status_code == 404
    hide = client.put("/_sandbox/youtube/channels/yuri", json={"hidden_subscriber_count": True})
    assert hide.status_code == 200
    hidden = statistics()
    assert hidden["hiddenSubscriberCount"] is True and "subscriberCount" not in hidden


def test_resumable_upload_and_statistics(client: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {yt_connect(client)['access_token']}"}
    video = MP4 + b"\x00" * (300 * 1024)
    start = client.post(
        "/youtube/upload/youtube/v3/videos",
        headers={
            **headers,
            "X-Upload-Content-Length": str(len(video)),
            "X-Upload-Content-Type": "video/mp4",
        },
        params={"uploadType": "resumable", "part": "snippet,status"},
        json={"snippet": {"title": "My video"}, "status": {"privacyStatus": "public"}},
    )
    session = start.headers["location"]
    chunk = 256 * 1024
    part = client.put(
        session,
        headers={**headers, "Content-Range": f"bytes 0-{chunk - 1}/{len(video)}"},
        content=video[:chunk],
    )
    assert part.status_code == 308 and part.headers["range"] == f"bytes=0-{chunk - 1}"
    probe = client.put(session, headers={**headers, "Content-Range": f"bytes */{len(video)}"})
    assert probe.status_code == 308
    done = client.put(
        session,
        headers={**headers, "Content-Range": f"bytes {chunk}-{len(video) - 1}/{len(video)}"},
        content=video[chunk:],
    )
    assert done.status_code == 200
    video_id = done.json()["id"]
    assert (
        len(client.get("/_sandbox/ledger", params={"platform": "youtube"}).json()["entries"]) == 1
    )
    status = client.get(
        "/youtube/youtube/v3/videos",
        headers=headers,
        params={"part": "status,processingDetails", "id": video_id},
    ).json()["items"][0]
    assert status["processingDetails"]["processingStatus"] == "processing"
    advance(client, 1800)
    stats = client.get(
        "/youtube/youtube/v3/videos",
        headers=headers,
        params={"part": "statistics", "id": f"{video_id},missing"},
    ).json()["items"]
    assert len(stats) == 1 and isinstance(stats[0]["statistics"]["viewCount"], str)
    truth = client.get(f"/_sandbox/truth/youtube/{video_id}").json()["metrics"]
    assert stats[0]["statistics"] == truth["statistics"]
    too_many = client.get(
        "/youtube/youtube/v3/videos",
        headers=headers,
        params={"part": "statistics", "id": ",".join(str(i) for i in range(51))},
    )
    assert too_many.status_code == 400
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    report = client.get(
        "/youtube/v2/reports",
        headers=headers,
        params={
            "ids": "channel==MINE",
            "startDate": "2026-01-01",
            "endDate": today,
            "metrics": "views,likes",
            "dimensions": "day",
        },
    ).json()
    assert [h["name"] for h in report["columnHeaders"]] == ["day", "views", "likes"]
    assert report["rows"]


def test_youtube_quota(sandbox_with: SandboxFactory) -> None:
    c = sandbox_with(youtube_daily_quota=3)
    headers = {"Authorization": f"Bearer {yt_connect(c)['access_token']}"}
    codes = [
        c.get(
            "/youtube/youtube/v3/channels", headers=headers, params={"part": "id", "mine": "true"}
        ).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 403]
    over = c.get(
        "/youtube/youtube/v3/channels", headers=headers, params={"part": "id", "mine": "true"}
    ).json()
    assert over["error"]["errors"][0]["reason"] == "quotaExceeded"
    # 403 quotaExceeded counts as a rate limit in the stats.
    stats = c.get("/_sandbox/stats").json()["platforms"]["youtube"]
    assert stats["rate_limited"] == 2


def test_youtube_burst_is_429_and_costs_no_quota(sandbox_with: SandboxFactory) -> None:
    c = sandbox_with(youtube_calls_per_minute=2, youtube_daily_quota=3)
    headers = {"Authorization": f"Bearer {yt_connect(c)['access_token']}"}

    def channels() -> httpx.Response:
        params = {"part": "id", "mine": "true"}
        return c.get("/youtube/youtube/v3/channels", headers=headers, params=params)

    assert [channels().status_code for _ in range(3)] == [200, 200, 429]
    burst = channels()
    assert burst.json()["error"]["errors"][0]["reason"] == "rateLimitExceeded"
    assert "retry-after" not in burst.headers
    advance(c, 61)  # a new minute; the two refused calls cost no units
    assert channels().status_code == 200
    assert channels().json()["error"]["errors"][0]["reason"] == "quotaExceeded"


def test_linkedin_video_upload_in_parts(sandbox_with: SandboxFactory) -> None:
    c = sandbox_with(linkedin_video_part_bytes=4096)
    token = li_connect(c)["access_token"]
    author = f"urn:li:person:{c.get('/linkedin/v2/userinfo', headers=rest(token)).json()['sub']}"
    video = MP4 + b"\x00" * (10_000 - len(MP4))

    def initialize(size: int) -> dict[str, Any]:
        body = {"initializeUploadRequest": {"owner": author, "fileSizeBytes": size}}
        response = c.post(
            "/linkedin/rest/videos",
            params={"action": "initializeUpload"},
            headers=rest(token),
            json=body,
        )
        value: dict[str, Any] = response.json()["value"]
        return value

    def upload(init: dict[str, Any], data: bytes) -> list[str]:
        etags = []
        for part in init["uploadInstructions"]:
            chunk = data[part["firstByte"] : part["lastByte"] + 1]
            put = c.put(
                part["uploadUrl"], content=chunk, headers={"Authorization": f"Bearer {token}"}
            )
            assert put.status_code == 200
            etags.append(put.headers["etag"])
        return etags

    def finalize(init: dict[str, Any], etags: list[str]) -> httpx.Response:
        request = {
            "video": init["video"],
            "uploadToken": init["uploadToken"],
            "uploadedPartIds": etags,
        }
        return c.post(
            "/linkedin/rest/videos",
            params={"action": "finalizeUpload"},
            headers=rest(token),
            json={"finalizeUploadRequest": request},
        )

    init = initialize(len(video))
    assert init["video"].startswith("urn:li:video:")
    assert [(p["firstByte"], p["lastByte"]) for p in init["uploadInstructions"]] == [
        (0, 4095),
        (4096, 8191),
        (8192, 9999),
    ]
    status = f"/linkedin/rest/videos/{init['video']}"
    assert c.get(status, headers=rest(token)).json()["status"] == "WAITING_UPLOAD"
    etags = upload(init, video)
    assert finalize(init, etags[::-1]).status_code == 400  # parts named out of order
    assert finalize(init, etags).status_code == 200
    assert c.get(status, headers=rest(token)).json()["status"] == "PROCESSING"
    post = {
        "author": author,
        "commentary": "Watch this",
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED"},
        "lifecycleState": "PUBLISHED",
        "content": {"media": {"id": init["video"]}},
    }
    assert c.post("/linkedin/rest/posts", headers=rest(token), json=post).status_code == 422
    advance(c, 11)
    assert c.get(status, headers=rest(token)).json()["status"] == "AVAILABLE"
    created = c.post("/linkedin/rest/posts", headers=rest(token), json=post)
    assert created.status_code == 201 and created.headers["x-restli-id"].startswith("urn:li:share:")
    ledger = c.get("/_sandbox/ledger", params={"platform": "linkedin"}).json()["entries"]
    assert ledger[0]["media"][0]["format"] == "mp4"
    # Not an MP4 by its magic bytes: processing fails and it cannot be posted.
    jpeg = initialize(len(JPEG))
    assert finalize(jpeg, upload(jpeg, JPEG)).status_code == 200
    advance(c, 11)
    failed = c.get(f"/linkedin/rest/videos/{jpeg['video']}", headers=rest(token)).json()
    assert failed["status"] == "PROCESSING_FAILED"
