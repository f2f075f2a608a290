"""A 100 MB upload to a real server process is streamed to disk: the
server's peak memory (VmHWM) grows by a small fraction of the file, and the
stored file is the one sent."""

import hashlib
import os
from pathlib import Path

import pytest
import requests

from tests.system.servers import ServerProcess, write_ini

pytestmark = pytest.mark.system

SIZE = int(os.environ.get("KINTO_TEST_UPLOAD_MIB", "100")) * 1024 * 1024


def memory_kib(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def test_a_100_mb_upload_is_not_held_in_memory(tmp_path, capsys):
    files = tmp_path / "files"
    ini, port = write_ini(
        tmp_path,
        f"sqlite://{tmp_path}/kinto.sqlite",
        includes="kinto_attachment",
        extra=f"kinto.attachment.base_path = {files}\nkinto.bucket_create_principals = system.Authenticated",
    )
    server = ServerProcess(ini, port, tmp_path / "server.log")
    try:
        pid = (server.worker_pids() or [server.process.pid])[0]
        http = requests.Session()
        http.auth = ("alice", "secret")
        http.put(f"{server.url}/buckets/b").raise_for_status()
        http.put(f"{server.url}/buckets/b/collections/c").raise_for_status()
        source = tmp_path / "big.bin"
        with source.open("wb") as out:
            for _ in range(SIZE // (1024 * 1024)):
                out.write(os.urandom(1024 * 1024))
        url = f"{server.url}/buckets/b/collections/c/records/big/attachment"
        # A first upload of 1 MiB: what any upload costs once (imports, threads' arenas).
        http.post(url, files=[("attachment", ("warm.csv", b"x" * 1024 * 1024, "text/csv"))]).raise_for_status()
        before = memory_kib(pid, "VmHWM")
        with source.open("rb") as body:
            response = http.post(url, files=[("attachment", ("big.csv", body, "text/csv"))], timeout=120)
        assert response.status_code == 200, response.text
        peak = memory_kib(pid, "VmHWM")
        growth_mib = (peak - before) / 1024
        with capsys.disabled():
            print(
                f"\n{SIZE >> 20} MiB upload: server peak RSS {before / 1024:.0f} MiB after a 1 MiB upload,"
                f" {peak / 1024:.0f} MiB after it (+{growth_mib:.1f} MiB)"
            )
        assert growth_mib < 8
        metadata = response.json()
        stored = files / metadata["location"]
        assert stored.stat().st_size == SIZE
        digest = hashlib.sha256()
        with source.open("rb") as sent:
            while chunk := sent.read(1024 * 1024):
                digest.update(chunk)
        assert metadata["hash"] == digest.hexdigest()
        assert not list((files / ".incoming").iterdir())
    finally:
        server.stop()
