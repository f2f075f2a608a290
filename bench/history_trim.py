"""What the history's trim costs on a write once the history is big: the
same record write (PUT of a new record, history on, trimmed to ``--keep``
entries per resource name past a threshold of 100, as Remote Settings runs
it) in a bucket whose history holds ``--entries`` entries that the trim must
leave alone plus ``--keep`` of the writes' kind, and in a bucket holding
only those ``--keep``, taking turns; in process (WebTest), so the figures
are the request's own time without the network.

    python bench/history_trim.py --backend postgresql --entries 1000000
    make bench-history-trim BACKEND=sqlite

Prints, for each mode (trim by resource name: the others' entries are
groups; by resource name and user: they are records of other users), the
median and p95 milliseconds per write in each bucket, and what one trim
statement costs alone on the big history (it runs on every write, walking
the newest ``keep + threshold`` matching entries of an index, and deletes
once there are more).
"""

import argparse
import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from servers import PG_ADMIN_URL, _recreate_database  # noqa: E402
from webtest import TestApp  # noqa: E402

from kinto_server import backends, main  # noqa: E402
from kinto_server.settings import load  # noqa: E402

THRESHOLD = 100
USER = "basicauth:bench"
AUTH = {"Authorization": "Basic " + base64.b64encode(b"alice:secret").decode()}

# The background: ``count`` entries the trim of the bench's writes must
# leave alone (another resource name, or other users), which an unindexed
# count or delete would read on every write; then ``keep`` entries of the
# writes' own kind, newest, so the trim runs in its steady state at once.
# Their timestamps (1, 2, ...) lie below every real one, so the bucket's
# history timestamp needs no change.
FILL = """
INSERT INTO objects (parent_id, resource_name, id, last_modified, deleted, data)
SELECT {bucket}, 'history', 'h' || n, n, {false},
       {object}(
           'action', 'update', 'resource_name', CASE WHEN n > {count} THEN 'record' ELSE {background} END,
           'user_id', CASE WHEN n > {count} THEN {user} ELSE 'account:editor' || (n % 50) END,
           'uri', '/buckets/big/collections/c/records/r' || (n % 5000),
           'collection_id', 'c', 'record_id', 'r' || (n % 5000),
           'date', '2026-12-01T00:00:00+00:00',
           'target', {object}('data', {object}('id', 'r' || (n % 5000), 'n', n), 'permissions', {object}()))
FROM {numbers}
"""


def backend_settings(backend, workdir, mode):
    if backend == "postgresql":
        # One database per mode: recreating one would cut the pooled connections of the other.
        _recreate_database(f"bench_history_{mode}")
        url = f"{PG_ADMIN_URL}/bench_history_{mode}"
    else:
        url = f"sqlite://{workdir}/history.sqlite"
    roles = ("storage", "permission", "cache")
    return {f"kinto.{role}_{key}": value for role in roles for key, value in (("backend", backend), ("url", url))}


def fill(backend, url, bucket, count, keep, background, user):
    started = time.perf_counter()
    total = count + keep
    if backend == "postgresql":
        import psycopg2

        sql = (
            FILL.format(
                false="FALSE",
                bucket="%(bucket)s",
                object="jsonb_build_object",
                count=count,
                background="%(background)s",
                user="%(user)s",
                numbers="generate_series(1, %(total)s) AS n",
            )
            .replace("%", "%%")
            .replace("%%(", "%(")
        )
        connection = psycopg2.connect(url)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(sql, {"bucket": bucket, "background": background, "user": user, "total": total})
            cursor.execute("VACUUM ANALYZE objects")
        connection.close()
    else:
        import sqlite3

        numbers = "(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :total) SELECT n FROM s)"
        sql = FILL.format(
            false="0",
            bucket=":bucket",
            object="json_object",
            count=count,
            background=":background",
            user=":user",
            numbers=numbers,
        )
        connection = sqlite3.connect(url.removeprefix("sqlite://"))
        with connection:
            connection.execute(sql, {"bucket": bucket, "background": background, "user": user, "total": total})
        connection.execute("ANALYZE")
        connection.close()
    return time.perf_counter() - started


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def run_mode(backend, settings, entries, keep, writes, by_user):
    extra = {
        "kinto.includes": "kinto_server.plugins.history",
        "kinto.bucket_create_principals": "system.Authenticated",
        "kinto.userid_hmac_secret": "bench",
        "kinto.history.auto_trim_max_count": str(keep),
        "kinto.history.auto_trim_threshold": str(THRESHOLD),
    }
    app = TestApp(main({}, **settings, **extra))
    user = app.get("/v1/", headers=AUTH).json["user"]["id"]
    if by_user:
        app = TestApp(main({}, **settings, **extra, **{"kinto.history.auto_trim_user_ids": user}))
    for bucket in ("big", "small"):
        app.put(f"/v1/buckets/{bucket}", headers=AUTH)
        app.put(f"/v1/buckets/{bucket}/collections/c", headers=AUTH)
    # Trimmed by resource name, the background is of another one (groups);
    # trimmed by user, it is records of other users.
    background = "record" if by_user else "group"
    url = settings["kinto.storage_url"]
    filled = fill(backend, url, "/buckets/big", entries, keep, background, user)
    fill(backend, url, "/buckets/small", 0, keep, background, user)
    print(
        f"  /buckets/big: {entries:,} {background} entries of others and {keep} of the writes' kind, inserted in "
        f"{filled:.1f} s; /buckets/small: only the {keep}",
        flush=True,
    )
    timings = {"big": [], "small": []}
    for i in range(writes):
        for bucket in ("big", "small"):
            started = time.perf_counter()
            app.put_json(f"/v1/buckets/{bucket}/collections/c/records/w{i}", {"data": {"i": i}}, headers=AUTH)
            timings[bucket].append((time.perf_counter() - started) * 1000)
    storage = app.app.registry.storage
    equal = {"resource_name": "record", **({"user_id": user} if by_user else {})}
    statement = []
    for _ in range(50):
        started = time.perf_counter()
        storage.trim_objects(resource_name="history", parent_id="/buckets/big", equal=equal, keep=keep, slack=THRESHOLD)
        statement.append((time.perf_counter() - started) * 1000)
    left = app.head("/v1/buckets/big/history", headers=AUTH).headers["Total-Records"]
    return timings, statement, int(left)


def main_(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--keep", type=int, default=1000)
    parser.add_argument("--writes", type=int, default=300)
    args = parser.parse_args(argv)
    for by_user in (False, True):
        mode = "by resource name and user" if by_user else "by resource name"
        print(f"{args.backend}, trim {mode}, keep {args.keep} (+{THRESHOLD}):", flush=True)
        with tempfile.TemporaryDirectory() as workdir:
            settings = backend_settings(args.backend, workdir, int(by_user))
            loaded = load(settings, environ={})
            for role in ("storage", "permission", "cache"):
                backends.load(role, loaded).migrate()
            timings, statement, left = run_mode(args.backend, settings, args.entries, args.keep, args.writes, by_user)
        for bucket, label in (("big", f"{args.entries + args.keep:,} entries"), ("small", f"{args.keep} entries")):
            values = timings[bucket]
            print(
                f"  write, history of {label}: median {statistics.median(values):.2f} ms, "
                f"p95 {percentile(values, 0.95):.2f} ms, max {max(values):.1f} ms ({len(values)} writes)"
            )
        print(
            f"  one trim alone (its own transaction) on the big history: median {statistics.median(statement):.2f} ms; "
            f"entries there at the end: {left:,}",
            flush=True,
        )


if __name__ == "__main__":
    main_()
