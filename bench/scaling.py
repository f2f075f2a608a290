"""How list costs grow with the collection, on PostgreSQL or SQLite, through
HTTP: first page of 100 and a ``_since`` returning 10 changes, for
collections of 1,000, 10,000 and 100,000 records.

    python bench/scaling.py [--backend postgresql|sqlite] [--duration 5]

The bucket and collection are created over HTTP; the records are inserted
with SQL (seeding 100,000 through the API would take minutes and is measured
by run.py already).
"""

import argparse
import sqlite3
import sys
import tempfile
from pathlib import Path

import psycopg2
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import wrk  # noqa: E402
from scenarios import ALICE  # noqa: E402
from servers import PG_ADMIN_URL, Server, ensure_wrk  # noqa: E402

SIZES = (1_000, 10_000, 100_000)
PARENT = "/buckets/scaling/collections/c"


def seed_sqlite(path, size):
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("DELETE FROM objects WHERE parent_id = ?", (PARENT,))
    connection.executemany(
        "INSERT INTO objects (parent_id, resource_name, id, last_modified, deleted, data)"
        " VALUES (?, 'record', ?, ?, 0, ?)",
        ((PARENT, f"r{n}", 1700000000000 + n, f'{{"n":{n},"status":"todo"}}') for n in range(1, size + 1)),
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
            SELECT %s, 'record', 'r' || n, 1700000000000 + n, FALSE, jsonb_build_object('n', n, 'status', 'todo')
            FROM generate_series(1, %s) AS n
            """,
            (PARENT, size),
        )
        cursor.execute(
            """
            INSERT INTO timestamps VALUES (%s, 'record', %s)
            ON CONFLICT (parent_id, resource_name) DO UPDATE SET last_modified = EXCLUDED.last_modified
            """,
            (PARENT, 1700000000000 + size),
        )
        cursor.execute("ANALYZE objects")
    connection.close()
    return 1700000000000 + size - 10


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    args = parser.parse_args(argv)
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
            print(f"ours on {args.backend}")
            print(f"{'records':>8}  {'first page of 100':>28}  {'_since returning 10':>28}")
            for size in SIZES:
                since = seed(size)
                first = wrk(f"{server.url}/v1{PARENT}/records?_limit=100", script, args.duration, workdir)
                changes = wrk(f"{server.url}/v1{PARENT}/records?_since={since}", script, args.duration, workdir)
                cells = [f"{r['rps']:7.0f} req/s p50 {r['p50']:5.1f} ms" for r in (first, changes)]
                print(f"{size:>8}  {cells[0]:>28}  {cells[1]:>28}", flush=True)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
