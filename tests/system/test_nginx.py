"""The API and its live change stream through nginx with config/nginx.conf
(its ports rewritten to the test's), as a deployment runs them; and the
systemd unit's commands are ones the server takes."""

import configparser
import os
import pwd
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests

from kinto_server.scripts.cli import parser
from tests.backends import IN_CI
from tests.stream_client import EventStream
from tests.support import ALICE
from tests.system.servers import ServerProcess, free_port, session, write_ini

pytestmark = pytest.mark.system
CONFIG = Path(__file__).resolve().parents[2] / "config"

MAIN = """
daemon off;
worker_processes 1;
user {user};
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/kinto_server.conf;
}}
"""


def nginx_binary():
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if found is None:
        reason = "nginx is not installed (.ci/ensure-nginx installs it)"
        if IN_CI:
            pytest.fail(f"nginx tests are mandatory in CI: {reason}")
        pytest.skip(reason)
    return found


@pytest.fixture
def behind_nginx(tmp_path):
    binary = nginx_binary()
    public = free_port()
    extra = (
        "kinto.changes.stream.listen = 127.0.0.1:{port}\n"
        "kinto.changes.stream.heartbeat_seconds = 1\n"
        f"kinto.changes.stream.url = http://127.0.0.1:{public}/v1/changes/stream\n"
    )
    url = f"sqlite://{tmp_path}/data.sqlite"
    ini, api = write_ini(tmp_path, url, extra=extra, includes="kinto_server.plugins.stream")
    stream = int(re.search(r"changes\.stream\.listen = 127\.0\.0\.1:(\d+)", ini.read_text()).group(1))
    # The server's request lines, to find nginx's request ids in them.
    text = ini.read_text().replace("[logger_root]\nlevel = WARNING", "[logger_root]\nlevel = INFO")
    colour = "[formatter_generic]\nclass = kinto_server.logs.ColorFormatter\n"
    ini.write_text(text.replace("[formatter_generic]\n", colour))
    server = ServerProcess(ini, api, tmp_path / "server.log")
    site = (CONFIG / "nginx.conf").read_text()
    site = site.replace("127.0.0.1:8888", f"127.0.0.1:{api}").replace("127.0.0.1:8889", f"127.0.0.1:{stream}")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{public};")
    (tmp_path / "kinto_server.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(MAIN.format(dir=tmp_path, user=pwd.getpwuid(os.getuid()).pw_name))
    proxy = subprocess.Popen([binary, "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)])
    deadline = time.monotonic() + 10
    while True:
        try:
            requests.get(f"http://127.0.0.1:{public}/v1/__lbheartbeat__", timeout=1)
            break
        except requests.ConnectionError:
            assert proxy.poll() is None, (tmp_path / "error.log").read_text()
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.1)
    yield f"http://127.0.0.1:{public}/v1", tmp_path
    proxy.terminate()
    proxy.wait(timeout=10)
    server.stop()


def test_the_api_and_the_change_stream_through_nginx(behind_nginx):
    url, folder = behind_nginx
    http = session()
    root = http.get(f"{url}/")
    assert root.status_code == 200
    assert root.json()["url"] == f"{url}/"  # the Host nginx passes on
    assert root.json()["capabilities"]["changes_stream"]["url"] == f"{url}/changes/stream"
    assert http.put(f"{url}/buckets/b").status_code == 201
    assert http.put(f"{url}/buckets/b/collections/c").status_code == 201

    stream = EventStream(f"{url}/changes/stream?resources=/buckets/b/collections/c", headers=ALICE)
    try:
        assert stream.next().event == "ready"
        record = http.post(f"{url}/buckets/b/collections/c/records", json={"data": {"via": "nginx"}}).json()["data"]
        (event,) = stream.changes(1, timeout=5)  # not held in nginx's buffers
        assert event.data["data"] == record
        assert stream.nothing_for(2.5) and stream.comments  # the heartbeats come through too
    finally:
        stream.close()

    # The server's own 413, in Kinto's JSON, under nginx's body limit.
    too_big = http.post(f"{url}/buckets/b/collections/c/records", json={"data": {"x": "y" * 1_100_000}})
    assert too_big.status_code == 413 and too_big.json()["errno"] == 113
    # One id for a request in nginx's answer and in the server's log line.
    answer = http.get(f"{url}/buckets/b")
    rid = answer.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    time.sleep(0.2)
    assert f"rid={rid}" in (folder / "server.log").read_text()


def test_the_systemd_unit_runs_commands_the_server_takes():
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.read(CONFIG / "kinto_server.service")
    service = unit["Service"]
    for key in ("ExecStartPre", "ExecStart"):
        program, *arguments = shlex.split(service[key])
        assert program.endswith("/.venv/bin/kinto_server")
        parsed = parser().parse_args(arguments)
        assert parsed.command == "start" and parsed.ini == "/etc/kinto_server/kinto.ini"
    assert parser().parse_args(shlex.split(service["ExecStartPre"])[1:]).check
    assert unit["Install"]["WantedBy"] == "multi-user.target"
