"""One log line per request, as Kinto writes it (request.summary), in its
JSON and terminal formats; never a credential in any log line."""

import base64
import json
import logging

import pytest

from kinto_server.logs import ColorFormatter, JsonLogFormatter, StreamHandlerWithRequestID
from tests.support import ALICE, user_id


@pytest.fixture
def summaries(caplog):
    caplog.set_level(logging.INFO, logger="request.summary")
    caplog.set_level(logging.INFO, logger="subrequest.summary")
    return lambda: [r for r in caplog.records if r.name in ("request.summary", "subrequest.summary")]


def fields(record):
    return json.loads(JsonLogFormatter().format(record))["Fields"]


def test_each_request_is_one_summary_line_with_kintos_fields(app, summaries):
    headers = {**ALICE, "X-Request-Id": "abc-123", "User-Agent": "test/1", "Accept-Language": "fr"}
    app.get("/v1/buckets?_limit=2", headers=headers)
    (record,) = summaries()
    line = fields(record)
    assert line.pop("time").startswith("20") and isinstance(line.pop("t"), int)
    assert line == {
        "agent": "test/1",
        "path": "/v1/buckets",
        "method": "GET",
        "lang": "fr",
        "rid": "abc-123",
        "errno": 0,
        "querystring": {"_limit": "2"},
        "uid": user_id("alice").removeprefix("basicauth:"),
        "authn_type": "basicauth",
        "code": 200,
    }


def test_an_error_logs_its_errno_and_a_request_without_id_gets_one(app, summaries):
    app.get("/v1/buckets/nope", status=401)
    line = fields(summaries()[0])
    assert (line["code"], line["errno"]) == (401, 104)
    assert len(line["rid"]) == 36 and "uid" not in line


def test_the_configured_handler_writes_the_request_id_on_the_summary_line(app, summaries):
    handler = StreamHandlerWithRequestID()
    handler.setFormatter(JsonLogFormatter())
    lines = []
    handler.emit = lambda record: lines.append(handler.format(record)) if handler.filter(record) else None
    logging.getLogger("request.summary").addHandler(handler)
    try:
        app.get("/v1/", headers={**ALICE, "X-Request-Id": "abc-9"})
    finally:
        logging.getLogger("request.summary").removeHandler(handler)
    assert json.loads(lines[0])["Fields"]["rid"] == "abc-9"


def test_the_json_format_is_mozlog(app, summaries):
    app.get("/v1/", headers=ALICE)
    entry = json.loads(JsonLogFormatter().format(summaries()[0]))
    assert set(entry) == {"Timestamp", "Type", "Logger", "Hostname", "EnvVersion", "Severity", "Pid", "Fields"}
    assert (entry["Type"], entry["Logger"], entry["EnvVersion"], entry["Severity"]) == (
        "request.summary",
        "kinto",
        "2.0",
        6,
    )


def test_a_batch_logs_its_sub_requests_as_kinto(app, summaries):
    body = {"requests": [{"method": "PUT", "path": "/buckets/x"}, {"method": "GET", "path": "/buckets/x"}]}
    app.post_json("/v1/batch", body, headers=ALICE)
    records = summaries()
    assert [r.name for r in records] == ["subrequest.summary", "subrequest.summary", "request.summary"]
    subs = [fields(r) for r in records[:2]]
    assert [(s["method"], s["path"], s["batch_size"]) for s in subs] == [
        ("PUT", "/v1/buckets/x", 2),
        ("GET", "/v1/buckets/x", 2),
    ]
    assert subs[0]["rid"] == fields(records[2])["rid"] and fields(records[2])["batch_size"] == 2


def test_the_terminal_format_puts_the_request_first(app, summaries):
    app.get("/v1/buckets", headers=ALICE)
    line = ColorFormatter().format(summaries()[0])
    assert '[request.summary] "GET /v1/buckets" 200 (' in line and " ms) " in line
    assert "rid=" in line and "path=" not in line


def test_records_logged_during_a_request_carry_its_id(make_app, caplog):
    app = make_app(
        **{
            "kinto.includes": "kinto_server.plugins.history",
            "kinto.history.auto_trim_max_count": "1",
            "kinto.history.auto_trim_threshold": "0",
        }
    )
    handler = StreamHandlerWithRequestID()
    seen = []
    handler.emit = seen.append
    logger = logging.getLogger("kinto_server.plugins.history")  # It logs each trim.
    logger.addHandler(handler)
    caplog.set_level(logging.INFO)
    try:
        app.put("/v1/buckets/b", headers=ALICE)
        app.patch_json("/v1/buckets/b", {"data": {"a": 1}}, headers={**ALICE, "X-Request-Id": "r-1"})
        logger.warning("outside any request")
    finally:
        logger.removeHandler(handler)
    assert [(r.getMessage().startswith("Trimmed"), r.rid) for r in seen] == [(True, "r-1"), (False, None)]


SECRET_PASSWORD = "correct-horse-battery-staple"


def test_no_log_line_ever_holds_a_password_token_or_authorization(make_app, caplog):
    caplog.set_level(logging.DEBUG)  # Every logger, every level.
    app = make_app(
        **{
            "kinto.includes": "kinto_server.plugins.accounts kinto_server.plugins.history",
            "kinto.multiauth.policies": "account basicauth",
            "kinto.account_create_principals": "system.Everyone",
        }
    )
    basic = "Basic " + base64.b64encode(f"ann:{SECRET_PASSWORD}".encode()).decode()
    app.post_json("/v1/accounts", {"data": {"id": "ann", "password": SECRET_PASSWORD}})
    app.get("/v1/", headers={"Authorization": basic})
    app.get(
        f"/v1/buckets?password={SECRET_PASSWORD}&token=tok-{SECRET_PASSWORD}&_token=pg-{SECRET_PASSWORD}",
        headers={"Authorization": basic},
        expect_errors=True,  # A _token that is none: 400.
    )
    app.get("/v1/", headers={"Authorization": "Bearer bearer-" + SECRET_PASSWORD}, expect_errors=True)
    app.patch_json("/v1/accounts/ann", {"data": {"password": SECRET_PASSWORD + "2"}}, headers={"Authorization": basic})
    app.get("/v1/", headers={"Authorization": "Basic " + base64.b64encode(b"ann:wrong").decode()})
    formatted = []
    for record in caplog.records:
        formatted += [JsonLogFormatter().format(record), ColorFormatter().format(record), record.getMessage()]
    assert any('"querystring"' in line for line in formatted)  # The lines are there...
    for line in formatted:  # ...and none holds a secret.
        assert SECRET_PASSWORD not in line
        assert base64.b64encode(f"ann:{SECRET_PASSWORD}".encode()).decode() not in line
        assert "Authorization" not in line and "Bearer" not in line


def test_the_answer_names_the_request_id_of_its_log_lines(app, summaries):
    answer = app.get("/v1/", headers={"X-Request-Id": "lb-42.a:b"})
    assert answer.headers["X-Request-Id"] == "lb-42.a:b"
    generated = app.get("/v1/buckets/nope", status=401).headers["X-Request-Id"]
    assert [fields(r)["rid"] for r in summaries()] == ["lb-42.a:b", generated]


@pytest.mark.parametrize("forged", ["a b", "x" * 129, "id\r\nfake line", 'quote"d'])
def test_a_request_id_that_could_forge_or_flood_a_line_is_replaced(app, summaries, forged):
    answer = app.get("/v1/", headers={"X-Request-Id": forged})
    rid = fields(summaries()[0])["rid"]
    assert rid != forged and len(rid) == 36 and answer.headers["X-Request-Id"] == rid
