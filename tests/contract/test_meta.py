"""Instagram (Instagram Login) and Facebook Pages."""

from __future__ import annotations

import json
from typing import Any

import httpx

from sandbox.testing import (
    CLIENT_ID,
    CLIENT_SECRET,
    JPEG,
    MP4,
    PNG,
    SandboxFactory,
    host_media,
    redirect_uri,
)
from sandbox.testing import advance_clock as advance

IG_SCOPES = (
    "instagram_business_basic,instagram_business_content_publish,instagram_business_manage_insights"
)


def ig_connect(client: httpx.Client, user: str = "igor", scope: str = IG_SCOPES) -> dict[str, str]:
    response = client.get(
        "/instagram/oauth/authorize",
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": redirect_uri("instagram"),
            "response_type": "code",
            "scope": scope,
            "state": "s",
            "sandbox_approve": user,
        },
    )
    assert response.headers["location"].endswith("#_")
    code = response.headers["location"].split("code=")[1].split("&")[0]
    short = client.post(
        "/instagram/oauth/access_token",
        data={
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri("instagram"),
        },
    ).json()
    entry = short["data"][0]
    assert set(entry) == {"access_token", "user_id", "permissions"}
    long = client.get(
        "/instagram/access_token",
        params={
            "grant_type": "ig_exchange_token",
            "client_secret": CLIENT_SECRET,
            "access_token": entry["access_token"],
        },
    ).json()
    assert long["token_type"] == "bearer" and long["expires_in"] == 60 * 86_400
    return {
        "token": long["access_token"],
        "user_id": entry["user_id"],
        "short": entry["access_token"],
    }


def test_ig_code_single_use(client: httpx.Client) -> None:
    response = client.get(
        "/instagram/oauth/authorize",
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": redirect_uri("instagram"),
            "response_type": "code",
            "scope": IG_SCOPES,
            "sandbox_approve": "x",
        },
    )
    code = response.headers["location"].split("code=")[1].split("&")[0].split("#")[0]
    form = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "code": code,
        "grant_type": "authorization_code",
        "redirect_uri": redirect_uri("instagram"),
    }
    assert client.post("/instagram/oauth/access_token", data=form).status_code == 200
    again = client.post("/instagram/oauth/access_token", data=form).json()
    assert again == {
        "error_type": "OAuthException",
        "code": 400,
        "error_message": "This authorization code has been used",
    }


def test_ig_token_lifecycle(client: httpx.Client) -> None:
    ig = ig_connect(client)
    me = client.get(
        "/instagram/v21.0/me",
        params={"fields": "user_id,username,followers_count", "access_token": ig["token"]},
    ).json()
    assert me["username"] == "igor" and me["user_id"] == ig["user_id"]
    unversioned = client.get("/instagram/me", params={"access_token": ig["token"]})
    assert unversioned.status_code == 200
    early = client.get(
        "/instagram/refresh_access_token",
        params={"grant_type": "ig_refresh_token", "access_token": ig["token"]},
    )
    assert early.status_code == 400
    advance(client, 3601)
    short = client.get("/instagram/me", params={"access_token": ig["short"]}).json()
    assert short["error"]["code"] == 190 and short["error"]["error_subcode"] == 463
    assert short["error"]["type"] == "OAuthException" and "fbtrace_id" in short["error"]
    advance(client, 86_400)
    refreshed = client.get(
        "/instagram/refresh_access_token",
        params={"grant_type": "ig_refresh_token", "access_token": ig["token"]},
    ).json()
    assert refreshed["expires_in"] == 60 * 86_400
    client.post(
        "/_sandbox/faults",
        json={"platform": "instagram", "revoke_tokens": True, "revoke_reason": "password_changed"},
    )
    revoked = client.get("/instagram/me", params={"access_token": refreshed["access_token"]})
    assert revoked.json()["error"]["error_subcode"] == 460


def test_ig_publish_flow_and_insights(client: httpx.Client) -> None:
    ig = ig_connect(client)
    token, user = ig["token"], ig["user_id"]
    url = host_media(client, JPEG)
    container = client.post(
        f"/instagram/v21.0/{user}/media",
        data={"image_url": url, "caption": "hello", "access_token": token},
    ).json()["id"]
    publish = f"/instagram/v21.0/{user}/media_publish"
    not_ready = client.post(publish, data={"creation_id": container, "access_token": token})
    assert not_ready.json()["error"]["code"] == 9007
    status = client.get(
        f"/instagram/v21.0/{container}",
        params={"fields": "status_code,status", "access_token": token},
    ).json()
    assert status["status_code"] == "IN_PROGRESS"
    advance(client, 2)
    media_id = client.post(publish, data={"creation_id": container, "access_token": token}).json()[
        "id"
    ]
    # Publishing the same container again does not make a second post.
    assert (
        client.post(publish, data={"creation_id": container, "access_token": token}).json()["id"]
        == media_id
    )
    limit = client.get(
        f"/instagram/v21.0/{user}/content_publishing_limit",
        params={"fields": "config,quota_usage", "access_token": token},
    ).json()
    assert limit["data"][0] == {
        "quota_usage": 1,
        "config": {"quota_total": 100, "quota_duration": 86400},
    }
    too_early = client.get(
        f"/instagram/v21.0/{media_id}/insights", params={"metric": "reach", "access_token": token}
    ).json()
    assert (
        too_early["error"]["message"] == "(#10) Not enough viewers for the media to show insights"
    )
    advance(client, 48 * 3600 + 7200)  # insights lag 48 h by default
    insights = client.get(
        f"/instagram/v21.0/{media_id}/insights",
        params={"metric": "views,reach,likes,saved", "access_token": token},
    ).json()["data"]
    truth = client.get(f"/_sandbox/truth/instagram/{media_id}").json()["metrics"]["insights"]
    assert {i["name"]: i["values"][0]["value"] for i in insights} == {
        k: truth[k] for k in ("views", "reach", "likes", "saved")
    }
    assert insights[0]["period"] == "lifetime"
    deprecated = client.get(
        f"/instagram/v21.0/{media_id}/insights",
        params={"metric": "impressions", "access_token": token},
    ).json()
    assert deprecated["error"]["code"] == 100
    png = client.post(
        f"/instagram/v21.0/{user}/media",
        data={"image_url": host_media(client, PNG), "access_token": token},
    ).json()["id"]
    advance(client, 2)
    assert (
        client.get(
            f"/instagram/{png}", params={"fields": "status_code", "access_token": token}
        ).json()["status_code"]
        == "ERROR"
    )


def test_ig_publish_cap(sandbox_with: SandboxFactory) -> None:
    c = sandbox_with(instagram_publish_cap=2)
    ig = ig_connect(c)
    publish = f"/instagram/{ig['user_id']}/media_publish"
    results = []
    for i in range(3):
        container = c.post(
            f"/instagram/{ig['user_id']}/media",
            data={
                "image_url": host_media(c, JPEG),
                "caption": str(i),
                "access_token": ig["token"],
            },
        ).json()["id"]
        c.post("/_sandbox/clock/advance", json={"seconds": 2})
        results.append(
            c.post(publish, data={"creation_id": container, "access_token": ig["token"]}).json()
        )
    assert "id" in results[1]
    assert results[2]["error"]["code"] == 9
    assert results[2]["error"]["error_subcode"] == 2207042


FB_SCOPES = "pages_show_list,pages_manage_posts,pages_read_engagement,read_insights"


def fb_connect(
    client: httpx.Client, user: str = "fiona", scope: str = FB_SCOPES
) -> tuple[str, list[dict[str, str]]]:
    response = client.get(
        "/facebook/v21.0/dialog/oauth",
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": redirect_uri("facebook"),
            "response_type": "code",
            "scope": scope,
            "state": "s",
            "sandbox_approve": user,
        },
    )
    location = response.headers["location"]
    assert location.endswith("#_=_")
    code = location.split("code=")[1].split("&")[0].split("#")[0]
    short = client.get(
        "/facebook/v21.0/oauth/access_token",
        params={
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "code": code,
            "redirect_uri": redirect_uri("facebook"),
        },
    ).json()
    long = client.get(
        "/facebook/v21.0/oauth/access_token",
        params={
            "grant_type": "fb_exchange_token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "fb_exchange_token": short["access_token"],
        },
    ).json()
    pages = client.get("/facebook/v21.0/me/accounts", params={"access_token": long["access_token"]})
    assert "x-app-usage" in pages.headers
    return long["access_token"], pages.json()["data"]


def test_fb_denial_and_code_errors(client: httpx.Client) -> None:
    denied = client.get(
        "/facebook/v21.0/dialog/oauth",
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": redirect_uri("facebook"),
            "response_type": "code",
            "state": "s",
            "sandbox_deny": "1",
        },
    )
    assert "error_reason=user_denied" in denied.headers["location"]
    bad = client.get(
        "/facebook/v21.0/oauth/access_token",
        params={
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "code": "nope",
            "redirect_uri": redirect_uri("facebook"),
        },
    ).json()
    assert bad["error"]["type"] == "OAuthException" and bad["error"]["code"] == 100


def test_fb_pages_publish_duplicate_and_insights(client: httpx.Client) -> None:
    user_token, pages = fb_connect(client)
    assert len(pages) == 2 and all("access_token" in p for p in pages)
    me = client.get("/facebook/v21.0/me", params={"access_token": user_token}).json()
    assert me["name"] == "Fiona"
    page, page_token = pages[0]["id"], pages[0]["access_token"]
    as_user = client.post(
        f"/facebook/v21.0/{page}/feed", data={"message": "hi", "access_token": user_token}
    ).json()
    assert as_user["error"]["code"] == 200
    post = client.post(
        f"/facebook/v21.0/{page}/feed", data={"message": "hi", "access_token": page_token}
    )
    assert post.json()["id"].startswith(f"{page}_")
    assert json.loads(post.headers["x-business-use-case-usage"])[page][0]["type"] == "pages"
    dup = client.post(
        f"/facebook/v21.0/{page}/feed", data={"message": "hi", "access_token": page_token}
    ).json()
    assert dup["error"]["code"] == 506
    photo = client.post(
        f"/facebook/v21.0/{page}/photos",
        data={"url": host_media(client, JPEG), "published": "false", "access_token": page_token},
    ).json()
    with_photo = client.post(
        f"/facebook/v21.0/{page}/feed",
        json={
            "message": "photo",
            "attached_media": [{"media_fbid": photo["id"]}],
            "access_token": page_token,
        },
    ).json()
    assert "id" in with_photo
    advance(client, 7200)
    post_id = post.json()["id"]
    insights = client.get(
        f"/facebook/v21.0/{post_id}/insights",
        params={
            "metric": "post_total_media_view_unique,post_reactions_by_type_total",
            "access_token": page_token,
        },
    ).json()["data"]
    truth = client.get(f"/_sandbox/truth/facebook/{post_id}").json()["metrics"]
    assert insights[0]["values"][0]["value"] == truth["post_total_media_view_unique"]
    assert insights[1]["values"][0]["value"] == truth["post_reactions_by_type_total"]
    old = client.get(
        f"/facebook/v21.0/{post_id}/insights",
        params={"metric": "post_impressions", "access_token": page_token},
    ).json()
    assert old["error"]["code"] == 100
    # Refusals with HTTP 400 (codes 200, 506, 100) are not rate limits.
    assert client.get("/_sandbox/stats").json()["platforms"]["facebook"]["rate_limited"] == 0
    page_insights = client.get(
        f"/facebook/v21.0/{page}/insights",
        params={"metric": "page_media_view", "period": "day", "access_token": page_token},
    ).json()
    assert page_insights["data"][0]["values"][0]["end_time"].endswith("+0000")
    too_long = client.get(
        f"/facebook/v21.0/{page}/insights",
        params={
            "metric": "page_media_view",
            "since": "2026-01-01",
            "until": "2026-06-01",
            "access_token": page_token,
        },
    ).json()
    assert too_long["error"]["code"] == 100


def test_fb_page_token_dies_on_password_change(client: httpx.Client) -> None:
    _, pages = fb_connect(client)
    page_token = pages[0]["access_token"]
    advance(client, 90 * 86_400)  # page tokens from long-lived user tokens never expire
    me = client.get(f"/facebook/v21.0/{pages[0]['id']}", params={"access_token": page_token})
    assert me.status_code == 200
    client.post(
        "/_sandbox/faults",
        json={"platform": "facebook", "revoke_tokens": True, "revoke_reason": "password_changed"},
    )
    dead = client.get(
        f"/facebook/v21.0/{pages[0]['id']}", params={"access_token": page_token}
    ).json()
    assert (dead["error"]["code"], dead["error"]["error_subcode"]) == (190, 460)


def test_fb_batch(client: httpx.Client) -> None:
    _, pages = fb_connect(client)
    token = pages[0]["access_token"]
    batch = [
        {"method": "GET", "relative_url": f"{pages[0]['id']}?fields=id,name"},
        {"method": "GET", "relative_url": "999/insights?metric=post_clicks"},
    ]
    results = client.post(
        "/facebook/v21.0/", data={"batch": json.dumps(batch), "access_token": token}
    ).json()
    assert [r["code"] for r in results] == [200, 400]
    assert json.loads(results[0]["body"])["id"] == pages[0]["id"]


def test_fb_batch_with_throttled_items_counts_as_rate_limited(
    sandbox_with: SandboxFactory,
) -> None:
    """Every item counts against the page's budget: a batch past it answers 200 with the
    items beyond refused (80001), and the stats count the batch as rate limited."""
    c = sandbox_with(meta_page_calls_per_hour=2)
    _, pages = fb_connect(c)
    page, token = pages[0]["id"], pages[0]["access_token"]
    batch = [{"method": "GET", "relative_url": f"{page}?fields=id"}] * 3
    answer = c.post("/facebook/v21.0/", data={"batch": json.dumps(batch), "access_token": token})
    assert answer.status_code == 200
    assert [r["code"] for r in answer.json()] == [200, 200, 400]
    assert json.loads(answer.json()[2]["body"])["error"]["code"] == 80001
    stats = c.get("/_sandbox/stats").json()["platforms"]["facebook"]
    assert stats["endpoints"]["POST /batch"]["statuses"] == {"200": 1}
    assert stats["rate_limited"] == 1


def graph_error(response: httpx.Response) -> tuple[int, int]:
    return response.status_code, response.json()["error"]["code"]


def test_fb_platform_limits_user_page_and_endpoint(sandbox_with: SandboxFactory) -> None:
    c = sandbox_with(
        meta_user_calls_per_hour=3,
        meta_page_platform_calls_per_hour=1,
        meta_page_calls_per_hour=3,
        facebook_endpoint_calls_per_hour={"GET /{page-id}/insights": 1},
    )
    user_token, pages = fb_connect(c)  # the user's 1st call
    page, page_token = pages[0]["id"], pages[0]["access_token"]
    as_user = {"access_token": user_token}
    assert c.get(f"/facebook/v21.0/{page}", params=as_user).status_code == 200
    page_level = c.get(f"/facebook/v21.0/{page}", params=as_user)
    assert graph_error(page_level) == (400, 32)
    assert "x-app-usage" in page_level.headers
    user_level = c.get("/facebook/v21.0/me", params=as_user)
    assert graph_error(user_level) == (400, 17)
    # The app's budget (200 x users) is not what ran out: X-App-Usage stays below 100 %.
    assert json.loads(user_level.headers["x-app-usage"])["call_count"] < 100
    insights = f"/facebook/v21.0/{page}/insights"
    as_page = {"metric": "page_media_view", "access_token": page_token}
    assert c.get(insights, params=as_page).status_code == 200
    endpoint_level = c.get(insights, params=as_page)
    assert graph_error(endpoint_level) == (400, 613)
    assert endpoint_level.json()["error"]["is_transient"] is True
    assert page in json.loads(endpoint_level.headers["x-business-use-case-usage"])
    advance(c, 1800)
    assert c.get(f"/facebook/v21.0/{page}", params={"access_token": page_token}).status_code == 200
    buc = c.get(f"/facebook/v21.0/{page}", params={"access_token": page_token})
    assert graph_error(buc) == (400, 80001)
    usage = json.loads(buc.headers["x-business-use-case-usage"])[page][0]
    # The hour's first page-token call was 30 minutes ago: access returns in 30 minutes.
    assert usage["type"] == "pages" and usage["call_count"] == 100
    assert usage["estimated_time_to_regain_access"] == 30
    stats = c.get("/_sandbox/stats").json()["platforms"]["facebook"]
    assert stats["endpoints"]["GET /{page-id}/insights"]["statuses"] == {"200": 1, "400": 1}
    assert stats["rate_limited"] == 4  # codes 32, 17, 613 and 80001, all HTTP 400


def test_fb_app_limit_is_code_4(sandbox_with: SandboxFactory) -> None:
    c = sandbox_with(meta_calls_per_user_hour=1)
    user_token, _ = fb_connect(c)
    app_level = c.get("/facebook/v21.0/me", params={"access_token": user_token})
    assert graph_error(app_level) == (400, 4)
    assert json.loads(app_level.headers["x-app-usage"])["call_count"] == 100
    assert c.get("/_sandbox/stats").json()["platforms"]["facebook"]["rate_limited"] == 1


def test_fb_login_finds_the_linked_instagram_account(client: httpx.Client) -> None:
    user_token, _ = fb_connect(client)
    pages = client.get(
        "/facebook/v21.0/me/accounts",
        params={"fields": "instagram_business_account", "access_token": user_token},
    ).json()["data"]
    first, second = pages
    assert set(first) == {"id", "instagram_business_account"}
    assert first["instagram_business_account"]["id"].startswith("178414")
    assert second == {"id": second["id"]}  # not linked: the field is left out
    page = client.get(
        f"/facebook/v21.0/{first['id']}",
        params={"fields": "instagram_business_account", "access_token": user_token},
    ).json()
    assert page["instagram_business_account"] == first["instagram_business_account"]


def ig_insights(c: httpx.Client, token: str, media_id: str, metric: str) -> Any:
    params = {"metric": metric, "access_token": token}
    return c.get(f"/instagram/v21.0/{media_id}/insights", params=params).json()


def test_ig_insights_lag_behind_live_counters(sandbox_with: SandboxFactory) -> None:
    c = sandbox_with(instagram_insights_lag_seconds=20 * 3600)
    ig = ig_connect(c)
    media = c.get(
        "/instagram/v21.0/me/media", params={"fields": "id,like_count", "access_token": ig["token"]}
    ).json()["data"]
    newest = media[0]["id"]  # newest first: seeded a day ago
    reported = ig_insights(c, ig["token"], newest, "likes,reach")["data"]
    truth = c.get(f"/_sandbox/truth/instagram/{newest}").json()["metrics"]
    assert [i["values"][0]["value"] for i in reported] == [
        truth["insights"]["likes"],
        truth["insights"]["reach"],
    ]
    # The quick counter is live; the insight is 20 hours behind it.
    assert truth["like_count"] > truth["insights"]["likes"]
    assert media[0]["like_count"] == truth["like_count"]


def test_ig_insights_kept_two_years(sandbox_with: SandboxFactory) -> None:
    c = sandbox_with(instagram_insights_retention_days=2, instagram_insights_lag_seconds=0)
    ig = ig_connect(c)
    token = ig["token"]
    media = c.get("/instagram/v21.0/me/media", params={"access_token": token}).json()["data"]
    day1, day3 = media[0]["id"], media[1]["id"]  # seeded 1 and 3 days ago, newest first
    assert ig_insights(c, token, day1, "reach")["data"]
    assert ig_insights(c, token, day3, "reach") == {"data": []}  # older than the 2 days kept


def test_fb_page_videos_list_since_with_status(client: httpx.Client) -> None:
    _, pages = fb_connect(client)
    page, page_token = pages[0]["id"], pages[0]["access_token"]
    before = int(client.get("/_sandbox/clock").json()["ts"]) - 1
    for description, data in (("a clip", MP4), ("not a clip", JPEG)):
        client.post(
            f"/facebook/v21.0/{page}/videos",
            data={
                "file_url": host_media(client, data),
                "description": description,
                "access_token": page_token,
            },
        ).raise_for_status()
    listed = client.get(
        f"/facebook/v21.0/{page}/videos",
        params={
            "fields": "id,description,created_time,status",
            "since": str(before),
            "access_token": page_token,
        },
    ).json()["data"]
    assert [v["description"] for v in listed] == ["not a clip", "a clip"]  # newest first
    assert [v["status"]["video_status"] for v in listed] == ["error", "processing"]
    later = client.get(
        f"/facebook/v21.0/{page}/videos",
        params={"since": str(before + 3600), "access_token": page_token},
    ).json()["data"]
    assert later == []


def test_fb_feed_lists_videos_and_pages_with_cursors(client: httpx.Client) -> None:
    _, pages = fb_connect(client)
    page, token = pages[0]["id"], pages[0]["access_token"]
    texts = []
    for i in range(4):
        advance(client, 60)  # past the 10 posts / minute
        texts.append(f"post {i}")
        client.post(
            f"/facebook/v21.0/{page}/feed", data={"message": texts[-1], "access_token": token}
        )
    video = client.post(
        f"/facebook/v21.0/{page}/videos",
        data={"file_url": host_media(client, MP4), "description": "a video", "access_token": token},
    ).json()["id"]
    feed = f"/facebook/v21.0/{page}/feed"

    def read(path: str = feed, **params: str) -> Any:
        return client.get(path, params={"access_token": token, **params}).json()

    assert "a video" not in [p.get("message") for p in read()["data"]]  # still processing
    advance(client, 11)
    node = client.get(
        f"/facebook/v21.0/{video}", params={"fields": "status,post_id", "access_token": token}
    ).json()
    assert node["status"]["video_status"] == "ready"
    listed = read(f"/facebook/v21.0/{page}/posts", fields="id,message,attachments")["data"]
    assert listed[0]["id"] == node["post_id"] and listed[0]["message"] == "a video"
    assert listed[0]["attachments"]["data"][0]["target"]["id"] == video

    # 5 new + 5 seeded posts, two at a time, newest first; the cursors advance to the end.
    first = read(limit="2", fields="message")
    seen = [p["message"] for p in first["data"]]
    assert seen == ["a video", "post 3"]
    assert "previous" not in first["paging"]
    page_ = first
    while "next" in page_["paging"]:
        page_ = client.get(page_["paging"]["next"]).json()  # the URL as SDKs follow it
        seen += [p["message"] for p in page_["data"]]
    assert len(seen) == 10 and len(set(seen)) == 10
    # A post published meanwhile does not shift the next page.
    advance(client, 60)
    client.post(feed, data={"message": "newer", "access_token": token})
    second = read(limit="2", fields="message", after=first["paging"]["cursors"]["after"])
    assert [p["message"] for p in second["data"]] == ["post 2", "post 1"]
    back = read(limit="2", fields="message", before=second["paging"]["cursors"]["before"])
    assert [p["message"] for p in back["data"]] == ["a video", "post 3"]
    # since/until bound created_time (unix seconds).
    now = client.get("/_sandbox/clock").json()["ts"]
    recent = read(fields="message", since=str(int(now - 100)))["data"]
    assert [p["message"] for p in recent] == ["newer", "a video", "post 3"]
    older = read(fields="message", until=str(int(now - 86_400)))["data"]
    assert older and all(p["message"].startswith("Older post") for p in older)
    assert read(limit="101")["error"]["code"] == 100
    assert read(after="!!")["error"]["code"] == 100


def test_ig_refuses_the_deprecated_video_media_type(client: httpx.Client) -> None:
    ig = ig_connect(client)
    refused = client.post(
        f"/instagram/v21.0/{ig['user_id']}/media",
        data={
            "media_type": "VIDEO",
            "video_url": host_media(client, MP4),
            "access_token": ig["token"],
        },
    ).json()
    assert refused["error"]["code"] == 100 and "REELS" in refused["error"]["message"]
    assert refused["error"]["type"] == "OAuthException"


def test_ig_carousel_inherits_its_children_status(client: httpx.Client) -> None:
    ig = ig_connect(client)
    media = f"/instagram/v21.0/{ig['user_id']}/media"

    def child(**fields: str) -> str:
        data = {"is_carousel_item": "true", "access_token": ig["token"], **fields}
        container: str = client.post(media, data=data).json()["id"]
        return container

    def status(container: str) -> str:
        params = {"fields": "status_code", "access_token": ig["token"]}
        code: str = client.get(f"/instagram/v21.0/{container}", params=params).json()["status_code"]
        return code

    image = child(image_url=host_media(client, JPEG))
    video = child(media_type="VIDEO", video_url=host_media(client, MP4))  # 10 s to process
    png = child(image_url=host_media(client, PNG))  # fails: JPEG only
    advance(client, 2)

    def carousel(*children: str) -> str:
        data = {
            "media_type": "CAROUSEL",
            "children": ",".join(children),
            "access_token": ig["token"],
        }
        container: str = client.post(media, data=data).json()["id"]
        return container

    waiting = carousel(image, video)
    failed = carousel(image, png)
    advance(client, 2)
    assert (status(image), status(video), status(png)) == ("FINISHED", "IN_PROGRESS", "ERROR")
    assert status(waiting) == "IN_PROGRESS"
    assert status(failed) == "ERROR"
    publish = f"/instagram/v21.0/{ig['user_id']}/media_publish"
    early = client.post(publish, data={"creation_id": waiting, "access_token": ig["token"]})
    assert early.json()["error"]["code"] == 9007
    advance(client, 10)
    assert status(waiting) == "FINISHED" and status(failed) == "ERROR"
    done = client.post(publish, data={"creation_id": waiting, "access_token": ig["token"]})
    assert "id" in done.json()


def test_meta_publishing_and_insights_check_scopes(client: httpx.Client) -> None:
    _, pages = fb_connect(client, "reader", "pages_show_list,pages_read_engagement")
    page, token = pages[0]["id"], pages[0]["access_token"]
    post = client.post(f"/facebook/v21.0/{page}/feed", data={"message": "x", "access_token": token})
    assert post.status_code == 403 and post.json()["error"]["code"] == 200
    assert "pages_manage_posts" in post.json()["error"]["message"]
    insights = client.get(
        f"/facebook/v21.0/{page}/insights",
        params={"metric": "page_media_view", "access_token": token},
    )
    assert insights.json()["error"]["code"] == 10
    assert "read_insights" in insights.json()["error"]["message"]
    assert client.get("/_sandbox/ledger", params={"platform": "facebook"}).json()["count"] == 0

    ig = ig_connect(client, "looker", "instagram_business_basic")
    container = client.post(
        f"/instagram/v21.0/{ig['user_id']}/media",
        data={"image_url": host_media(client, JPEG), "access_token": ig["token"]},
    )
    assert container.json()["error"]["code"] == 200
    assert "instagram_business_content_publish" in container.json()["error"]["message"]
    media = client.get("/instagram/v21.0/me/media", params={"access_token": ig["token"]})
    first = media.json()["data"][0]["id"]  # reading media needs only the basic scope
    refused = client.get(
        f"/instagram/v21.0/{first}/insights",
        params={"metric": "reach", "access_token": ig["token"]},
    )
    assert refused.json()["error"]["code"] == 10
