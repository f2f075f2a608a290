"""What hostile requests cost: each one's time and status, and how long
another client's ``GET /v1/`` waits meanwhile, on our server and (with
``--compare``) on Kinto 26, same backend, same seed, one run.

    python bench/security.py [--backend memory|postgresql] [--compare]

Each hostile request is cut at 60 s (reported as ">60"); the server may go on
working on it, so on a server that has no bound the rows after a cut are
measured under that load. The bounds the tests in tests/security/ assert are
far above our figures.
"""

import argparse
import concurrent.futures
import socket
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import Server  # noqa: E402

AUTH = ("alice", "secret")
RECORDS = "/buckets/b/collections/c/records"
CUT = 60


def seed(base):
    session = requests.Session()
    session.auth = AUTH
    session.put(f"{base}/buckets/b").raise_for_status()
    session.put(f"{base}/buckets/b/collections/c").raise_for_status()
    session.put(f"{base}{RECORDS}/long", json={"data": {"s": "a" * 200}}).raise_for_status()
    for batch_number in range(120):  # 3,000 more records
        batch = [{"method": "POST", "path": RECORDS, "body": {"data": {"s": "x", "n": batch_number}}}] * 25
        session.post(f"{base}/batch", json={"requests": batch}).raise_for_status()
    return session


def nested_batch():
    leaf = {"path": RECORDS}
    body = {"defaults": {"method": "GET"}, "requests": [leaf] * 25}
    for _ in range(2):
        body = {"defaults": {"method": "POST", "path": "/%62atch", "body": body}, "requests": [{}] * 25}
    return body


def scenarios(session, base):
    sort_200 = ",".join(f"f{i}" for i in range(200))
    sort_10 = ",".join(f"-f{i}" if i % 2 else f"f{i}" for i in range(10))

    def next_page(sort):
        first = session.get(f"{base}{RECORDS}", params={"_limit": 1, "_sort": sort}, timeout=CUT)
        link = first.headers.get("Next-Page")
        return (lambda: session.get(link, timeout=CUT)) if link else (lambda: first)

    def get(path, **params):
        return lambda: session.get(f"{base}{path}", params=params, timeout=CUT)

    ids = ",".join(str(i) for i in range(40_000))
    values = ",".join(str(i) for i in range(10_000))
    return [
        ("_sort on 200 fields, next page", next_page(sort_200)),
        ("_sort on 10 fields, next page", next_page(sort_10)),
        ("like_s=*a*a*a*a*b (one record of 200 a)", get(RECORDS, like_s="*a*a*a*a*b")),
        ("in_id with 40,000 values", lambda: session.get(f"{base}{RECORDS}?in_id={ids}", timeout=CUT)),
        (
            "in_s + exclude_n, 10,000 values each",
            lambda: session.get(f"{base}{RECORDS}?in_s={values}&exclude_n={values}", timeout=CUT),
        ),
        ("nested batch through /%62atch", lambda: session.post(f"{base}/batch", json=nested_batch(), timeout=CUT)),
        (
            "PUT last_modified 10^20",
            lambda: session.put(f"{base}{RECORDS}/far", json={"data": {"last_modified": 10**20}}, timeout=CUT),
        ),
        ("list after that PUT", get(RECORDS, _limit=1)),
    ]


def measure(base, hostile):
    """(status, seconds, other client's seconds) for one hostile request."""

    def timed():
        start = time.monotonic()
        response = hostile()
        return response, time.monotonic() - start

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        future = pool.submit(timed)
        time.sleep(0.1)
        other_start = time.monotonic()
        try:
            requests.get(f"{base}/", timeout=CUT)
            other = time.monotonic() - other_start
        except requests.RequestException:
            other = None
        try:
            response, took = future.result()
            status = response.status_code
        except requests.RequestException:
            status, took = "cut", None
    return status, took, other


def half_sent(base, port, count=150):
    """Another client's GET /v1/ while ``count`` requests are half-sent."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /v1/ HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            sockets.append(sock)
        start = time.monotonic()
        try:
            status = requests.get(f"{base}/", timeout=CUT).status_code
            return status, None, time.monotonic() - start
        except requests.RequestException:
            return "cut", None, None
    finally:
        for sock in sockets:
            sock.close()


def run(kind, backend, workdir):
    server = Server(kind, backend, workdir).start()
    try:
        base = server.url + "/v1"
        session = seed(base)
        rss = server.rss_mib()
        rows = [(name, *measure(base, hostile)) for name, hostile in scenarios(session, base)]
        rows.append(("150 half-sent requests", *half_sent(base, server.port)))
        return rows, rss, server.rss_mib()
    finally:
        server.stop()


def fmt(seconds):
    return f">{CUT}" if seconds is None else f"{seconds * 1000:.0f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("memory", "postgresql"), default="memory")
    parser.add_argument("--compare", action="store_true", help="also run Kinto 26 (bench/kinto-venv)")
    args = parser.parse_args()
    kinds = ("ours", "kinto") if args.compare else ("ours",)
    with tempfile.TemporaryDirectory() as workdir:
        results = {kind: run(kind, args.backend, workdir) for kind in kinds}
    print(f"\nbackend: {args.backend}")
    header = "| hostile request | " + " | ".join(f"{k}: status, time, other client" for k in kinds) + " |"
    print(header)
    print("|---" * (len(kinds) + 1) + "|")
    names = [row[0] for row in results["ours"][0]]
    for index, name in enumerate(names):
        cells = []
        for kind in kinds:
            _, status, took, other = results[kind][0][index]
            shown = "-" if took is None and status != "cut" else fmt(took)
            cells.append(f"{status}, {shown}, {fmt(other)}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    for kind in kinds:
        _, before, after = results[kind]
        print(f"{kind}: RSS {before:.0f} MiB after seeding, {after:.0f} MiB after the hostile requests")


if __name__ == "__main__":
    main()
