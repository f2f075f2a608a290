"""Two server processes on one PostgreSQL, concurrent writers and a ``_since``
poller alternating between the processes: the poller's copy must end equal
to the server's state, timestamps must be unique within the collection, no
If-Match update may be lost and no valid write may fail.

``KINTO_SYNC_SECONDS`` sets the length of the run (8 s by default; 20 s or
more to hunt for races, as in issue 11)."""

import os
import random
import threading
import time
from collections import Counter

import pytest

from tests.system.servers import session

pytestmark = pytest.mark.system

DURATION = float(os.environ.get("KINTO_SYNC_SECONDS", "8"))  # seconds of concurrent writes
WRITERS = 8
COUNTERS = 3
POLL_INTERVAL = 0.01
# Writers pause between requests (0 to 2x this, in seconds): about 150 writes
# a second in all, so that many polls find nothing new, where an ETag read
# apart from its (empty) page would run ahead of it.
WRITE_PAUSE = 0.05


def records_url(server):
    return f"{server.url}/buckets/sync/collections/data/records"


class Run:
    def __init__(self, servers):
        self.servers = servers
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.statuses = Counter()
        self.failures = []
        self.increments = Counter()

    def server(self):
        return random.choice(self.servers)

    def record(self, response, expected):
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code not in expected:
                self.failures.append(
                    (response.request.method, response.request.url, response.status_code, response.text)
                )


def writer(run, number):
    """Mostly new records, edits of its own records with If-Match, deletes,
    and now and then a contended counter increment."""
    http = session()
    mine = []
    while not run.stop.is_set():
        time.sleep(random.uniform(0, 2 * WRITE_PAUSE))
        action = random.random()
        if action < 0.45 or not mine:
            response = http.post(records_url(run.server()), json={"data": {"writer": number, "n": random.random()}})
            run.record(response, (201,))
            if response.status_code == 201:
                mine.append(response.json()["data"]["id"])
        elif action < 0.77:
            url = f"{records_url(run.server())}/{random.choice(mine)}"
            current = http.get(url)
            run.record(current, (200,))
            headers = {"If-Match": current.headers["ETag"]}
            response = http.patch(
                f"{records_url(run.server())}/{current.json()['data']['id']}",
                json={"data": {"n": random.random()}},
                headers=headers,
            )
            run.record(response, (200,))  # Nobody else edits it: never a 412.
        elif action < 0.9:
            victim = mine.pop(random.randrange(len(mine)))
            run.record(http.delete(f"{records_url(run.server())}/{victim}"), (200,))
        else:
            increment(run, http, f"counter-{random.randrange(COUNTERS)}")


def increment(run, http, counter_id):
    """Read-modify-write with If-Match until it is accepted."""
    while True:
        url = f"{records_url(run.server())}/{counter_id}"
        current = http.get(url)
        run.record(current, (200,))
        data = current.json()["data"]
        headers = {"If-Match": current.headers["ETag"]}
        response = http.patch(
            f"{records_url(run.server())}/{counter_id}", json={"data": {"value": data["value"] + 1}}, headers=headers
        )
        run.record(response, (200, 412))
        if response.status_code == 200:
            with run.lock:
                run.increments[counter_id] += 1
            return
        if run.stop.is_set():
            return


def poll_once(run, http, etag, copy, server=None):
    """Apply every change after ``etag`` (everything when None), following
    pages; return the new ETag."""
    server = server or run.server()
    url = f"{records_url(server)}?_limit=7" + (f"&_since={etag}" if etag is not None else "")
    new_etag = None
    while url:
        response = http.get(url)
        run.record(response, (200,))
        if new_etag is None:
            new_etag = response.headers["ETag"].strip('"')
        for change in response.json()["data"]:
            if change.get("deleted"):
                copy.pop(change["id"], None)
            else:
                copy[change["id"]] = change
        url = response.headers.get("Next-Page")
    return new_etag


def poller(run, copy, state):
    http = session()
    polls = 0
    while not run.stop.is_set():
        server = run.servers[polls % len(run.servers)]  # Alternating processes.
        state["etag"] = poll_once(run, http, state["etag"], copy, server)
        polls += 1
        time.sleep(POLL_INTERVAL)
    state["polls"] = polls


def full_listing(http, server):
    url, found = f"{records_url(server)}?_limit=100", {}
    while url:
        response = http.get(url)
        assert response.status_code == 200
        found.update((r["id"], r) for r in response.json()["data"])
        url = response.headers.get("Next-Page")
    return found


def test_since_poller_sees_every_change_exactly(two_servers):
    first = two_servers[0]
    http = session()
    assert http.put(f"{first.url}/buckets/sync").status_code == 201
    assert http.put(f"{first.url}/buckets/sync/collections/data").status_code == 201
    for i in range(COUNTERS):
        assert http.put(f"{records_url(first)}/counter-{i}", json={"data": {"value": 0}}).status_code == 201

    run = Run(two_servers)
    copy, state = {}, {"etag": None}
    threads = [threading.Thread(target=writer, args=(run, n)) for n in range(WRITERS)]
    threads.append(threading.Thread(target=poller, args=(run, copy, state)))
    for thread in threads:
        thread.start()
    time.sleep(DURATION)
    run.stop.set()
    for thread in threads:
        thread.join(timeout=60)

    # Catch up with the last writes, then compare with the server's state.
    state["etag"] = poll_once(run, http, state["etag"], copy)
    server_state = full_listing(http, two_servers[1])
    print(
        f"\n{DURATION:.0f} s: statuses {dict(run.statuses)}, polls {state['polls']}, "
        f"live objects {len(server_state)}, increments {dict(run.increments)}"
    )
    assert run.failures == []
    assert copy == server_state
    assert len(server_state) > COUNTERS
    writes = sum(count for status, count in run.statuses.items() if status in (200, 201))
    assert writes > 100, run.statuses

    everything = http.get(f"{records_url(first)}?_since=0&_sort=last_modified").json()["data"]
    stamps = [obj["last_modified"] for obj in everything]
    assert len(stamps) == len(set(stamps))

    for i in range(COUNTERS):
        counter_id = f"counter-{i}"
        assert server_state[counter_id]["value"] == run.increments[counter_id]
