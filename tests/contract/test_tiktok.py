from __future__ import annotations

import time

import httpx

from sandbox.testing import (
    CLIENT_ID,
    CLIENT_SECRET,
    JPEG,
    MP4,
    SandboxFactory,
    approve,
    host_media,
    redirect_uri,
)
from sandbox.testing import advance_clock as advance

SCOPES = "user.info.basic,user.info.profile,user.info.stats,video.publish,video.upload,video.list"


def connect(client: httpx.Client, user: str = "tia") -> dict[str, str]:
    callback = approve(
        client,
        "/tiktok/v2/auth/authorize/",
        {
            "client_key": CLIENT_ID,
            "response_type": "code",
            "scope": SCOPES,
            "redirect_uri": redirect_uri("tiktok"),
            "state": "s1",
        },
        user,
    )
    assert callback["scopes"] == SCOPES
    body: dict[str, str] = client.post(
        "/tiktok/v2/oauth/token/",
        data={
            "client_key": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "code": callback["code"],
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri("tiktok"),
        },
    ).json()
    return body


def auth(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def test_token_shape_rotation_and_errors(client: httpx.Client) -> None:
    tokens = connect(client)
    assert set(tokens) == {
        "open_id",
        "scope",
        "access_token",
        "expires_in",
        "refresh_token",
        "refresh_expires_in",
        "token_type",
    }
    info = client.get(
        "/tiktok/v2/user/info/",
        headers=auth(tokens),
        params={"fields": "open_id,display_name,username,follower_count"},
    )
    body = info.json()
    assert body["error"]["code"] == "ok" and body["data"]["user"]["username"] == "tia"
    form = {
        "client_key": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
    }
    new = client.post("/tiktok/v2/oauth/token/", data=form).json()
    assert new["refresh_token"] != tokens["refresh_token"]
    old = client.post("/tiktok/v2/oauth/token/", data=form)
    assert old.json()["error"] == "invalid_grant" and "log_id" in old.json()
    advance(client, 86_401)
    expired = client.get("/tiktok/v2/user/info/", headers=auth(new), params={"fields": "open_id"})
    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == "access_token_invalid"
    assert expired.json()["data"] == {}
    client.post(
        "/tiktok/v2/oauth/revoke/",
        data={
            "client_key": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "token": new["access_token"],
        },
    )
    refresh = {**form, "refresh_token": new["refresh_token"]}
    assert client.post("/tiktok/v2/oauth/token/", data=refresh).json()["error"] == "invalid_grant"


def test_direct_post_flow(client: httpx.Client) -> None:
    headers = auth(connect(client))
    creator = client.post("/tiktok/v2/post/publish/creator_info/query/", headers=headers).json()
    assert "PUBLIC_TO_EVERYONE" in creator["data"]["privacy_level_options"]
    init = client.post(
        "/tiktok/v2/post/publish/video/init/",
        headers=headers,
        json={
            "post_info": {"title": "my video", "privacy_level": "PUBLIC_TO_EVERYONE"},
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": len(MP4),
                "chunk_size": len(MP4),
                "total_chunk_count": 1,
            },
        },
    ).json()
    publish_id, upload_url = init["data"]["publish_id"], init["data"]["upload_url"]
    put = httpx.put(
        upload_url,
        content=MP4,
        headers={
            "Content-Range": f"bytes 0-{len(MP4) - 1}/{len(MP4)}",
            "Content-Type": "video/mp4",
        },
    )
    assert put.status_code == 201

    def status() -> dict[str, object]:
        data: dict[str, object] = client.post(
            "/tiktok/v2/post/publish/status/fetch/",
            headers=headers,
            json={"publish_id": publish_id},
        ).json()["data"]
        return data

    assert status()["status"] == "PROCESSING_UPLOAD"
    advance(client, 11)
    done = status()
    assert done["status"] == "PUBLISH_COMPLETE" and done["publicaly_available_post_id"] == []
    advance(client, 30)
    post_ids = status()["publicaly_available_post_id"]
    assert isinstance(post_ids, list) and len(post_ids) == 1
    advance(client, 3600)
    query = client.post(
        "/tiktok/v2/video/query/",
        headers=headers,
        params={"fields": "id,view_count,like_count"},
        json={"filters": {"video_ids": [str(post_ids[0]), "123"]}},
    ).json()
    video = query["data"]["videos"][0]
    truth = client.get(f"/_sandbox/truth/tiktok/{post_ids[0]}").json()["metrics"]
    assert video["view_count"] == truth["view_count"] > 0
    listed = client.post(
        "/tiktok/v2/video/list/", headers=headers, params={"fields": "id"}, json={"max_count": 20}
    ).json()
    assert len(listed["data"]["videos"]) == 6  # the new one + seeded history
    assert (
        client.post(
            "/tiktok/v2/video/query/",
            headers=headers,
            params={"fields": "id"},
            json={"filters": {"video_ids": [str(i) for i in range(21)]}},
        ).status_code
        == 400
    )


def test_bad_media_fails_and_retried_init_duplicates(client: httpx.Client) -> None:
    headers = auth(connect(client))
    body = {
        "post_info": {"title": "t", "privacy_level": "SELF_ONLY"},
        "source_info": {
            "source": "FILE_UPLOAD",
            "video_size": len(JPEG),
            "chunk_size": len(JPEG),
            "total_chunk_count": 1,
        },
    }
    first = client.post("/tiktok/v2/post/publish/video/init/", headers=headers, json=body)
    second = client.post("/tiktok/v2/post/publish/video/init/", headers=headers, json=body)
    assert first.json()["data"]["publish_id"] != second.json()["data"]["publish_id"]
    httpx.put(
        first.json()["data"]["upload_url"],
        content=JPEG,
        headers={"Content-Range": f"bytes 0-{len(JPEG) - 1}/{len(JPEG)}"},
    )
    status = client.post(
        "/tiktok/v2/post/publish/status/fetch/",
        headers=headers,
        json={"publish_id": first.json()["data"]["publish_id"]},
    ).json()
    assert status["data"]["status"] == "FAILED"
    assert status["data"]["fail_reason"] == "file_format_check_failed"


def test_pull_from_url_needs_verified_domain(client: httpx.Client) -> None:
    headers = auth(connect(client))
    body = {
        "post_info": {"title": "t", "privacy_level": "SELF_ONLY"},
        "source_info": {"source": "PULL_FROM_URL", "video_url": "https://evil.test/v.mp4"},
    }
    denied = client.post("/tiktok/v2/post/publish/video/init/", headers=headers, json=body)
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "url_ownership_unverified"


def test_rate_limit_and_daily_cap(client: httpx.Client) -> None:
    headers = auth(connect(client))
    url = "/tiktok/v2/post/publish/video/init/"
    body = {
        "post_info": {"title": "t", "privacy_level": "SELF_ONLY"},
        "source_info": {"source": "PULL_FROM_URL", "video_url": "https://media.example.com/v.mp4"},
    }
    codes = [client.post(url, headers=headers, json=body).status_code for _ in range(7)]
    assert codes == [200] * 6 + [429]
    limited = client.post(url, headers=headers, json=body)
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert "x-rate-limit-limit" not in limited.headers
    for _ in range(2):
        advance(client, 61)
        for _ in range(6):
            client.post(url, headers=headers, json=body)
    advance(client, 61)
    capped = client.post(url, headers=headers, json=body)
    assert capped.status_code == 403
    assert capped.json()["error"]["code"] == "spam_risk_too_many_posts"


def mp4_lasting(seconds: int) -> bytes:
    """An MP4 whose moov/mvhd declares ``seconds`` (timescale 1000), as a fast-start file."""
    mvhd = bytes(4) + bytes(8) + (1000).to_bytes(4, "big") + (seconds * 1000).to_bytes(4, "big")
    mvhd += bytes(80)
    moov = (8 + 8 + len(mvhd)).to_bytes(4, "big") + b"moov"
    moov += (8 + len(mvhd)).to_bytes(4, "big") + b"mvhd" + mvhd
    return MP4[:24] + moov + bytes(4000)


def pull(client: httpx.Client, headers: dict[str, str], url: str) -> str:
    body = {
        "post_info": {"title": "pulled", "privacy_level": "PUBLIC_TO_EVERYONE"},
        "source_info": {"source": "PULL_FROM_URL", "video_url": url},
    }
    response = client.post("/tiktok/v2/post/publish/video/init/", headers=headers, json=body)
    assert response.status_code == 200, response.text
    publish_id: str = response.json()["data"]["publish_id"]
    return publish_id


def settled(client: httpx.Client, headers: dict[str, str], publish_id: str) -> dict[str, object]:
    """The status once the download is over (it runs after init answered)."""
    for _ in range(200):
        data: dict[str, object] = client.post(
            "/tiktok/v2/post/publish/status/fetch/",
            headers=headers,
            json={"publish_id": publish_id},
        ).json()["data"]
        if data["status"] != "PROCESSING_DOWNLOAD" or data["downloaded_bytes"]:
            return data
        time.sleep(0.02)
    raise AssertionError("the download never ended")


def test_pull_from_url_downloads_from_verified_prefixes(client: httpx.Client) -> None:
    headers = auth(connect(client))
    base = str(client.base_url).rstrip("/")
    video = host_media(client, MP4)
    verified = client.get("/_sandbox/tiktok/verified").json()
    assert "http://127.0.0.1:8003/" in verified["url_prefixes"]  # the local publisher
    denied = client.post(
        "/tiktok/v2/post/publish/video/init/",
        headers=headers,
        json={
            "post_info": {"title": "t", "privacy_level": "SELF_ONLY"},
            "source_info": {"source": "PULL_FROM_URL", "video_url": video},
        },
    )
    assert denied.json()["error"]["code"] == "url_ownership_unverified"
    client.post("/_sandbox/tiktok/verified", json={"url_prefixes": [f"{base}/_sandbox/media/"]})
    done = settled(client, headers, pull(client, headers, video))
    assert done["downloaded_bytes"] == len(MP4)
    advance(client, 11)
    assert settled(client, headers, pull(client, headers, video))["status"] == "PROCESSING_DOWNLOAD"
    ledger = client.get("/_sandbox/ledger", params={"platform": "tiktok"}).json()["entries"]
    assert ledger[0]["media"][0]["format"] == "mp4" and ledger[0]["media"][0]["size"] == len(MP4)
    # A verified URL that serves no video, or nothing at all, fails the publish.
    missing = settled(client, headers, pull(client, headers, f"{base}/_sandbox/media/nope"))
    assert (missing["status"], missing["fail_reason"]) == ("FAILED", "video_pull_failed")
    image = settled(client, headers, pull(client, headers, host_media(client, JPEG)))
    assert image["fail_reason"] == "file_format_check_failed"


def test_pull_from_url_gives_up_past_the_size_cap(sandbox_with: SandboxFactory) -> None:
    c = sandbox_with(tiktok_pull_max_bytes=1000)
    headers = auth(connect(c))
    c.post("/_sandbox/tiktok/verified", json={"url_prefixes": [str(c.base_url)]})
    too_big = settled(c, headers, pull(c, headers, host_media(c, MP4)))
    assert too_big["fail_reason"] == "video_pull_failed"


def test_creator_info_per_creator_and_max_duration(client: httpx.Client) -> None:
    headers = auth(connect(client))
    query = "/tiktok/v2/post/publish/creator_info/query/"
    default = client.post(query, headers=headers).json()["data"]
    assert default["max_video_post_duration_sec"] == 600 and default["duet_disabled"] is False
    client.put(
        "/_sandbox/tiktok/creators/tia",
        json={
            "comment_disabled": True,
            "stitch_disabled": True,
            "max_video_post_duration_sec": 60,
            "privacy_level_options": ["FOLLOWER_OF_CREATOR", "SELF_ONLY"],
        },
    ).raise_for_status()
    info = client.post(query, headers=headers).json()["data"]
    assert (info["comment_disabled"], info["duet_disabled"], info["stitch_disabled"]) == (
        True,
        False,
        True,
    )
    assert info["max_video_post_duration_sec"] == 60
    assert info["privacy_level_options"] == ["FOLLOWER_OF_CREATOR", "SELF_ONLY"]
    public = client.post(
        "/tiktok/v2/post/publish/video/init/",
        headers=headers,
        json={
            "post_info": {"title": "t", "privacy_level": "PUBLIC_TO_EVERYONE"},
            "source_info": {"source": "PULL_FROM_URL", "video_url": "https://media.example.com/v"},
        },
    )
    assert public.json()["error"]["code"] == "privacy_level_option_mismatch"
    base = str(client.base_url).rstrip("/")
    client.post("/_sandbox/tiktok/verified", json={"url_prefixes": [f"{base}/_sandbox/media/"]})
    body = {"post_info": {"title": "long", "privacy_level": "SELF_ONLY"}}

    def publish(video: bytes) -> dict[str, object]:
        source = {"source": "PULL_FROM_URL", "video_url": host_media(client, video)}
        init = client.post(
            "/tiktok/v2/post/publish/video/init/",
            headers=headers,
            json={**body, "source_info": source},
        ).json()
        return settled(client, headers, init["data"]["publish_id"])

    assert publish(mp4_lasting(61))["fail_reason"] == "duration_check_failed"
    assert publish(mp4_lasting(59)).get("fail_reason") is None
    assert client.put("/_sandbox/tiktok/creators/nobody", json={}).status_code == 404


def test_video_list_pages_by_create_time_cursor(sandbox_with: SandboxFactory) -> None:
    """``cursor`` is the millisecond create time the next page starts before: paging in pages
    of 2 reads every video once, newest first, until ``has_more`` is false (the seeded history
    repeats its ages, so this also needs no two videos at the same instant)."""
    client = sandbox_with(history_posts=16)
    headers = auth(connect(client))
    body: dict[str, object] = {"max_count": 2}
    seen: list[dict[str, int]] = []
    for _ in range(20):
        page = client.post(
            "/tiktok/v2/video/list/",
            headers=headers,
            params={"fields": "id,create_time"},
            json=body,
        ).json()["data"]
        seen += page["videos"]
        if not page["has_more"]:
            break
        body = {"max_count": 2, "cursor": page["cursor"]}
    ids = [v["id"] for v in seen]
    assert len(ids) == len(set(ids)) == 16
    times = [v["create_time"] for v in seen]
    assert times == sorted(times, reverse=True)
