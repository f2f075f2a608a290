"""Every start-up mistake is one line on stderr that says what to fix, and
exit code 1, without a traceback (``-v`` shows it)."""

import socket
import subprocess
import sys

import pytest

from tests.backends import DATABASE_URL, database_client
from tests.system.servers import free_port

pytestmark = pytest.mark.system

MEMORY = "kinto.storage_backend = memory\nkinto.permission_backend = memory\nkinto.cache_backend = memory"

BASE = """
[app:main]
use = egg:kinto_server
kinto.userid_hmac_secret = startup-errors
{backends}
{extra}

[server:main]
use = egg:waitress#main
host = 127.0.0.1
port = {port}
"""


def write(tmp_path, extra="", port=None, name="kinto.ini", backends=MEMORY):
    path = tmp_path / name
    path.write_text(BASE.format(backends=backends, extra=extra, port=port or free_port()))
    return path


def run(*args, timeout=30):
    command = [sys.executable, "-m", "kinto_server.scripts.cli", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def error_line(result):
    """The one line of a refused start (warnings before it aside)."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("kinto_server: ")]
    assert len(errors) == 1, result.stderr
    return errors[0].removeprefix("kinto_server: ")


def test_a_missing_ini_is_one_line(tmp_path):
    missing = tmp_path / "nope.ini"
    for command in ("start", "migrate", "create-user", "flush-cache"):
        extra = ["-u", "admin", "-p", "pw"] if command == "create-user" else []
        line = error_line(run(command, "--ini", missing, *extra))
        assert line == f"No such configuration file: {missing} (write one with `kinto_server init --ini {missing}`)"


def test_an_unreadable_or_broken_ini_is_one_line(tmp_path):
    broken = tmp_path / "broken.ini"
    broken.write_text("[app:main\nfoo")
    assert error_line(run("start", "--ini", broken)).startswith(f"{broken} is not a valid ini file: ")
    folder = tmp_path / "folder.ini"
    folder.mkdir()
    assert error_line(run("start", "--ini", folder)) == f"Cannot read {folder}: it is a folder"
    no_app = tmp_path / "no-app.ini"
    no_app.write_text("[server:main]\nport = 1\n")
    assert error_line(run("start", "--ini", no_app)) == f"{no_app} has no [app:main] section"


def test_an_unknown_backend_lists_the_valid_ones(tmp_path):
    ini = write(tmp_path, backends=MEMORY.replace("storage_backend = memory", "storage_backend = mongo"))
    line = error_line(run("start", "--ini", ini))
    assert line == "Unknown storage backend 'mongo': use one of memory, sqlite, postgresql, or a module:Class path"


def test_an_unknown_include_names_it(tmp_path):
    ini = write(tmp_path, "kinto.includes = kinto_server.plugins.history kinto_nothere.plugin")
    line = error_line(run("start", "--ini", ini))
    assert line.startswith("kinto.includes: no plugin 'kinto_nothere.plugin' (module kinto_nothere not found")


def test_kinto_attachment_with_its_settings_starts(tmp_path):
    settings = f"kinto.includes = kinto_attachment kinto.plugins.history\nkinto.attachment.base_path = {tmp_path}/files"
    result = run("start", "--ini", write(tmp_path, settings), "--check")
    assert result.returncode == 0, result.stderr
    assert "Unknown setting" not in result.stderr


@pytest.mark.parametrize(
    ("setting", "line"),
    [
        (
            "kinto.paginate_by = ten",
            "Invalid value for setting kinto.paginate_by: 'ten' (expected an integer, or none)",
        ),
        ("kinto.readonly = maybe", "Invalid value for setting kinto.readonly: 'maybe' (expected true or false)"),
        (
            "kinto.batch_max_requests = 2.5",
            "Invalid value for setting kinto.batch_max_requests: '2.5' (expected an integer)",
        ),
    ],
)
def test_a_bad_value_names_the_setting_and_the_expected_form(tmp_path, setting, line):
    assert error_line(run("start", "--ini", write(tmp_path, setting))) == line


def test_a_bad_port_names_it(tmp_path):
    ini = write(tmp_path, port="abc")
    assert (
        error_line(run("start", "--ini", ini))
        == f"[server:main] port = 'abc' in {ini}: expected a port number (1-65535)"
    )


def test_a_port_in_use_names_it(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = error_line(run("start", "--ini", write(tmp_path, port=port)))
    assert (
        line == f"Port {port} of 127.0.0.1 is already in use: stop what listens there, or start with --port <another>"
    )


def test_verbose_shows_the_traceback(tmp_path):
    result = run("-v", "start", "--ini", write(tmp_path, "kinto.paginate_by = ten"))
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "ConfigurationError" in result.stderr


def test_an_outdated_postgresql_schema_gives_the_command(tmp_path):
    client = database_client()
    backends = MEMORY.replace(
        "storage_backend = memory", f"storage_backend = postgresql\nkinto.storage_url = {DATABASE_URL}"
    )
    ini = write(tmp_path, backends=backends)
    (version, name), *_ = client.execute(
        "SELECT version, name FROM schema_migrations WHERE component = 'storage' ORDER BY version DESC LIMIT 1"
    )
    client.execute("DELETE FROM schema_migrations WHERE component = 'storage' AND version = %(v)s", {"v": version})
    try:
        line = error_line(run("start", "--ini", ini))
    finally:
        client.execute(
            "INSERT INTO schema_migrations (component, version, name) VALUES ('storage', %(v)s, %(n)s)",
            {"v": version, "n": name},
        )
    assert line.startswith("The storage database schema is not up to date (")
    assert line.endswith(f"): run `kinto_server migrate --ini {ini}`")


def test_unknown_settings_are_warned_about_with_the_closest_name(tmp_path):
    ini = write(tmp_path, "kinto.paginate_byy = 10\nkinto.bucket_read_principals = system.Everyone\nkinto.sentry_dsn =")
    result = run("start", "--ini", ini, "--check")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "Unknown setting" in line]
    assert len(warnings) == 1, result.stderr
    assert "Unknown setting kinto.paginate_byy (did you mean kinto.paginate_by?)" in warnings[0]


def test_create_user_refuses_where_the_account_could_not_be_used(tmp_path):
    memory = write(tmp_path, "kinto.includes = kinto.plugins.accounts\nmultiauth.policies = account basicauth")
    line = error_line(run("create-user", "--ini", memory, "-u", "admin", "-p", "pw"))
    assert line.startswith("The storage backend of")
    assert "keeps nothing" in line
    url = f"sqlite://{tmp_path}/data.sqlite"
    backends = f"kinto.storage_backend = sqlite\nkinto.storage_url = {url}\nkinto.permission_backend = sqlite\n"
    sqlite = write(tmp_path, backends=backends + f"kinto.permission_url = {url}", name="sqlite.ini")
    line = error_line(run("create-user", "--ini", sqlite, "-u", "admin", "-p", "pw"))
    plugin = "(kinto.includes = kinto.plugins.accounts)"
    assert line == f"{sqlite} does not enable the accounts plugin {plugin}: the account could not sign in"
