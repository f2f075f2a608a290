"""Does a server's memory grow under steady traffic? One server per backend
(run side by side), clients doing mixed reads and writes on a fixed set of
records (so the data does not grow), the server's RSS sampled every
``--every`` seconds; prints the samples and the growth from the end of the
first minute (the warm-up: caches, pools, statement caches) to the end.

    python bench/soak.py --seconds 600 --backend memory sqlite postgresql   # make bench-soak
"""

import argparse
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenarios import ALICE  # noqa: E402
from servers import Server  # noqa: E402

COLLECTION = "/v1/buckets/soak/collections/c"
RECORDS = 200
WARM_UP = 60.0


def traffic(url, deadline, statuses, lock):
    http = requests.Session()
    http.headers["Authorization"] = ALICE
    records = f"{url}{COLLECTION}/records"
    while time.monotonic() < deadline:
        target = f"{records}/r{random.randrange(RECORDS)}"
        action = random.random()
        if action < 0.3:
            response = http.get(target)
        elif action < 0.45:
            response = http.get(records, params={"_limit": 20, "_sort": random.choice(["-last_modified", "n"])})
        elif action < 0.55:
            response = http.get(records, params={"n": random.randrange(10), "_since": random.randrange(10**12)})
        elif action < 0.7:
            response = http.put(target, json={"data": {"n": random.randrange(10), "pad": "x" * random.randrange(500)}})
        elif action < 0.8:
            response = http.patch(target, json={"data": {"seen": random.random()}})
        elif action < 0.88:
            response = http.get(f"{url}/v1/")
        elif action < 0.94:
            response = http.head(records)
        else:
            paths = [COLLECTION.removeprefix("/v1") + "/records?_limit=5", "/"]
            body = {"requests": [{"method": "GET", "path": path} for path in paths]}
            response = http.post(f"{url}/v1/batch", json=body)
        with lock:
            statuses[response.status_code] += 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", nargs="+", default=["memory", "sqlite", "postgresql"])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--clients", type=int, default=4, help="client threads per server (default: %(default)s)")
    parser.add_argument("--every", type=float, default=30, help="seconds between RSS samples (default: %(default)s)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kinto-soak-") as workdir:
        servers = {backend: Server("ours", backend, workdir) for backend in args.backend}
        for backend, server in servers.items():
            server.name, server.database = f"ours-soak-{backend}", f"bench_soak_{backend}"
        try:
            for server in servers.values():
                server.start()
                http = requests.Session()
                http.headers["Authorization"] = ALICE
                http.put(f"{server.url}/v1/buckets/soak").raise_for_status()
                http.put(f"{server.url}{COLLECTION}").raise_for_status()
                for n in range(RECORDS):
                    http.put(f"{server.url}{COLLECTION}/records/r{n}", json={"data": {"n": n % 10}}).raise_for_status()
            started = time.monotonic()
            deadline = started + args.seconds
            statuses = {backend: Counter() for backend in servers}
            lock = threading.Lock()
            threads = [
                threading.Thread(target=traffic, args=(server.url, deadline, statuses[backend], lock), daemon=True)
                for backend, server in servers.items()
                for _ in range(args.clients)
            ]
            for thread in threads:
                thread.start()
            samples = {backend: [] for backend in servers}
            while time.monotonic() < deadline:
                time.sleep(min(args.every, max(0.0, deadline - time.monotonic())))
                elapsed = time.monotonic() - started
                for backend, server in servers.items():
                    samples[backend].append((elapsed, server.rss_mib()))
                line = "  ".join(f"{b} {s[-1][1]:.1f}" for b, s in samples.items())
                print(f"{elapsed:6.0f} s  RSS MiB  {line}", flush=True)
            for thread in threads:
                thread.join()
            for backend, taken in samples.items():
                after_warm_up = next((rss for elapsed, rss in taken if elapsed >= WARM_UP), taken[0][1])
                errors = sum(count for status, count in statuses[backend].items() if status >= 500)
                total = sum(statuses[backend].values())
                print(
                    f"{backend}: {total:,} requests, {errors} 5xx; RSS {after_warm_up:.1f} MiB"
                    f" after the first minute, {taken[-1][1]:.1f} at the end ({taken[-1][1] - after_warm_up:+.1f}),"
                    f" highest {max(rss for _, rss in taken):.1f}"
                )
        finally:
            for server in servers.values():
                server.stop()


if __name__ == "__main__":
    main()
