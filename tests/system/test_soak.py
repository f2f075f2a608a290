"""Soak: two server processes on one PostgreSQL, many concurrent clients doing
mixed traffic for a bounded time (KINTO_SOAK_SECONDS, 20 by default). No 5xx,
no lost write, server memory stable."""

import os
import random
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.system.servers import session

pytestmark = pytest.mark.system

SECONDS = float(os.environ.get("KINTO_SOAK_SECONDS", "20"))
CLIENTS = 12


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def client(servers, number, deadline, statuses, created, deleted, lock):
    http = session(f"user{number % 3}")
    mine = []
    collection = f"/buckets/default/collections/soak{number % 3}/records"
    while time.monotonic() < deadline:
        base = random.choice(servers).url
        action = random.random()
        if action < 0.35 or not mine:
            response = http.post(base + collection, json={"data": {"n": random.random()}})
            if response.status_code == 201:
                mine.append(response.json()["data"]["id"])
                with lock:
                    created.add((number % 3, mine[-1]))
        elif action < 0.5:
            response = http.get(base + collection + "?_limit=20")
        elif action < 0.65:
            response = http.get(f"{base}{collection}/{random.choice(mine)}")
        elif action < 0.8:
            target = random.choice(mine)
            current = http.get(f"{base}{collection}/{target}")
            response = http.patch(
                f"{base}{collection}/{target}",
                json={"data": {"p": 1}},
                headers={"If-Match": current.headers.get("ETag", '"0"')},
            )
        elif action < 0.9:
            target = mine.pop(random.randrange(len(mine)))
            response = http.delete(f"{base}{collection}/{target}")
            if response.status_code == 200:
                with lock:
                    deleted.add((number % 3, target))
        else:
            body = {"requests": [{"method": "GET", "path": collection}, {"method": "GET", "path": "/"}]}
            response = http.post(base + "/batch", json=body)
        with lock:
            statuses[response.status_code] += 1


def test_mixed_traffic_loses_nothing(two_servers):
    for user in range(3):  # Create each user's default bucket and collection.
        session(f"user{user}").get(f"{two_servers[0].url}/buckets/default/collections/soak{user}/records")
    rss_start = [rss_kib(s.process.pid) for s in two_servers]
    statuses, created, deleted, lock = Counter(), set(), set(), threading.Lock()
    deadline = time.monotonic() + SECONDS
    threads = [
        threading.Thread(target=client, args=(two_servers, n, deadline, statuses, created, deleted, lock))
        for n in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rss_end = [rss_kib(s.process.pid) for s in two_servers]

    # Read back through the change feed (on the other process): live records
    # and the tombstones of deleted ones.
    stored, tombstones = set(), set()
    for user in range(3):
        http = session(f"user{user}")
        url = f"{two_servers[1].url}/buckets/default/collections/soak{user}/records?_since=0&_limit=1000"
        while url:
            response = http.get(url)
            for record in response.json()["data"]:
                (tombstones if record.get("deleted") else stored).add((user, record["id"]))
            url = response.headers.get("Next-Page")
    total = sum(statuses.values())
    print(
        f"\n{total} requests in {SECONDS:.0f} s from {CLIENTS} clients: {dict(statuses)}; "
        f"RSS KiB start {rss_start} end {rss_end}"
    )
    assert not [s for s in statuses if s >= 500]
    assert created - deleted <= stored  # every acknowledged write is in the feed
    assert deleted <= tombstones  # every acknowledged delete is in the feed, as a tombstone
    assert not (deleted & stored)
    assert all(end < start * 1.5 + 20_000 for start, end in zip(rss_start, rss_end, strict=True))
