"""Moving from Kinto: a PostgreSQL database made and filled by a real Kinto
26.5 (buckets, collections, groups, records, a tombstone, permissions, an
account, history entries) is copied by ``kinto_server import-kinto`` into
PostgreSQL and into SQLite; our server then answers every read as Kinto
did, with the same timestamps and ETags, the account's bcrypt password
still signs in, and a ``_since`` poll started against Kinto goes on
without missing or repeating a change."""

import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from tests.backends import DATABASE_URL, IN_CI
from tests.system.servers import ServerProcess, free_port, wait_until_up
from tests.system.test_kinto_init_files import kinto_bin  # noqa: F401 - the fixture

pytestmark = pytest.mark.system

SETTINGS = """
[app:main]
use = egg:{egg}
kinto.userid_hmac_secret = import-test-secret
kinto.storage_backend = {storage}
kinto.storage_url = {url}
kinto.permission_backend = {permission}
kinto.permission_url = {url}
kinto.cache_backend = {cache}
kinto.cache_url = {url}
kinto.bucket_create_principals = system.Authenticated
kinto.account_create_principals = system.Everyone
kinto.includes = kinto.plugins.accounts kinto.plugins.history
multiauth.policies = account basicauth
multiauth.policy.account.use = kinto.plugins.accounts.AccountsPolicy

[server:main]
use = egg:waitress#main
host = 127.0.0.1
port = {port}
"""
KINTO = {
    "storage": "kinto.core.storage.postgresql",
    "permission": "kinto.core.permission.postgresql",
    "cache": "kinto.core.cache.postgresql",
}
OURS = {"storage": "{kind}", "permission": "{kind}", "cache": "memory"}
ALICE, BOB = ("alice", "secret"), ("bob", "s3cret")
OUR_CLI = [sys.executable, "-m", "kinto_server.scripts.cli"]


def admin_connection():
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        admin = psycopg2.connect(urlunsplit(urlsplit(DATABASE_URL)._replace(path="/postgres")))
    except psycopg2.OperationalError as error:
        if IN_CI:
            pytest.fail(f"PostgreSQL tests are mandatory in CI: {error}")
        pytest.skip(f"PostgreSQL is not reachable: {error}")
    admin.autocommit = True
    return admin


def fresh_database(admin, suffix):
    parts = urlsplit(DATABASE_URL)
    name = parts.path.lstrip("/") + suffix
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {name}")
    return name, urlunsplit(parts._replace(path="/" + name))


def fill(url):
    """What Kinto users have: shared data, a group, an account, history, a deletion."""
    alice = requests.Session()
    alice.auth = ALICE
    requests.post(f"{url}/accounts", json={"data": {"id": "bob", "password": BOB[1]}}).raise_for_status()
    bob_id = "account:bob"
    alice.put(f"{url}/buckets/b", json={"permissions": {"read": ["system.Authenticated"]}}).raise_for_status()
    alice.put(f"{url}/buckets/b/groups/editors", json={"data": {"members": [bob_id]}}).raise_for_status()
    alice.put(
        f"{url}/buckets/b/collections/c",
        json={"data": {"cache_expires": 30}, "permissions": {"write": ["/buckets/b/groups/editors"]}},
    ).raise_for_status()
    for i in range(30):
        alice.put(f"{url}/buckets/b/collections/c/records/r{i}", json={"data": {"n": i, "tags": ["x", i]}})
    bob = requests.Session()
    bob.auth = BOB
    bob.post(f"{url}/buckets/b/collections/c/records", json={"data": {"by": "bob"}}).raise_for_status()
    alice.delete(f"{url}/buckets/b/collections/c/records/r3").raise_for_status()
    alice.patch(f"{url}/buckets/b/collections/c/records/r4", json={"data": {"n": 44}}).raise_for_status()
    alice.put(f"{url}/buckets/private").raise_for_status()
    alice.put(f"{url}/buckets/private/collections/empty").raise_for_status()


READS = [
    "/buckets",
    "/buckets/b",
    "/buckets/private",
    "/buckets/b/groups",
    "/buckets/b/groups/editors",
    "/buckets/b/collections",
    "/buckets/b/collections/c",
    "/buckets/b/collections/c/records?_since=0&_sort=last_modified",
    "/buckets/b/collections/c/records?_sort=-n&_limit=7",
    "/buckets/b/collections/c/records/r0",
    "/buckets/b/collections/c/records/r4",
    "/buckets/b/collections/c/records/r3",
    "/buckets/private/collections/empty/records",
    "/buckets/b/history?_limit=200",
    "/accounts/bob",
]


def every_read(url):
    """READS, and each record (tombstones included) on its own, with its permissions."""
    listed = requests.get(url + "/buckets/b/collections/c/records?_since=0", auth=ALICE).json()["data"]
    records = [f"/buckets/b/collections/c/records/{r['id']}" for r in listed]
    assert len(records) == 31
    return READS + records


def answers(url, auth, paths):
    found = {}
    for path in paths:
        response = requests.get(url + path, auth=auth)
        body = response.json() if response.content else None
        if isinstance(body, dict) and "data" in body and isinstance(body["data"], list):
            body = {"data": body["data"]}  # pagination links name the host
        if isinstance(body, dict) and "permissions" in body:  # principals are a set
            body["permissions"] = {perm: sorted(principals) for perm, principals in body["permissions"].items()}
        found[path] = (response.status_code, response.headers.get("ETag"), body)
    return found


@pytest.fixture(scope="module")
def kinto_filled(kinto_bin, tmp_path_factory):  # noqa: F811 - the fixture
    admin = admin_connection()
    name, url = fresh_database(admin, "_kinto_source")
    folder = tmp_path_factory.mktemp("import-kinto")
    ini = folder / "kinto.ini"
    port = free_port()
    ini.write_text(SETTINGS.format(egg="kinto", url=url, port=port, **KINTO))
    subprocess.run([str(kinto_bin / "kinto"), "migrate", "--ini", str(ini)], check=True, capture_output=True)
    kinto = subprocess.Popen(
        [str(kinto_bin / "kinto"), "start", "--ini", str(ini)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_up(port)
        kinto_url = f"http://127.0.0.1:{port}/v1"
        fill(kinto_url)
        paths = every_read(kinto_url)
        seen = {auth: answers(kinto_url, auth, paths) for auth in (ALICE, BOB, None)}
        yield url, folder, seen
    finally:
        kinto.terminate()
        kinto.wait(timeout=10)
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


@pytest.fixture(params=["postgresql", "sqlite"])
def imported(request, kinto_filled, tmp_path):
    source, _, seen = kinto_filled
    admin = None
    if request.param == "postgresql":
        admin = admin_connection()
        name, url = fresh_database(admin, "_imported")
    else:
        url = f"sqlite:///{tmp_path / 'imported.sqlite'}"
    port = free_port()
    backends = {role: kind.format(kind=request.param) for role, kind in OURS.items()}
    ini = tmp_path / "ours.ini"
    ini.write_text(SETTINGS.format(egg="kinto_server", url=url, port=port, **backends))
    if request.param == "postgresql":
        subprocess.run([*OUR_CLI, "migrate", "--ini", str(ini)], check=True, capture_output=True)
    result = subprocess.run(
        [*OUR_CLI, "import-kinto", "--from", source, "--ini", str(ini)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    server = ServerProcess(ini, port, tmp_path / "ours.log")
    try:
        yield server.url, ini, source, seen, result.stdout
    finally:
        server.stop()
        if admin is not None:
            with admin.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.close()


def test_every_read_answers_as_kinto_did_with_the_same_timestamps(imported):
    url, _, _, seen, summary = imported
    assert summary.startswith(
        "Imported 75 objects (1 account, 2 bucket, 2 collection, 1 group, 38 history, 30 record, "
        "1 record tombstones), 147 permission entries and 1 group memberships into "
    ), summary
    for auth, kinto_answers in seen.items():
        ours = answers(url, auth, list(kinto_answers))
        for path, expected in kinto_answers.items():
            if path.startswith("/accounts/") and expected[0] == 200:
                # Kinto echoes the password hash; we never do (README, "Where we differ").
                status, etag, body = expected
                expected = (status, etag, {**body, "data": {k: v for k, v in body["data"].items() if k != "password"}})
            assert ours[path] == expected, (auth, path)


def test_the_accounts_bcrypt_password_still_signs_in(imported):
    url = imported[0]
    assert requests.get(url + "/", auth=BOB).json()["user"]["id"] == "account:bob"
    # A wrong password is no account: another (Basic Auth) user, as on Kinto.
    assert requests.get(url + "/", auth=("bob", "wrong")).json()["user"]["id"].startswith("basicauth:")


def test_a_since_poll_started_against_kinto_misses_and_repeats_nothing(imported):
    url, _, _, seen, _ = imported
    _, etag, body = seen[ALICE]["/buckets/b/collections/c/records?_since=0&_sort=last_modified"]
    before = int(etag.strip('"'))
    assert max(r["last_modified"] for r in body["data"]) == before
    alice = requests.Session()
    alice.auth = ALICE
    created = alice.post(url + "/buckets/b/collections/c/records", json={"data": {"after": "move"}}).json()["data"]
    assert created["last_modified"] > before
    changes = alice.get(url + f"/buckets/b/collections/c/records?_since={before}").json()["data"]
    assert changes == [created]


def test_a_second_import_into_the_same_database_is_refused(imported):
    _, ini, source, _, _ = imported
    result = subprocess.run(
        [*OUR_CLI, "import-kinto", "--from", source, "--ini", str(ini)], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "already holds objects: import into a new database" in result.stderr


def test_a_database_kinto_did_not_make_and_a_memory_target_get_one_line(tmp_path):
    admin_connection().close()
    ours = tmp_path / "ours.ini"
    sqlite = {role: kind.format(kind="sqlite") for role, kind in OURS.items()}
    ours.write_text(SETTINGS.format(egg="kinto_server", url=f"sqlite:///{tmp_path / 'x.sqlite'}", port=0, **sqlite))
    memory = tmp_path / "memory.ini"
    memory.write_text(SETTINGS.format(egg="kinto_server", url="", port=0, **dict.fromkeys(OURS, "memory")))
    for ini, source, expected in (
        (ours, DATABASE_URL, "holds no Kinto storage schema (no storage_schema_version in its metadata table)"),
        (memory, DATABASE_URL, "(memory) keeps nothing once this command ends: import into sqlite or postgresql"),
        (ours, "postgresql://postgres@127.0.0.1:1/none", "Cannot connect to the Kinto database"),
    ):
        result = subprocess.run(
            [*OUR_CLI, "import-kinto", "--from", source, "--ini", str(ini)], capture_output=True, text=True
        )
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert expected in result.stderr


KINTO_LIKE = """
CREATE TABLE metadata (name VARCHAR(128) NOT NULL, value VARCHAR(512) NOT NULL);
INSERT INTO metadata VALUES ('storage_schema_version', '26'), ('permission_schema_version', '2');
CREATE TABLE objects (
    id TEXT, parent_id TEXT, resource_name TEXT, last_modified TIMESTAMP, data JSONB, deleted BOOLEAN
);
CREATE TABLE timestamps (parent_id TEXT, resource_name TEXT, last_modified TIMESTAMP);
CREATE TABLE access_control_entries (object_id TEXT, permission TEXT, principal TEXT);
CREATE TABLE user_principals (user_id TEXT, principal TEXT);
INSERT INTO objects VALUES
    ('b', '', 'bucket', '2020-01-01 00:00:00', '{}', FALSE),
    ('r1', '/buckets/b/collections/c', 'record', '2020-01-01 00:00:01', '{}', FALSE),
    ('r2', '/buckets/b/collections/c', 'record', '2020-01-01 00:00:01', '{}', FALSE);
"""


def test_a_source_whose_timestamps_clash_imports_nothing_and_says_so(tmp_path):
    """Kinto keeps timestamps unique within a parent; a database edited by
    hand may not: the copy stops with one line and the target stays empty."""
    admin = admin_connection()
    name, source = fresh_database(admin, "_kinto_like")
    try:
        import psycopg2

        with psycopg2.connect(source) as connection, connection.cursor() as cursor:
            cursor.execute(KINTO_LIKE)
        sqlite = {role: kind.format(kind="sqlite") for role, kind in OURS.items()}
        ours = tmp_path / "ours.ini"
        ours.write_text(SETTINGS.format(egg="kinto_server", url=f"sqlite:///{tmp_path / 'x.sqlite'}", port=0, **sqlite))
        command = [*OUR_CLI, "import-kinto", "--from", source, "--ini", str(ours)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert "kinto_server: Nothing was imported: record 'r2' of '/buckets/b/collections/c'" in result.stderr
        again = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert "Nothing was imported" in again.stderr  # not "already holds objects": the bucket was rolled back
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
