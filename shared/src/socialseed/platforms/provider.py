"""``BaseProvider``: what the six providers share: HTTP with classified failures and the rules
every error classifier follows.

How a refused access token is reported (one rule for every platform):

* on an API call made with an access token (``profile``, later publish and metrics) the
  platform's "unauthorized" signal (X's 401 problem JSON, TikTok ``access_token_invalid``, Meta
  OAuthException 190, LinkedIn 65600/65601, Google ``authError``) is ``REAUTH_REQUIRED`` with the
  platform's code in ``PlatformError.code``. It means *this access token* is refused: a caller
  holding a refresh token refreshes once and retries before it gives up on the account;
* ``REAUTH_REQUIRED`` raised by ``refresh`` is final: the grant itself is gone (``invalid_grant``,
  revoked, expired refresh token, no refresh token at all). The account needs a new consent;
* during ``exchange_code`` nothing is connected yet, so a refused code is ``BAD_REQUEST``: the user
  starts connecting again;
* ``revoke`` treats "this token is already invalid" as done: revoking is idempotent.

A refresh whose answer was lost (timeout, connection dropped after the request left) is sent
again (``PlatformsConfig.refresh_attempts``) before anything is concluded: the platform may never
have seen it. Where refresh tokens rotate and are single use (X, TikTok) and the platform did
act on the lost request, the retry's refresh token is spent and refused: no documented grace
period lets the old one be used again, so that ``REAUTH_REQUIRED`` is final too, and its message
says an earlier answer was lost. Only refreshes are retried here: a code is single use, and API
callers know whether their call may be repeated.

No token, code or secret ever reaches an exception message: every detail a platform sends back is
scrubbed of the values our request carried before it is used in one.
"""

from __future__ import annotations

import abc
import enum
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol

import httpx
from authlib.common.urls import add_params_to_uri
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from socialseed.budgets.rules import RateLimits
from socialseed.metrics import count_platform_call
from socialseed.platforms.base import (
    AccountMetrics,
    Authorization,
    Connection,
    ErrorKind,
    MediaKind,
    MetricsBatch,
    Pending,
    Platform,
    PlatformCredentials,
    PlatformError,
    PlatformMedia,
    PlatformPost,
    PlatformsConfig,
    PostListing,
    Profile,
    PublishedPost,
    TokenSet,
    transport_error,
)
from socialseed.platforms.parsing import JSON, as_int, humanize, json_object, parse_scopes, utcnow
from socialseed.platforms.redaction import request_secrets, scrub

Clock = Callable[[], datetime]
#: (real base URL, path): resolved through ``PlatformsConfig.url`` so the sandbox serves it too.
Endpoint = tuple[str, str]


class Call(enum.Enum):
    """Which kind of request failed: the same answer means different things in each."""

    EXCHANGE = "exchange"  # authorization code -> tokens
    REFRESH = "refresh"  # refresh token (or Instagram's long-lived token) -> tokens
    REVOKE = "revoke"
    API = "api"  # any call authenticated by an access token


class Provider(Protocol):
    platform: Platform
    #: The platform's name as people write it ("X", "YouTube"), for messages to users.
    name: str
    #: True when a refresh token, once used, stops working (X, TikTok): refreshes of one
    #: account must be serialised and the new refresh token saved before anything else.
    rotating_refresh: bool

    def authorize(self, *, state: str, redirect_uri: str) -> Authorization:
        """The consent URL (with PKCE where the platform takes it) and the verifier to keep."""

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> TokenSet:
        """Trade the authorization code for tokens (long-lived where the platform has them)."""

    async def connections(self, tokens: TokenSet) -> list[Connection]:
        """The accounts these user tokens give access to, with their own tokens."""

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        """New tokens; raises REAUTH_REQUIRED when the platform cannot refresh this grant.
        A refresh token the platform does not resend is kept from ``tokens``."""

    async def revoke(self, tokens: TokenSet) -> None:
        """Revoke the grant at the platform (best effort where it has no revoke endpoint)."""

    async def profile(self, tokens: TokenSet) -> Profile:
        """The account's current profile and counters."""

    async def publish(
        self, tokens: TokenSet, post: PlatformPost, progress: Mapping[str, Any] | None = None
    ) -> PublishedPost | Pending:
        """Advance the publish of ``post`` on the account these tokens belong to.

        Each call makes at most one step that becomes visible on the platform (the tweet, the
        ``media_publish``, one reply of a thread); the steps before it (uploads, containers)
        are safe to repeat. ``progress`` is what the previous call's :class:`Pending` said.
        A platform's "duplicate" answer raises ``PlatformError(PERMANENT, code="duplicate")``:
        the caller reconciles with ``find_published_post`` instead of failing the post."""

    async def find_published_post(
        self,
        tokens: TokenSet,
        post: PlatformPost,
        since: datetime,
        progress: Mapping[str, Any] | None = None,
    ) -> PublishedPost | Pending | None:
        """Reconciliation after a publish whose outcome is unknown (timeout, dropped
        connection, a worker killed mid-call): the post as the platform has it if it was
        published since ``since`` (matched by the platform's own handle in ``progress`` when
        there is one — a container's or publish id's status — else among the account's recent
        posts by text and media), :class:`Pending` when the platform is still processing it,
        ``None`` when it was not published (so publishing again cannot duplicate it)."""

    #: The longest first comment the platform takes on one's own post, in characters;
    #: ``None``: its API takes none (``post_comment`` and ``find_comment`` raise).
    comment_limit: int | None

    async def post_comment(self, tokens: TokenSet, post_id: str, text: str) -> str:
        """Comment ``text`` on the account's own post ``post_id`` as the account; the comment's
        id. One call, one comment: a lost answer may have left it posted, so a caller that
        does not know the outcome asks ``find_comment`` before calling this again."""

    async def find_comment(
        self, tokens: TokenSet, post_id: str, text: str, since: datetime
    ) -> str | None:
        """The id of a comment by the account on ``post_id`` with ``text`` (compared as
        platforms give text back) made since ``since``, else ``None``: reconciliation of a
        comment whose outcome is unknown."""

    #: The most post ids one ``fetch_post_metrics`` call takes (X 100, YouTube 50, TikTok 20,
    #: a Graph batch 50); callers split larger sets.
    metrics_batch_size: int

    def metrics_cost(self, ids: Sequence[str], platform_user_id: str | None = None) -> int:
        """What ``fetch_post_metrics(ids)`` costs in the platform's own rate-limit unit (X: a
        request for the tweets young enough for private metrics and one for the older ones;
        YouTube: 1 quota unit per ``videos.list``; Graph: each batch item is one call), known
        before the call so that a budget can be reserved for it. ``platform_user_id`` is the
        account's (LinkedIn: a page's posts cost less than a member's)."""

    async def list_posts(self, tokens: TokenSet, since: datetime) -> PostListing:
        """The account's posts published since ``since``, newest first, paging through the
        platform's own list endpoint (posts published elsewhere included)."""

    async def fetch_post_metrics(self, tokens: TokenSet, ids: Sequence[str]) -> MetricsBatch:
        """Metrics of at most ``metrics_batch_size`` posts in as few calls as the platform
        allows. A post the platform cannot report on is an ``ItemFailure``, never an
        exception; a failure of the whole call (rate limit, token refused, 5xx) raises
        ``PlatformError``."""

    async def fetch_account_metrics(self, tokens: TokenSet) -> AccountMetrics:
        """The account's current counters."""


class ProviderClass(Protocol):
    """A provider's class: what ``build_providers`` calls to make one, and its declared
    limits."""

    rate_limits: RateLimits

    def __call__(
        self,
        config: PlatformsConfig,
        client: httpx.AsyncClient,
        *,
        clock: Clock = ...,
        service: str = ...,
    ) -> Provider: ...


class BaseProvider(abc.ABC):
    """HTTP, token parsing and error wording shared by every provider.

    Subclasses set the class attributes and implement the ``Provider`` methods above; the only thing
    each must say about errors is ``api_error``: how its API words a failure.
    """

    platform: Platform
    #: How users know the platform, for messages ("X", "TikTok").
    name: str
    rotating_refresh: bool = False
    default_scopes: tuple[str, ...] = ()
    #: Wait suggested for a rate limit whose answer does not say when it ends.
    default_retry_after: float = 60.0
    #: The platform's documented limits, declared here once: what analytics' reads and the
    #: publisher's publishes count against (``socialseed.budgets``; settings may override).
    rate_limits: ClassVar[RateLimits] = RateLimits()

    def __init__(
        self,
        config: PlatformsConfig,
        client: httpx.AsyncClient,
        *,
        clock: Clock = utcnow,
        service: str = "unknown",
    ) -> None:
        self.config = config
        self.client = client
        self.service = service  # the calling service, in the platform-call metrics
        # Injectable so expiry and "token age" rules follow a shifted (sandbox) clock in tests.
        self.clock = clock

    @abc.abstractmethod
    async def profile(self, tokens: TokenSet) -> Profile:
        """See ``Provider.profile`` (``connections`` below is built on it)."""
        raise NotImplementedError

    async def connections(self, tokens: TokenSet) -> list[Connection]:
        """One consent, one account (Facebook overrides: one per page)."""
        return [Connection(await self.profile(tokens), tokens)]

    # configuration ------------------------------------------------------------------------
    @property
    def credentials(self) -> PlatformCredentials:
        return self.config.credentials(self.platform)

    @property
    def client_secret(self) -> str:
        return self.credentials.client_secret.get_secret_value()

    @property
    def scopes(self) -> list[str]:
        return list(self.credentials.scopes or self.default_scopes)

    def url(self, endpoint: Endpoint) -> str:
        return self.config.url(self.platform, *endpoint)

    def authorize_url(self, endpoint: Endpoint, params: Mapping[str, str | None]) -> str:
        return add_params_to_uri(
            self.url(endpoint), [(k, v) for k, v in params.items() if v is not None]
        )

    def expires_at(self, seconds: Any) -> datetime | None:
        lifetime = as_int(seconds)
        return None if lifetime is None else self.clock() + timedelta(seconds=lifetime)

    # HTTP ---------------------------------------------------------------------------------
    async def send(self, call: Call, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request (a refresh whose answer is lost is sent again); any failure comes out
        as a classified ``PlatformError``."""
        response, lost = await self.request(call, method, url, **kwargs)
        error = self.classify(response, call)
        if error is None:
            return response
        if call is Call.EXCHANGE and error.kind is ErrorKind.REAUTH_REQUIRED:
            error = self.code_refused(response, error.code)
        if lost and self.rotating_refresh and error.kind is ErrorKind.REAUTH_REQUIRED:
            error = self.fail(
                ErrorKind.REAUTH_REQUIRED,
                response,
                detail="refused the refresh token after the answer to an earlier refresh was "
                "lost on the way (its refresh tokens are single use: that refresh most likely "
                "replaced it)",
                code=error.code,
            )
        raise error

    async def request(
        self, call: Call, method: str, url: str, **kwargs: Any
    ) -> tuple[httpx.Response, int]:
        """The platform's answer, and how many earlier tries of it got none. A transport
        failure (no answer) of a refresh is retried with backoff; of anything else, or of
        the last try, it is a ``TRANSIENT`` error."""
        config = self.config
        retrying = AsyncRetrying(
            stop=stop_after_attempt(config.refresh_attempts if call is Call.REFRESH else 1),
            wait=wait_exponential(multiplier=config.refresh_retry_wait, exp_base=2),
            retry=retry_if_exception_type(httpx.TransportError),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    try:
                        response = await self.client.request(
                            method, url, timeout=config.timeout, **kwargs
                        )
                    except httpx.TransportError:
                        count_platform_call(self.service, self.platform.value, url, None)
                        raise
                    count_platform_call(
                        self.service, self.platform.value, url, response.status_code
                    )
        except httpx.TransportError as exc:
            raise transport_error(self.platform, exc) from None
        return response, int(retrying.statistics["attempt_number"]) - 1

    async def revoke_call(self, method: str, url: str, **kwargs: Any) -> None:
        """A revoke request; a token the platform already refuses counts as revoked."""
        try:
            await self.send(Call.REVOKE, method, url, **kwargs)
        except PlatformError as exc:
            if exc.kind is not ErrorKind.REAUTH_REQUIRED:
                raise

    async def send_json(self, call: Call, method: str, url: str, **kwargs: Any) -> JSON:
        response = await self.send(call, method, url, **kwargs)
        body = json_object(response)
        if body is None:
            raise self.fail(
                ErrorKind.TRANSIENT, response, detail="answered with something other than JSON"
            )
        return body

    # classification -----------------------------------------------------------------------
    def classify(self, response: httpx.Response, call: Call) -> PlatformError | None:
        """None when the request succeeded, else the classified failure."""
        if response.is_success:
            return None
        body = json_object(response) or {}
        if call is Call.API:
            return self.api_error(response, body)
        return self.oauth_error(response, call, body)

    def api_error(self, response: httpx.Response, body: JSON) -> PlatformError:
        """How this platform's API words a failure; the default reads the HTTP status only."""
        return self.by_status(response)

    def by_status(
        self, response: httpx.Response, detail: str | None = None, code: str | None = None
    ) -> PlatformError:
        status = response.status_code
        if status >= 500:
            return self.fail(ErrorKind.TRANSIENT, response, code=code)
        if status == 401:
            return self.fail(
                ErrorKind.REAUTH_REQUIRED,
                response,
                detail="says this connection is no longer valid (expired or revoked)",
                code=code or "401",
            )
        if status == 429:
            return self.rate_limited(response, None, detail=detail, code=code)
        return self.fail(ErrorKind.BAD_REQUEST, response, detail=detail, code=code)

    def oauth_error(self, response: httpx.Response, call: Call, body: JSON) -> PlatformError:
        """An RFC 6749 ``{error, error_description}`` answer from a token or revoke endpoint."""
        error = str(body.get("error") or "")
        description = body.get("error_description")
        detail = str(description) if description else error or None
        status = response.status_code
        if status >= 500 or status == 429:
            return self.by_status(response, detail, error or None)
        if status == 401 or error == "invalid_client":
            # Our app's credentials were refused: a configuration problem, not the user's.
            return self.fail(
                ErrorKind.BAD_REQUEST,
                response,
                detail=f"refused our app credentials ({detail})",
                code=error or None,
            )
        if error in ("unsupported_grant_type", "invalid_scope"):
            return self.fail(ErrorKind.BAD_REQUEST, response, detail=detail, code=error)
        if call is Call.EXCHANGE:
            return self.code_refused(response, error or None)
        # On refresh and revoke every other refusal (invalid_grant, and X's invalid_request for
        # a used refresh token) says the token presented is no longer good.
        return self.fail(
            ErrorKind.REAUTH_REQUIRED,
            response,
            detail="says this connection has expired or was revoked",
            code=error or None,
        )

    def code_refused(self, response: httpx.Response, code: str | None) -> PlatformError:
        return self.fail(
            ErrorKind.BAD_REQUEST,
            response,
            detail="refused the authorization (the code expired, was already used or belongs to "
            "another redirect URI); start connecting the account again",
            code=code,
        )

    def rate_limited(
        self,
        response: httpx.Response,
        retry_after: float | None,
        *,
        detail: str | None = None,
        code: str | None = None,
    ) -> PlatformError:
        return self.fail(
            ErrorKind.RATE_LIMITED,
            response,
            detail=detail,
            code=code,
            retry_after=retry_after if retry_after is not None else self.default_retry_after,
        )

    def fail(
        self,
        kind: ErrorKind,
        response: httpx.Response | None,
        *,
        detail: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> PlatformError:
        """A ``PlatformError`` worded for users, with every secret of the request scrubbed."""
        name = self.name
        status = response.status_code if response is not None else None
        clean = (detail or "").strip().rstrip(".")
        if kind is ErrorKind.REAUTH_REQUIRED:
            message = f"{name} {clean or 'no longer accepts this connection'}; "
            message += "connect the account again."
        elif kind is ErrorKind.RATE_LIMITED:
            wait = humanize(retry_after or self.default_retry_after)
            reason = f" ({clean})" if clean else ""
            message = f"{name} is rate limiting this account{reason}; trying again in {wait}."
        elif kind is ErrorKind.TRANSIENT:
            reason = clean or (f"HTTP {status}" if status else "no answer")
            message = f"{name} is temporarily unavailable ({reason}); trying again later."
        elif kind is ErrorKind.PERMANENT:
            message = f"{name} refused this for good: {clean or f'HTTP {status}'}."
        else:
            message = f"{name} rejected the request: {clean or f'HTTP {status}'}."
        if response is not None:
            message = scrub(message, request_secrets(response.request))
        return PlatformError(
            kind,
            message,
            platform=self.platform,
            status=status,
            code=code,
            retry_after=retry_after,
        )

    # tokens -------------------------------------------------------------------------------
    def token_set(
        self,
        body: JSON,
        *,
        previous: TokenSet | None = None,
        platform_user_id: str | None = None,
    ) -> TokenSet:
        """Tokens from a token response; what the platform did not resend is kept."""
        refresh_token = body.get("refresh_token")
        refresh_expires_in = body.get("refresh_expires_in", body.get("refresh_token_expires_in"))
        if isinstance(refresh_token, str) and refresh_token:
            refresh_expires_at = self.expires_at(refresh_expires_in)
        elif previous is not None:
            refresh_token, refresh_expires_at = previous.refresh_token, previous.refresh_expires_at
        else:
            refresh_token, refresh_expires_at = None, None
        scopes = parse_scopes(body.get("scope", body.get("permissions")))
        user_id = platform_user_id or (previous.platform_user_id if previous else None)
        return TokenSet(
            access_token=str(body["access_token"]),
            expires_at=self.expires_at(body.get("expires_in")),
            refresh_token=refresh_token,
            refresh_expires_at=refresh_expires_at,
            scopes=scopes or (previous.scopes if previous else ()),
            platform_user_id=user_id,
        )

    async def send_for_token(self, call: Call, method: str, url: str, **kwargs: Any) -> JSON:
        """A token endpoint's answer, which must carry an access token."""
        response = await self.send(call, method, url, **kwargs)
        return self.require_token(response, call, json_object(response) or {})

    def require_token(self, response: httpx.Response, call: Call, body: JSON) -> JSON:
        """A token response must carry an access token; some platforms answer 200 with an
        error body instead."""
        if isinstance(body.get("access_token"), str) and body["access_token"]:
            return body
        if body.get("error"):
            raise self.oauth_error(response, call, body)
        raise self.fail(ErrorKind.TRANSIENT, response, detail="answered without an access token")

    def single_video(self, post: PlatformPost) -> PlatformMedia:
        """The post's one video, for platforms whose posts are exactly that (TikTok, YouTube)."""
        if len(post.media) != 1 or post.media[0].kind is not MediaKind.VIDEO:
            raise self.fail(
                ErrorKind.BAD_REQUEST,
                None,
                detail=f"a {self.name} post needs one video",
                code="media",
            )
        return post.media[0]

    def bearer(self, tokens: TokenSet) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens.access_token}"}

    async def publish(
        self, tokens: TokenSet, post: PlatformPost, progress: Mapping[str, Any] | None = None
    ) -> PublishedPost | Pending:
        raise NotImplementedError(f"{self.platform.value}: publishing is not supported yet")

    async def find_published_post(
        self,
        tokens: TokenSet,
        post: PlatformPost,
        since: datetime,
        progress: Mapping[str, Any] | None = None,
    ) -> PublishedPost | Pending | None:
        raise NotImplementedError(f"{self.platform.value}: post lookup is not supported yet")

    comment_limit: int | None = None

    async def post_comment(self, tokens: TokenSet, post_id: str, text: str) -> str:
        raise NotImplementedError(f"{self.platform.value}: its API takes no comments")

    async def find_comment(
        self, tokens: TokenSet, post_id: str, text: str, since: datetime
    ) -> str | None:
        raise NotImplementedError(f"{self.platform.value}: its API takes no comments")

    metrics_batch_size: int = 1

    def metrics_cost(self, ids: Sequence[str], platform_user_id: str | None = None) -> int:
        return math.ceil(len(ids) / self.metrics_batch_size)

    async def list_posts(self, tokens: TokenSet, since: datetime) -> PostListing:
        raise NotImplementedError(f"{self.platform.value}: post lists are not supported yet")

    async def fetch_post_metrics(self, tokens: TokenSet, ids: Sequence[str]) -> MetricsBatch:
        raise NotImplementedError(f"{self.platform.value}: post metrics are not supported yet")

    async def fetch_account_metrics(self, tokens: TokenSet) -> AccountMetrics:
        raise NotImplementedError(f"{self.platform.value}: account metrics are not supported yet")
