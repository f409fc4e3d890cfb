"""Compatibility re-exports: the helpers now live in parsing, redaction, provider and oauth2."""

from socialseed.platforms.oauth2 import OAuth2Provider
from socialseed.platforms.parsing import (
    JSON,
    as_int,
    humanize,
    json_object,
    parse_scopes,
    seconds_until_epoch,
    seconds_until_midnight,
    utcnow,
)
from socialseed.platforms.provider import BaseProvider, Call, Clock, Endpoint
from socialseed.platforms.redaction import (
    RedactUrlSecrets,
    install_log_redaction,
    redact_url,
    request_secrets,
    scrub,
)

__all__ = [
    "JSON",
    "BaseProvider",
    "Call",
    "Clock",
    "Endpoint",
    "OAuth2Provider",
    "RedactUrlSecrets",
    "as_int",
    "humanize",
    "install_log_redaction",
    "json_object",
    "parse_scopes",
    "redact_url",
    "request_secrets",
    "scrub",
    "seconds_until_epoch",
    "seconds_until_midnight",
    "utcnow",
]
