"""How list costs grow with the collection, on PostgreSQL or SQLite, through
HTTP, for collections of 1,000 to 1,000,000 records: the first page of 100,
a ``_since`` returning 10 changes, a filtered page in timestamp order
(``status=done``), a page sorted by a data field (``_sort=n``), before and
after ``kinto_server index`` declares it (with the time the index takes), ``HEAD``
with ``Total-Records`` (median ms, one client), and a walk of the whole collection by pages of
1,000 (Next-Page links; milliseconds per page, one client).

    python bench/scaling.py [--backend postgresql|sqlite] [--duration 5] [--sizes 1000,1000000]

The bucket and collection are created over HTTP; the records are inserted
with SQL (``kinto_server import`` takes under a minute for 1,000,000, and
is measured by its own summary), then the tables analysed.
"""

import argparse
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import wrk  # noqa: E402
from scenarios import ALICE  # noqa: E402
from servers import PG_ADMIN_URL, Server, ensure_wrk  # noqa: E402

SIZES = (1_000, 10_000, 100_000, 1_000_000)
PARENT = "/buckets/scaling/collections/c"
STATUSES = ("todo", "done", "doing")  # as the SQL of seed_postgresql: n % 3
SCENARIOS = {
    "first page of 100": "?_limit=100",
    "_since returning 10": "?_since={since}",
    "status=done, newest 100": "?status=done&_sort=-last_modified&_limit=100",
    "_sort=n, first 100": "?_sort=n&_limit=100",
}
# Once ``kinto_server index ... n`` declared the field (dropped after).
DECLARED = {
    "_sort=n declared, first 100": "?_sort=n&_limit=100",
    "_sort=-n declared, first 100": "?_sort=-n&_limit=100",
}
COLLECTION = ("--bucket", "scaling", "--collection", "c")


def seed_sqlite(path, size):
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("DELETE FROM objects WHERE parent_id = ?", (PARENT,))
    connection.executemany(
        "INSERT INTO objects (parent_id, resource_name, id, last_modified, deleted, data)"
        " VALUES (?, 'record', ?, ?, 0, ?)",
        (
            (PARENT, f"r{n}", 1700000000000 + n, f'{{"n":{n * 7919 % size},"status":"{STATUSES[n % 3]}"}}')
            for n in range(1, size + 1)
        ),
    )
    connection.execute(
        "INSERT INTO timestamps VALUES (?, 'record', ?)"
        " ON CONFLICT (parent_id, resource_name) DO UPDATE SET last_modified = excluded.last_modified",
        (PARENT, 1700000000000 + size),
    )
    connection.execute("COMMIT")
    connection.execute("ANALYZE")
    connection.close()
    return 1700000000000 + size - 10


def seed_postgresql(size):
    connection = psycopg2.connect(f"{PG_ADMIN_URL}/bench_ours")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM objects WHERE parent_id = %s", (PARENT,))
        cursor.execute(
            """
            INSERT INTO objects (parent_id, resource_name, id, last_modified, deleted, data)
            SELECT %s, 'record', 'r' || n, 1700000000000 + n, FALSE,
                   jsonb_build_object(
                       'n', n::bigint * 7919 %% %s, 'status', (ARRAY['todo', 'done', 'doing'])[n %% 3 + 1]
                   )
            FROM generate_series(1, %s) AS n
            """,
            (PARENT, size, size),
        )
        cursor.execute(
            """
            INSERT INTO timestamps VALUES (%s, 'record', %s)
            ON CONFLICT (parent_id, resource_name) DO UPDATE SET last_modified = EXCLUDED.last_modified
            """,
            (PARENT, 1700000000000 + size),
        )
        cursor.execute("VACUUM ANALYZE objects")
    connection.close()
    return 1700000000000 + size - 10


def head_ms(session, url, size):
    """The median milliseconds of a HEAD with its count, one client (wrk
    cannot read HEAD answers)."""
    times = []
    for _ in range(100):
        started = time.perf_counter()
        response = session.head(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.headers["Total-Records"] == str(size)
    return statistics.median(times)


def walk(session, url):
    """Milliseconds per page of a walk of every record by pages of 1,000."""
    started, pages, total = time.perf_counter(), 0, 0
    while url:
        response = session.get(url)
        response.raise_for_status()
        pages, total = pages + 1, total + len(response.json()["data"])
        url = response.headers.get("Next-Page")
    return (time.perf_counter() - started) * 1000 / pages, total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="collection sizes (default: %(default)s)")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    ensure_wrk()
    script = f'wrk.headers["Authorization"] = "{ALICE}"\n'
    with tempfile.TemporaryDirectory(prefix="kinto-scaling-") as workdir:
        server = Server("ours", args.backend, workdir).start()
        if args.backend == "sqlite":
            path = Path(workdir) / f"{server.name}.sqlite"

            def seed(size):
                return seed_sqlite(path, size)
        else:
            seed = seed_postgresql
        try:
            http = requests.Session()
            http.headers["Authorization"] = ALICE
            http.put(f"{server.url}/v1/buckets/scaling")
            http.put(f"{server.url}/v1{PARENT}")
            records = f"{server.url}/v1{PARENT}/records"
            ini = str(Path(workdir) / f"{server.name}-{server.backend}.ini")
            names = [*SCENARIOS, "declaring n (index build), s", *DECLARED]
            rows = {name: {} for name in [*names, "HEAD Total-Records, ms", "walk, ms per page of 1,000"]}
            for size in sizes:
                since = seed(size)
                for name, query in SCENARIOS.items():
                    rows[name][size] = wrk(records + query.format(since=since), script, args.duration, workdir)["rps"]
                index = [sys.executable, "-m", "kinto_server.scripts.cli", "index", "--ini", ini, *COLLECTION, "n"]
                started = time.perf_counter()
                subprocess.run(index, check=True, capture_output=True)
                rows["declaring n (index build), s"][size] = time.perf_counter() - started
                for name, query in DECLARED.items():
                    rows[name][size] = wrk(records + query, script, args.duration, workdir)["rps"]
                subprocess.run([*index, "--drop"], check=True, capture_output=True)
                rows["HEAD Total-Records, ms"][size] = head_ms(http, records, size)
                per_page, walked = walk(http, records + "?_limit=1000")
                assert walked == size, (walked, size)
                rows["walk, ms per page of 1,000"][size] = per_page
                print(f"seeded and measured {size:,} records", file=sys.stderr, flush=True)
            print(f"ours on {args.backend} (req/s, but HEAD and the walk in ms; last column: largest / smallest)")
            print(f"{'':28}" + "".join(f"{size:>12,}" for size in sizes) + f"{'ratio':>8}")
            for name, cells in rows.items():
                line = "".join(f"{cells[size]:12.1f}" for size in sizes)
                print(f"{name:28}{line}{cells[sizes[-1]] / cells[sizes[0]]:8.2f}", flush=True)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
