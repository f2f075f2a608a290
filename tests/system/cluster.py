"""A throwaway PostgreSQL cluster: initdb in a temporary folder, its own
port, started and stopped at will (as the postgres user when run as root,
since PostgreSQL refuses to run as root)."""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2


def binaries():
    """The folder of the newest installed PostgreSQL binaries, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class Cluster:
    def __init__(self, port):
        self.bin = binaries()
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="kinto-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgresql.log"
        self.url = f"postgresql://postgres@127.0.0.1:{port}/kinto"
        self.as_root = os.geteuid() == 0
        if self.as_root:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.root.chmod(0o755)

    def _run(self, *args):
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=60)

    def init(self):
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        connection.autocommit = True
        connection.cursor().execute("CREATE DATABASE kinto")
        connection.close()

    def start(self):
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def stop(self):
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def answers(self):
        try:
            psycopg2.connect(
                host="127.0.0.1", port=self.port, user="postgres", dbname="kinto", connect_timeout=1
            ).close()
            return True
        except psycopg2.OperationalError:
            return False

    def destroy(self):
        if self.answers():
            self.stop()
        time.sleep(0.1)
        shutil.rmtree(self.root, ignore_errors=True)
