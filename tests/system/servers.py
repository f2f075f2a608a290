"""Real server processes for system tests: an ini file, a free port, a
process that is stopped at the end."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import requests

INI = """
[app:main]
use = egg:kinto_server
kinto.userid_hmac_secret = system-tests
kinto.includes = {includes}
{backends}
{extra}
kinto.retry_after_seconds = 1

[server:main]
use = egg:waitress#main
host = 127.0.0.1
port = {port}
threads = {threads}

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(asctime)s %(levelname)s [%(name)s] %(message)s
"""


DATABASE = """
kinto.storage_backend = {backend}
kinto.storage_url = {url}
kinto.storage_pool_size = {pool_size}
kinto.storage_pool_timeout = 5
kinto.permission_backend = {backend}
kinto.permission_url = {url}
kinto.cache_backend = {backend}
kinto.cache_url = {url}
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_ini(directory, url, threads=4, name="server", extra="", includes="kinto_server.plugins.default_bucket"):
    """An ini for the database at ``url`` (``sqlite://...`` or PostgreSQL), or
    for memory backends if ``url`` is None; ``extra`` settings may name
    ``{port}``, a second free port (the change stream's)."""
    port = free_port()
    extra = extra.format(port=free_port())
    path = Path(directory) / f"{name}-{port}.ini"
    backend = "sqlite" if url and url.startswith("sqlite:") else "postgresql"
    backends = DATABASE.format(backend=backend, url=url, pool_size=threads + 2) if url else ""
    path.write_text(INI.format(backends=backends, port=port, threads=threads, extra=extra, includes=includes))
    return path, port


def wait_until_up(port, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/__lbheartbeat__", timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class ServerProcess:
    """``kinto_server start`` on an ini file, in its own process."""

    def __init__(self, ini, port, log_path, workers=1):
        self.port = port
        self.url = f"http://127.0.0.1:{port}/v1"
        self.log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        command = [sys.executable, "-m", "kinto_server.scripts.cli", "start", "--ini", str(ini), f"--workers={workers}"]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, env=dict(os.environ))
        wait_until_up(port)

    def worker_pids(self):
        """The pids of the worker processes (the children of the server)."""
        found = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True)
        return sorted(int(pid) for pid in found.stdout.split())

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def session(user="alice", password="secret"):
    s = requests.Session()
    s.auth = (user, password)
    return s


def send_batches(url, records, writer, acknowledged, stop, refused=None):
    """POST batches of 25 records to ``records`` until ``stop``; append the
    name of each batch answered 201 for all 25 to ``acknowledged``, and the
    status of any other answer to ``refused``."""
    http = session()
    n = 0
    while not stop.is_set():
        n += 1
        batch = f"{writer}-{n}"
        body = {
            "defaults": {"method": "POST", "path": records},
            "requests": [{"body": {"data": {"batch": batch, "i": i}}} for i in range(25)],
        }
        try:
            response = http.post(f"{url}/batch", json=body, timeout=10)
        except requests.RequestException:
            return
        if response.status_code == 200 and all(r["status"] == 201 for r in response.json()["responses"]):
            acknowledged.append(batch)
        elif refused is not None:
            refused.append(response.status_code)
