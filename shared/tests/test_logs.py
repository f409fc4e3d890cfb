"""Log lines as JSON: one object per record on one line, whatever the record holds, with the
request and trace it was written under, and no secret in any field; and which format a
process chooses."""

from __future__ import annotations

import json
import logging
import logging.config
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from socialseed.cli import Supervisor
from socialseed.logs import LOG_FORMAT_ENV, REQUEST_ID, log_format, logging_config
from socialseed.stack import SANDBOX, SERVICES

SECRET = "hunter2-very-secret"
JWT = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJlc2lnbmF0dXJl"


@pytest.fixture
def json_log(tmp_path: Path) -> Iterator[Path]:
    """The root logger configured by the kit's own configuration (JSON, into a file), put back
    as it was afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    log_file = tmp_path / "probe.log"
    logging.config.dictConfig(logging_config("probe", "DEBUG", log_file, log_format="json"))
    try:
        yield log_file
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:], level = saved
        root.setLevel(level)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_record_is_one_json_line_whatever_its_message_holds(json_log: Path) -> None:
    log = logging.getLogger("probe.inject")
    log.warning("input %s", "evil\r\nINFO forged line\u2028and more")
    log.info("second")
    lines = _lines(json_log)
    assert [x["message"] for x in lines] == [
        "input evil\r\nINFO forged line\u2028and more",
        "second",
    ]
    assert not any(line.startswith("INFO forged") for line in json_log.read_text().splitlines())


def test_secrets_are_masked_in_the_message_the_exception_and_every_extra(
    json_log: Path,
) -> None:
    log = logging.getLogger("probe.secrets")
    log.info("header Authorization: Bearer %s and password=%s", JWT, SECRET)
    try:
        raise RuntimeError(f"refresh failed: refresh_token={SECRET}\n{JWT}")
    except RuntimeError:
        log.exception("refresh of %s failed", "acct-1")
    log.info(
        "with extras",
        extra={
            "token": SECRET,  # a secret by its name
            "headers": {"Authorization": f"Basic {SECRET}", "accept": "text/plain"},
            "attempts": [f"client_secret={SECRET}", 2],
            "error": ValueError(f"access_token={SECRET}"),  # written as its text
            "count": 3,
            "timestamp": "not ours",
        },
    )
    text = json_log.read_text()
    assert SECRET not in text and JWT not in text
    said, failed, extras = _lines(json_log)
    assert said["message"] == "header Authorization: Bearer *** and password=***"
    assert failed["message"] == "refresh of acct-1 failed"
    assert failed["exc_info"].startswith("Traceback (most recent call last):")
    assert "RuntimeError: refresh failed: refresh_token=***\n***jwt***" in failed["exc_info"]
    assert extras["token"] == "***"
    assert extras["headers"] == {"Authorization": "***", "accept": "text/plain"}
    assert extras["attempts"] == ["client_secret=***", 2]
    assert extras["error"] == "access_token=***"
    assert extras["count"] == 3
    assert extras["timestamp"] != "not ours"


def test_a_line_names_the_request_and_the_current_span(json_log: Path) -> None:
    log = logging.getLogger("probe.context")
    log.info("outside")
    tracer = TracerProvider().get_tracer("probe")
    token = REQUEST_ID.set("req-1")
    try:
        with tracer.start_as_current_span("work") as span:
            log.info("inside")
            context = span.get_span_context()
    finally:
        REQUEST_ID.reset(token)
    outside, inside = _lines(json_log)
    assert outside["request_id"] is None
    assert outside["trace_id"] is None and outside["span_id"] is None
    assert inside["request_id"] == "req-1"
    assert inside["trace_id"] == trace.format_trace_id(context.trace_id)
    assert inside["span_id"] == trace.format_span_id(context.span_id)
    assert list(inside)[:9] == [
        "timestamp", "level", "logger", "message", "service", "pid",
        "request_id", "trace_id", "span_id",
    ]  # fmt: skip
    assert inside["timestamp"].endswith("Z") and "T" in inside["timestamp"]
    assert (inside["level"], inside["logger"], inside["service"]) == (
        "INFO",
        "probe.context",
        "probe",
    )
    assert inside["pid"] == os.getpid()


def test_text_on_a_terminal_json_otherwise_unless_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LOG_FORMAT_ENV, raising=False)
    leader, follower = os.openpty()
    with open(follower, "w") as terminal, open(tmp_path / "out", "w") as file:
        assert log_format(stream=terminal) == "text"
        assert log_format(stream=file) == "json"
        assert log_format("auto", stream=terminal) == "text"
        assert log_format("JSON", stream=terminal) == "json"
        monkeypatch.setenv(LOG_FORMAT_ENV, "text")
        assert log_format(stream=file) == "text"
        monkeypatch.setenv(LOG_FORMAT_ENV, "yaml")
        with pytest.raises(ValueError, match=LOG_FORMAT_ENV):
            log_format(stream=file)
    os.close(leader)


def test_socialseed_up_hands_its_choice_to_every_process_it_starts(tmp_path: Path) -> None:
    """The services write into files: left to choose, they would all choose JSON."""
    for chosen in ("text", "json"):
        supervisor = Supervisor(tmp_path, log_format=chosen)  # type: ignore[arg-type]
        for spec in (SANDBOX, *SERVICES):
            assert supervisor.service_env(spec)[LOG_FORMAT_ENV] == chosen


def test_text_lines_stay_the_default(tmp_path: Path) -> None:
    log_file = tmp_path / "text.log"
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logging.config.dictConfig(logging_config("probe", "INFO", log_file))
    try:
        logging.getLogger("probe.text").warning("password=%s\nINFO forged", SECRET)
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:], level = saved
        root.setLevel(level)
    text = log_file.read_text()
    assert text.count("\n") == 1
    assert " WARNING probe probe.text [-]: password=***\\nINFO forged" in text
