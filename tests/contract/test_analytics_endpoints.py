"""The analytics reads of Meta and LinkedIn as the real APIs answer them: Graph batch requests
on both Meta hosts (decoded items, each item one call, usage headers on the answer), LinkedIn's
BATCH_GET socialActions, networkSizes, memberFollowersCount, the Posts finder's page size, and
the control API's frozen clock."""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx

from sandbox.testing import SandboxFactory
from tests.contract.test_linkedin_youtube import li_connect, rest
from tests.contract.test_meta import fb_connect, ig_connect


def batch(client: httpx.Client, host: str, token: str, urls: list[str]) -> httpx.Response:
    items = [{"method": "GET", "relative_url": url} for url in urls]
    return client.post(
        f"/{host}/v24.0/",
        data={"batch": json.dumps(items)},
        headers={"Authorization": f"Bearer {token}"},  # the batch's token: the items' too
    )


def test_fb_batch_items_are_decoded_and_answered_in_place(client: httpx.Client) -> None:
    _, pages = fb_connect(client)
    page, token = pages[0]["id"], pages[0]["access_token"]
    posts = client.get(f"/facebook/v24.0/{page}/published_posts", params={"access_token": token})
    post = posts.json()["data"][0]["id"]
    response = batch(
        client,
        "facebook",
        token,
        [
            f"{post}/insights?metric=post_clicks%2Cpost_media_view",
            "999_1/insights?metric=post_clicks",
            f"{post}/insights?metric=post_impressions",  # deprecated
        ],
    )
    assert response.status_code == 200
    first, missing, deprecated = response.json()
    assert first["code"] == 200
    assert [d["name"] for d in json.loads(first["body"])["data"]] == [
        "post_clicks",
        "post_media_view",
    ]
    error = json.loads(missing["body"])["error"]
    assert (missing["code"], error["code"], error["error_subcode"]) == (400, 100, 33)
    assert "does not exist" in error["message"]
    assert json.loads(deprecated["body"])["error"]["code"] == 100
    fields = "comments.limit(0).summary(true),insights.metric(post_clicks,post_media_view)"
    node = client.get(f"/facebook/v24.0/{post}", params={"fields": fields, "access_token": token})
    body = node.json()
    assert body["comments"]["data"] == [] and body["comments"]["summary"]["total_count"] >= 0
    assert [d["name"] for d in body["insights"]["data"]] == ["post_clicks", "post_media_view"]
    retired = client.get(
        f"/facebook/v24.0/{post}",
        params={"fields": "insights.metric(post_impressions)", "access_token": token},
    )
    assert retired.status_code == 400 and retired.json()["error"]["code"] == 100
    usage = json.loads(response.headers["x-business-use-case-usage"])
    assert usage[page][0]["type"] == "pages"
    names = [h["name"].lower() for h in first["headers"]]
    assert "x-business-use-case-usage" in names


def test_fb_batch_takes_at_most_fifty(client: httpx.Client) -> None:
    _, pages = fb_connect(client)
    response = batch(client, "facebook", pages[0]["access_token"], ["me?fields=id"] * 51)
    assert response.status_code == 400
    assert "Maximum batch size is 50" in response.json()["error"]["message"]


def test_ig_batch_counts_each_item_against_the_budget(sandbox_with: SandboxFactory) -> None:
    c = sandbox_with(meta_instagram_calls_per_hour=3, instagram_insights_lag_seconds=0)
    ig = ig_connect(c)
    media = c.get("/instagram/v24.0/me/media", params={"access_token": ig["token"]}).json()
    old = media["data"][-1]["id"]
    metric = "metric=views,reach,likes,comments,shares,saved,total_interactions"
    response = batch(
        c,
        "instagram",
        ig["token"],
        [f"{old}/insights?{metric}", "17999999999999999/insights?metric=views", "me?fields=id"],
    )
    insights, missing, throttled = response.json()
    assert insights["code"] == 200 and len(json.loads(insights["body"])["data"]) == 7
    assert json.loads(missing["body"])["error"]["code"] == 100
    # The listing and two items used the hour's three calls: the third item is refused.
    assert json.loads(throttled["body"])["error"]["code"] == 80002
    usage = json.loads(response.headers["x-business-use-case-usage"])[ig["user_id"]][0]
    assert usage["call_count"] == 100 and usage["estimated_time_to_regain_access"] == 60
    stats = c.get("/_sandbox/stats", params={"account": ig["user_id"]}).json()
    assert stats["platforms"]["instagram"]["endpoints"]["POST /batch"]["calls"] == 1


def test_linkedin_batch_social_actions_network_sizes_and_followers(client: httpx.Client) -> None:
    token = li_connect(client)["access_token"]
    me = client.get("/linkedin/v2/userinfo", headers={"Authorization": f"Bearer {token}"})
    author = f"urn:li:person:{me.json()['sub']}"
    posts = client.get(
        f"/linkedin/rest/posts?q=author&author={quote(author, safe='')}&count=100",
        headers=rest(token),
    ).json()["elements"]
    first, second = posts[0]["id"], posts[1]["id"]
    deleted = client.delete(f"/linkedin/rest/posts/{quote(second, safe='')}", headers=rest(token))
    assert deleted.status_code == 204
    ids = ",".join(quote(u, safe="") for u in (first, second))
    found = client.get(f"/linkedin/rest/socialActions?ids=List({ids})", headers=rest(token))
    body = found.json()
    assert set(body["results"]) == {first}
    assert body["results"][first]["likesSummary"]["totalLikes"] >= 0
    assert body["statuses"] == {first: 200, second: 404} and body["errors"][second]["status"] == 404

    # A member's post analytics: one metric of one post (q=entity) or of all (q=me).
    entity = quote(first, safe="")
    analytics = "/linkedin/rest/memberCreatorPostAnalytics"
    one = client.get(
        f"{analytics}?q=entity&entity={entity}&queryType=IMPRESSION&aggregation=TOTAL",
        headers=rest(token),
    )
    assert one.status_code == 200, one.text
    [element] = one.json()["elements"]
    assert element["count"] > 0 and "IMPRESSION" in element["metricType"].values()
    every = client.get(f"{analytics}?q=me&queryType=IMPRESSION", headers=rest(token))
    assert every.json()["elements"][0]["count"] > element["count"]
    for bad in (
        f"entity={entity}&queryType=IMPRESSION",  # no finder
        "q=entity&entity=urn%3Ali%3Aperson%3Ax&queryType=IMPRESSION",  # not a post
        f"q=entity&entity={entity}&queryType=VIEWS",
        f"q=entity&entity={entity}&queryType=IMPRESSION&aggregation=WEEKLY",
    ):
        assert client.get(f"{analytics}?{bad}", headers=rest(token)).status_code == 400, bad

    too_many = client.get(
        f"/linkedin/rest/posts?q=author&author={quote(author, safe='')}&count=101",
        headers=rest(token),
    )
    assert too_many.status_code == 400

    accounts = client.get("/_sandbox/accounts", params={"platform": "linkedin"}).json()
    [org] = [a for a in accounts["accounts"] if a["kind"] == "organization"]
    urn = quote(f"urn:li:organization:{org['id']}", safe="")
    size = client.get(
        f"/linkedin/rest/networkSizes/{urn}?edgeType=COMPANY_FOLLOWED_BY_MEMBER",
        headers=rest(token),
    )
    assert size.status_code == 200 and size.json()["firstDegreeSize"] > 0
    assert client.get(f"/linkedin/rest/networkSizes/{urn}", headers=rest(token)).status_code == 400
    # The member's own follower count needs r_member_followersCount, not granted here.
    followers = client.get("/linkedin/rest/memberFollowersCount?q=me", headers=rest(token))
    assert followers.status_code == 403


def test_a_frozen_clock_moves_only_when_advanced(client: httpx.Client) -> None:
    frozen = client.post("/_sandbox/clock/freeze", json={"frozen": True}).json()
    assert frozen["frozen"] is True
    assert client.get("/_sandbox/clock").json()["ts"] == frozen["ts"]
    moved = client.post("/_sandbox/clock/advance", json={"seconds": 60}).json()
    assert moved["ts"] == frozen["ts"] + 60
    resumed = client.post("/_sandbox/clock/freeze", json={"frozen": False}).json()
    assert resumed["frozen"] is False and resumed["ts"] >= moved["ts"]
    client.post("/_sandbox/clock/freeze", json={"frozen": True})
    client.post("/_sandbox/reset")
    assert client.get("/_sandbox/clock").json()["frozen"] is False
