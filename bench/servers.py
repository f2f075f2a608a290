"""The servers a benchmark runs: ours, Kinto (from PyPI, in a throwaway
virtualenv under bench/), and the ceilings: a bare Pyramid view (``bare``)
and a bare WSGI function (``bare-wsgi``).
Each runs as one waitress process with the same number of threads."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
KINTO_VENV = HERE / "kinto-venv"
KINTO_REQUIREMENT = "kinto[postgresql]>=26,<27"
# Plugins the compatibility replay compares with ours (kinto-changes still
# imports cornice, which Kinto 26 no longer pulls in).
KINTO_PLUGINS = ("kinto-changes>=4.1,<5", "cornice")
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432")
SECRET = "bench-secret"
THREADS = 4
# The stack's ceilings: what serving a fixed small JSON body costs.
CEILINGS = {"bare": "bare_pyramid.py", "bare-wsgi": "bare_wsgi.py"}

# What a benchmark server enables; the compatibility replay passes its own.
BENCH_PROFILE = """
kinto.bucket_create_principals = system.Authenticated
kinto.includes = kinto.plugins.default_bucket
multiauth.policies = basicauth
"""

APP_SETTINGS = """
kinto.userid_hmac_secret = {secret}
{profile}
kinto.storage_backend = {storage}
kinto.storage_url = {url}
kinto.permission_backend = {permission}
kinto.permission_url = {url}
kinto.cache_backend = {cache}
kinto.cache_url = {url}
kinto.storage_pool_size = {threads}
"""

INI = """
[app:main]
use = egg:{egg}
{settings}

[server:main]
use = egg:waitress#main
host = 127.0.0.1
port = {port}
threads = {threads}
{server_extra}
[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = ERROR
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)s %(message)s
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port):
    """Nothing listens on 127.0.0.1:port (a connection is refused)."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def ensure_kinto():
    """Kinto 26 from PyPI in bench/kinto-venv (never a project dependency)."""
    python = KINTO_VENV / "bin" / "python"
    if not (KINTO_VENV / "bin" / "kinto").exists():
        print(f"Installing {KINTO_REQUIREMENT} into {KINTO_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(KINTO_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", KINTO_REQUIREMENT], check=True)
    if subprocess.run([str(python), "-c", "import kinto_changes"], capture_output=True).returncode:
        print(f"Installing {' '.join(KINTO_PLUGINS)} into {KINTO_VENV} ...", flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *KINTO_PLUGINS], check=True)
    return KINTO_VENV / "bin"


def ensure_wrk():
    if shutil.which("wrk") is None:
        print("Installing wrk with apt-get ...", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)


def _recreate_database(name):
    import psycopg2

    connection = psycopg2.connect(PG_ADMIN_URL + "/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {name}")
    connection.close()
    return f"{PG_ADMIN_URL}/{name}"


class Server:
    """One server; ``kind`` is ours, kinto or bare. Ours may run several
    worker processes on one port (``kinto_server start --workers``)."""

    def __init__(self, kind, backend, workdir, workers=1, profile=BENCH_PROFILE, port=None):
        if kind == "kinto" and backend == "sqlite":
            backend = "postgresql"  # Kinto has no embedded persistent backend: compare with its PostgreSQL one.
        self.kind, self.backend, self.workdir = kind, backend, Path(workdir)
        self.profile = profile
        self.workers = workers
        self.name = kind if workers == 1 else f"{kind}-{workers}w"
        self.database = "bench_" + self.name.replace("-", "_")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None
        self.server_extra = ""  # more [server:main] options

    def _ini(self, profile=None, suffix=""):
        url = ""
        kinds = {"storage": "memory", "permission": "memory", "cache": "memory"}
        if self.backend == "postgresql":
            url = f"{PG_ADMIN_URL}/{self.database}" if suffix else _recreate_database(self.database)
            kinds = {"storage": "postgresql", "permission": "postgresql", "cache": "postgresql"}
        if self.backend == "sqlite":
            path = self.workdir / f"{self.name}.sqlite"
            url = f"sqlite://{path}"
            # Each start from an empty database, as PostgreSQL's (recreated above).
            for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                leftover.unlink(missing_ok=True)
            kinds = {"storage": "sqlite", "permission": "sqlite", "cache": "sqlite"}
        if self.kind == "kinto":
            kinds = {role: f"kinto.core.{role}.{kind}" for role, kind in kinds.items()}
        egg = "kinto" if self.kind == "kinto" else "kinto_server"
        profile = self.profile if profile is None else profile
        settings = APP_SETTINGS.format(secret=SECRET, profile=profile, url=url, threads=THREADS, **kinds)
        path = self.workdir / f"{self.name}-{self.backend}{suffix}.ini"
        path.write_text(
            INI.format(egg=egg, settings=settings, port=self.port, threads=THREADS, server_extra=self.server_extra)
        )
        return path

    def command(self, ini):
        if self.kind == "kinto":
            return [str(ensure_kinto() / "kinto"), "start", "--ini", str(ini)]
        if self.kind in CEILINGS:
            return [sys.executable, str(HERE / CEILINGS[self.kind]), str(self.port), str(THREADS)]
        command = [sys.executable, "-m", "kinto_server.scripts.cli", "start", "--ini", str(ini)]
        return command + [f"--workers={self.workers}"]

    def start(self):
        if not port_is_free(self.port):
            raise RuntimeError(f"port {self.port} is in use: stop what listens there first")
        ini = self._ini() if self.kind not in CEILINGS else None
        if self.backend == "postgresql" and self.kind not in CEILINGS:
            # A read-only server cannot create its schema: migrate writable.
            writable = re.sub(r"(?m)^kinto\.readonly\s*=.*$", "", self.profile)
            migrate_ini = self._ini(writable, "-migrate")
            migrate = (
                [str(ensure_kinto() / "kinto"), "migrate", "--ini", str(migrate_ini)]
                if self.kind == "kinto"
                else [sys.executable, "-m", "kinto_server.scripts.cli", "migrate", "--ini", str(migrate_ini)]
            )
            subprocess.run(migrate, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        log = open(self.workdir / f"{self.name}-{self.backend}.log", "wb")  # noqa: SIM115 - lives with the process
        self.process = subprocess.Popen(self.command(ini), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 60
        probe = "/" if self.kind in CEILINGS else "/v1/__lbheartbeat__"
        while True:
            try:
                with urllib.request.urlopen(self.url + probe, timeout=1):
                    return self
            except urllib.error.HTTPError:
                return self  # It answers (a 410 past its end of service, say).
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} did not start; see {log.name}") from None
                time.sleep(0.2)

    def analyze(self):
        """VACUUM ANALYZE the server's database after seeding, as autovacuum
        would do soon after in production: both servers measured alike."""
        if self.backend != "postgresql" or self.kind in CEILINGS:
            return
        import psycopg2

        connection = psycopg2.connect(f"{PG_ADMIN_URL}/{self.database}")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        connection.close()

    def rss_mib(self):
        """Resident memory of the server process (and its children), in MiB."""
        pids = [str(self.process.pid)]
        children = subprocess.run(["pgrep", "-P", pids[0]], capture_output=True, text=True).stdout.split()
        total = 0
        for pid in pids + children:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total / 1024

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
