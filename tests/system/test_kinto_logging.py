"""``kinto_server start`` on an ini whose logging sections are the ones
``kinto init`` writes (Kinto 26.5's template): Kinto's class names are read
as ours, and ``formatter = json`` gives Kinto's JSON request lines."""

import json

import pytest

from tests.system.servers import ServerProcess, session, write_ini

pytestmark = pytest.mark.system

# The logging part of Kinto 26.5's kinto.tpl, the formatter switched to json.
KINTO_LOGGING = """
[loggers]
keys = root, kinto

[handlers]
keys = console

[formatters]
keys = color, json

[logger_root]
level = INFO
handlers = console

[logger_kinto]
level = DEBUG
handlers = console
qualname = kinto
propagate = 0

[handler_console]
class = kinto.core.StreamHandlerWithRequestID
args = (sys.stderr,)
level = NOTSET
formatter = {formatter}

[formatter_color]
class = logging_color_formatter.ColorFormatter

[formatter_json]
class = kinto.core.JsonLogFormatter
"""


@pytest.mark.parametrize("formatter", ["json", "color"])
def test_an_ini_with_kintos_logging_sections_starts_and_logs_each_request(tmp_path, formatter):
    ini, port = write_ini(tmp_path, None, name="kinto-logging")
    text = ini.read_text()
    ini.write_text(text[: text.index("[loggers]")] + KINTO_LOGGING.format(formatter=formatter))
    log = tmp_path / "server.log"
    server = ServerProcess(ini, port, log)
    try:
        response = session().get(f"{server.url}/buckets?_limit=1&password=hunter2", headers={"X-Request-Id": "sys-1"})
        assert response.status_code == 200
    finally:
        server.stop()
    lines = log.read_text().splitlines()
    if formatter == "json":
        summaries = [json.loads(line) for line in lines if '"request.summary"' in line]
        fields = [s["Fields"] for s in summaries if s["Fields"].get("rid") == "sys-1"]
        assert fields and fields[0]["path"] == "/v1/buckets" and fields[0]["code"] == 200
        assert fields[0]["querystring"] == {"_limit": "1", "password": "[redacted]"}
    else:
        assert any('[request.summary] "GET /v1/buckets" 200' in line and "rid=sys-1" in line for line in lines)
    assert "hunter2" not in log.read_text()
