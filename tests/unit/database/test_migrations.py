"""Schema migrations, on a database of their own created for each test."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from kinto_server.database import migrations, postgresql
from kinto_server.scripts import cli
from tests.backends import DATABASE_URL, database_client

# Named after the test database (KINTO_TEST_DATABASE_URL), so two suites on
# one server, with two test databases, never share it.
BASE, TEST_DATABASE = DATABASE_URL.rsplit("/", 1)
NAME = f"{TEST_DATABASE}_migrations"
URL = f"{BASE}/{NAME}"


def _admin(admin, statement):
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(statement)


@pytest.fixture
def client():
    admin = database_client()  # skips (or fails in CI) without PostgreSQL
    # No FORCE: were another run using it, fail here rather than cut it off.
    _admin(admin, f'DROP DATABASE IF EXISTS "{NAME}"')
    _admin(admin, f'CREATE DATABASE "{NAME}"')
    client = postgresql.PostgreSQLClient(postgresql.normalized_url(URL))
    yield client
    client.engine.dispose()
    # Nothing left behind; FORCE closes what the commands under test kept open.
    _admin(admin, f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')


def indexes(client):
    return {row[0] for row in client.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'objects'")}


def test_every_component_has_numbered_migrations():
    for component in migrations.COMPONENTS:
        versions = [m.version for m in migrations.available(component)]
        assert versions == list(range(1, len(versions) + 1))


def test_upgrade_from_first_version_to_latest_keeps_data(client):
    first = migrations.migrate(client, "storage", target=1)
    assert [m.version for m in first] == [1]
    assert "idx_objects_live_timestamp" not in indexes(client)
    client.execute(
        "INSERT INTO objects (parent_id, resource_name, id, last_modified, data)"
        " VALUES ('/buckets/b', 'collection', 'c', 1, '{\"x\": 1}')"
    )
    rest = migrations.migrate(client, "storage")
    assert [m.version for m in rest] == [m.version for m in migrations.available("storage")][1:]
    assert "idx_objects_live_timestamp" in indexes(client)
    assert client.execute("SELECT data FROM objects WHERE id = 'c'") == [({"x": 1},)]
    assert migrations.applied_versions(client, "storage") == {m.version for m in migrations.available("storage")}


def test_migrating_twice_applies_nothing(client):
    for component in migrations.COMPONENTS:
        migrations.migrate(client, component)
        assert migrations.migrate(client, component) == []
        assert migrations.pending(client, component) == []


def test_dry_run_lists_without_applying(client):
    todo = migrations.migrate(client, "permission", dry_run=True)
    assert [m.version for m in todo] == [m.version for m in migrations.available("permission")]
    assert migrations.applied_versions(client, "permission") == set()
    assert client.execute("SELECT to_regclass('access_control_entries')") == [(None,)]


def write_ini(tmp_path):
    ini = tmp_path / "pg.ini"
    cli.main(["init", "--ini", str(ini), "--backend", "postgresql", "--database-url", URL])
    return ini


def test_cli_migrate_dry_run_then_apply(client, tmp_path, capsys):
    ini = write_ini(tmp_path)
    capsys.readouterr()
    assert cli.main(["migrate", "--ini", str(ini), "--dry-run"]) == 0
    assert "would apply storage 0001_objects" in capsys.readouterr().out
    assert migrations.applied_versions(client, "storage") == set()
    assert cli.main(["migrate", "--ini", str(ini)]) == 0
    assert "applied cache 0001_cache" in capsys.readouterr().out
    assert cli.main(["migrate", "--ini", str(ini)]) == 0
    assert "storage: schema up to date" in capsys.readouterr().out


def test_server_refuses_to_start_on_an_outdated_schema(client, tmp_path):
    from kinto_server import main
    from kinto_server.settings import ConfigurationError

    migrations.migrate(client, "storage", target=1)
    settings = {
        f"kinto.{r}_{k}": v
        for r in ("storage", "permission", "cache")
        for k, v in (("backend", "postgresql"), ("url", URL))
    }
    with pytest.raises(ConfigurationError, match="kinto_server migrate"):
        main({}, **settings)


def test_cli_migrate_reports_memory_configs_and_missing_files(tmp_path, capsys):
    ini = tmp_path / "memory.ini"
    cli.main(["init", "--ini", str(ini), "--backend", "memory"])
    assert cli.main(["migrate", "--ini", str(ini)]) == 0
    assert "nothing to migrate" in capsys.readouterr().out
    assert cli.main(["migrate", "--ini", str(tmp_path / "missing.ini")]) == 1


def test_an_installed_wheel_carries_and_applies_its_migrations(client, tmp_path):
    """Built as a wheel and installed in a fresh virtualenv (no editable
    install, no checkout on the path), ``kinto_server migrate`` finds the
    migration files inside the installed package and applies them; every
    file of the admin page is in the wheel too."""
    root = Path(__file__).resolve().parents[3]
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels)]
    subprocess.run([*build, str(root)], check=True, capture_output=True)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # The wheel's files go into the fresh venv; its dependencies come from
    # the test virtualenv's site-packages, whose own .pth files (the
    # editable install of this checkout among them) are not read from there.
    with zipfile.ZipFile(next(wheels.glob("kinto_server-*.whl"))) as wheel:
        wheel.extractall(site)
        shipped = {name for name in wheel.namelist() if "/plugins/admin/static/" in name}
    admin = root / "kinto_server" / "plugins" / "admin" / "static"
    assert shipped == {str(path.relative_to(root)) for path in admin.rglob("*") if path.is_file()}
    dependencies = next(p for p in map(Path, sys.path) if (p / "pyramid").is_dir())
    (Path(site) / "dependencies.pth").write_text(str(dependencies) + "\n")
    ini = tmp_path / "installed.ini"
    cli.main(["init", "--ini", str(ini), "--backend", "postgresql", "--database-url", URL])
    command = [str(python), "-c", "from kinto_server.scripts.cli import main; raise SystemExit(main())"]
    run = subprocess.run([*command, "migrate", "--ini", str(ini)], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    expected = [f"applied {m}" for component in migrations.COMPONENTS for m in migrations.available(component)]
    assert run.stdout.splitlines() == expected
    where = subprocess.run(
        [str(python), "-c", "import kinto_server.database.migrations as m; print(m.MIGRATIONS_DIR)"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert where.startswith(site)
