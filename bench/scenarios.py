"""Seeding and the load scenarios, the same for every server.

Reads run before writes, so that writes never change what reads return.
Each scenario is one wrk run (8 keep-alive connections, 2 threads).
"""

import base64
import json
import time
from dataclasses import dataclass

import requests

SIZE = 10_000
BATCH = 25
SHARED_WITH_BOB = 100
COLLECTION = "/v1/buckets/bench/collections/c"
SMALL = "/v1/buckets/bench/collections/small"


def basic(user, password="secret"):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


ALICE, BOB = basic("alice"), basic("bob")


def seed(server_url):
    """Create the bench bucket and 10,000 records with batches of 25; return
    the seed time and what the scenarios need (ids, timestamps)."""
    http = requests.Session()
    http.headers["Authorization"] = ALICE
    bob_id = requests.get(f"{server_url}/v1/", headers={"Authorization": BOB}).json()["user"]["id"]
    for path in (
        "/v1/buckets/bench",
        COLLECTION,
        "/v1/buckets/bench/collections/writes",
        "/v1/buckets/bench/collections/bulk",
        SMALL,
    ):
        assert http.put(server_url + path).status_code in (200, 201)
    for i in range(3):  # The common path, where the collection's size costs nothing.
        assert http.put(f"{server_url}{SMALL}/records/s{i}", json={"data": {"i": i}}).status_code in (200, 201)
    started = time.monotonic()
    for start in range(0, SIZE, BATCH):
        subrequests = []
        for i in range(start, start + BATCH):
            body = {"data": {"id": f"r{i:05d}", "i": i, "status": "done" if i % 3 == 0 else "todo"}}
            if i % (SIZE // SHARED_WITH_BOB) == 0:
                body["permissions"] = {"read": [bob_id]}
            subrequests.append({"method": "POST", "path": COLLECTION[3:] + "/records", "body": body})
        response = http.post(f"{server_url}/v1/batch", json={"requests": subrequests})
        assert response.status_code == 200 and all(r["status"] == 201 for r in response.json()["responses"])
    seed_seconds = time.monotonic() - started
    stamps = record_stamps(server_url)
    ordered = sorted(stamps.values())
    return seed_seconds, {"stamps": stamps, "since_200": ordered[-201]}


def stored_records(server_url):
    """How many records the bench collections hold now (``Total-Records``)."""
    total = 0
    for collection in ("c", "writes", "bulk", "small"):
        url = f"{server_url}/v1/buckets/bench/collections/{collection}/records"
        total += int(requests.head(url, headers={"Authorization": ALICE}).headers["Total-Records"])
    return total


def record_stamps(server_url):
    """``{id: last_modified}`` of the bench records, as they are now."""
    http = requests.Session()
    http.headers["Authorization"] = ALICE
    stamps = {}
    url = f"{server_url}{COLLECTION}/records?_limit=1000&_fields=id"
    while url:
        response = http.get(url)
        stamps.update((r["id"], r["last_modified"]) for r in response.json()["data"])
        url = response.headers.get("Next-Page")
    return stamps


@dataclass
class Scenario:
    name: str
    path: str
    method: str = "GET"
    user: str = ALICE
    body: str | None = None
    lua: str | None = None
    # Its script holds the records' ETags: a later round needs them read again.
    needs_fresh_stamps: bool = False

    def script(self, seeded):
        """The wrk lua script of this scenario."""
        lines = [f'wrk.method = "{self.method}"', f'wrk.headers["Authorization"] = "{self.user}"']
        if self.body is not None:
            lines.append('wrk.headers["Content-Type"] = "application/json"')
            lines.append(f"wrk.body = {json.dumps(self.body)}")
        if self.lua is not None:
            lines.append(self.lua(seeded))
        return "\n".join(lines) + "\n"


def _patch_lua(seeded):
    """PATCH with If-Match: each wrk thread cycles over its own records and
    keeps their ETags from the responses."""
    ids = sorted(i for i in seeded["stamps"] if int(i[1:]) >= SIZE // 2)
    table = ",".join(f'{{"{i}",{seeded["stamps"][i]}}}' for i in ids)
    return f"""
local all = {{{table}}}
local counter = 1
local threads = {{}}
function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  mine, etags, position = {{}}, {{}}, 0
  for n, pair in ipairs(all) do
    if n % 2 == index - 1 then
      table.insert(mine, pair[1])
      etags[pair[1]] = pair[2]
    end
  end
end
function request()
  position = position % #mine + 1
  local id = mine[position]
  local headers = {{}}
  headers["Authorization"] = wrk.headers["Authorization"]
  headers["Content-Type"] = "application/json"
  headers["If-Match"] = '"' .. etags[id] .. '"'
  return wrk.format("PATCH", "{COLLECTION}/records/" .. id, headers, '{{"data": {{"status": "patched"}}}}')
end
function response(status, headers, body)
  local id = string.match(body, '"id":"(r%d+)"')
  local stamp = string.match(body, '"last_modified":(%d+)')
  if id and stamp then etags[id] = stamp end
end
"""


def _batch_body():
    subrequests = [
        {"method": "POST", "path": "/buckets/bench/collections/bulk/records", "body": {"data": {"title": "x"}}}
    ] * BATCH
    return json.dumps({"requests": subrequests})


def scenarios(seeded):
    since = seeded["since_200"]
    records = f"{COLLECTION}/records"
    return [
        Scenario("GET /v1/ (authenticated)", "/v1/"),
        Scenario("GET one record", f"{records}/r00042"),
        Scenario("GET one record of 3", f"{SMALL}/records/s1"),
        Scenario("GET first 100 of 10,000", f"{records}?_limit=100"),
        Scenario(
            "same, status=done, _sort=-last_modified",
            f"{records}?_limit=100&status=done&_sort=-last_modified",
        ),
        Scenario("_since returning ~200 of 10,000", f"{records}?_since={since}&_limit=1000"),
        Scenario("list readable 100 of 10,000 (bob)", f"{records}?_limit=100", user=BOB),
        Scenario(
            "POST one record", "/v1/buckets/bench/collections/writes/records", "POST", body='{"data": {"title": "x"}}'
        ),
        Scenario("PATCH with If-Match", records, "PATCH", lua=_patch_lua, needs_fresh_stamps=True),
        Scenario("batch of 25 creates", "/v1/batch", "POST", body=_batch_body()),
    ]
