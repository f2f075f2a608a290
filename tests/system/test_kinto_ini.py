"""One ini as a Kinto 26.5 deployment writes it, with Kinto's backend,
plugin, policy, logging and setting names for everything issue 14 covers
(history and its settings, Response-Behavior, user data deletion, cache
headers, counters, Prometheus and StatsD, JSON request logs, OpenID
Connect, a Redis cache, heartbeat_timeout_seconds), only ``use`` changed to
``egg:kinto_server``: the server starts and each feature answers."""

import contextlib
import json
import socket
import time

import pytest
import requests

from tests.backends import DATABASE_URL, REDIS_URL, database_client, shared_cache
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, OpenIDProvider
from tests.system.servers import ServerProcess, free_port
from tests.system.test_kinto_logging import KINTO_LOGGING

pytestmark = pytest.mark.system

KINTO_APP = """
[app:main]
use = egg:kinto_server
kinto.userid_hmac_secret = kinto-ini-test-secret
kinto.storage_backend = kinto.core.storage.postgresql
kinto.storage_url = {database}
kinto.permission_backend = kinto.core.permission.postgresql
kinto.permission_url = {database}
kinto.cache_backend = kinto.core.cache.redis
kinto.cache_url = {redis}
kinto.bucket_create_principals = system.Authenticated
kinto.includes = kinto.plugins.default_bucket
                 kinto.plugins.history
                 kinto.plugins.counters
                 kinto.plugins.prometheus
                 kinto.plugins.statsd
                 kinto.plugins.openid
multiauth.policies = auth0 basicauth
multiauth.policy.auth0.use = kinto.plugins.openid.OpenIDConnectPolicy
multiauth.policy.auth0.issuer = {issuer}
multiauth.policy.auth0.client_id = {client_id}
multiauth.policy.auth0.client_secret = {client_secret}
kinto.history.exclude_user_ids = {bob}
kinto.history.auto_trim_max_count = 3
kinto.history.auto_trim_threshold = 1
kinto.record_cache_expires_seconds = 120
kinto.statsd_url = udp://127.0.0.1:{statsd_port}
kinto.user-data_delete_principals = auth0:admin
kinto.heartbeat_timeout_seconds = 5

[server:main]
use = egg:waitress#main
host = 127.0.0.1
port = {port}

"""

# And the logging sections of kinto init, with its JSON formatter.
KINTO_INI = KINTO_APP + KINTO_LOGGING.format(formatter="json")


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def basicauth_id(user, password):
    import hashlib
    import hmac

    digest = hmac.new(b"kinto-ini-test-secret", f"{user}:{password}".encode(), hashlib.sha256).hexdigest()
    return f"basicauth:{digest}"


@pytest.fixture
def deployment(tmp_path):
    database_client()
    shared_cache("redis").close()
    provider = OpenIDProvider().start()
    agent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    agent.bind(("127.0.0.1", 0))
    agent.settimeout(1.0)
    port = free_port()
    ini = tmp_path / "kinto.ini"
    ini.write_text(
        KINTO_INI.format(
            database=DATABASE_URL,
            redis=REDIS_URL,
            issuer=provider.issuer,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            bob=basicauth_id("bob", "secret"),
            statsd_port=agent.getsockname()[1],
            port=port,
        )
    )
    log = tmp_path / "server.log"
    server = ServerProcess(ini, port, log)
    server.provider, server.agent, server.log_path = provider, agent, log
    yield server
    server.stop()
    provider.stop()
    agent.close()


def test_a_kinto_ini_with_every_plugin_starts_and_each_feature_answers(deployment):
    url, provider = deployment.url, deployment.provider
    alice = requests.Session()
    alice.headers.update(bearer(provider.issue_token()))
    admin = bearer(provider.issue_token({"sub": "admin"}))

    root = alice.get(f"{url}/").json()
    assert {"history", "openid", "default_bucket", "counters_endpoint"} <= set(root["capabilities"])
    assert root["user"]["id"] == "auth0:alice" and root["user"]["profile"]["email"] == "alice@example.com"

    # Records, with Response-Behavior and cache headers.
    assert alice.put(f"{url}/buckets/app", json={"permissions": {"read": ["system.Everyone"]}}).status_code == 201
    assert alice.put(f"{url}/buckets/app/collections/notes").status_code == 201
    records = f"{url}/buckets/app/collections/notes/records"
    before = alice.put(f"{records}/n1", json={"data": {"v": 1, "w": 0}}).json()["data"]["last_modified"]
    light = alice.patch(f"{records}/n1", json={"data": {"v": 2, "w": 0}}, headers={"Response-Behavior": "light"})
    assert light.status_code == 200 and light.json() == {"data": {"v": 2}}
    for v in (3, 4, 5):
        alice.patch(f"{records}/n1", json={"data": {"v": v}})
    read = requests.get(f"{records}/n1")
    assert read.json()["data"]["v"] == 5
    assert "max-age=120" in read.headers["Cache-Control"]

    # History: trimmed to 3 record entries, bob's changes left out, snapshots.
    bob = requests.Session()
    bob.auth = ("bob", "secret")
    alice.put(f"{url}/buckets/app/collections/notes", json={"permissions": {"write": ["system.Authenticated"]}})
    assert bob.put(f"{records}/by-bob", json={"data": {}}).status_code == 201
    history = alice.get(f"{url}/buckets/app/history?resource_name=record").json()["data"]
    assert len(history) == 3 and all(entry["record_id"] == "n1" for entry in history)
    # A snapshot as of the oldest entry kept (what was trimmed is gone, as in Kinto).
    oldest = history[-1]["target"]["data"]
    assert alice.get(f"{url}/buckets/app/snapshot/collections/notes@{before}").json()["data"] == []
    snapshot = alice.get(f"{url}/buckets/app/snapshot/collections/notes@{oldest['last_modified']}").json()["data"]
    assert [(r["id"], r["v"]) for r in snapshot] == [("n1", oldest["v"])] and oldest["v"] == 3

    # Counters, Prometheus, StatsD.
    counters = requests.get(f"{url}/__counters__").json()
    assert counters["objects"]["record"] == 2 and counters["objects"]["bucket"] == 1
    metrics = requests.get(f"{url}/__metrics__").text
    assert "kinto_request_summary_total{" in metrics and 'endpoint="record-object"' in metrics
    lines = []
    with contextlib.suppress(TimeoutError):
        while True:
            lines += deployment.agent.recv(65536).decode().split("\n")
    assert any(line.startswith("kinto.request_summary:") for line in lines)
    assert any(line.startswith("kinto.users:auth.auth0.userid.alice|s") for line in lines)

    # Heartbeat, with the Redis cache.
    heartbeat = requests.get(f"{url}/__heartbeat__")
    assert heartbeat.status_code == 200
    assert heartbeat.json() == {"storage": True, "permission": True, "cache": True}

    # User data deletion, by the principal the setting names.
    assert requests.delete(f"{url}/__user_data__/auth0:alice", headers=bearer("nobody")).status_code == 401
    deleted = requests.delete(f"{url}/__user_data__/auth0:alice", headers=admin)
    assert deleted.status_code == 200
    assert alice.get(f"{url}/buckets/app").status_code == 403  # gone: alice was its only writer

    # One JSON request.summary line per request, no token in the log.
    time.sleep(0.2)
    text = deployment.log_path.read_text()
    summaries = [json.loads(line) for line in text.splitlines() if '"request.summary"' in line]
    assert any(s["Fields"]["path"] == "/v1/__counters__" and s["Fields"]["code"] == 200 for s in summaries)
    assert any(s["Fields"].get("uid") == "alice" and s["Fields"].get("authn_type") == "auth0" for s in summaries)
    assert alice.headers["Authorization"].split()[1] not in text
