"""``kinto_server import-kinto --from URL --ini INI``: the data of a Kinto
PostgreSQL database (Kinto 14 and later: storage schema 21 or more) copied
into the backends of an ini file, PostgreSQL or SQLite, with nothing lost:
every bucket, collection, group, record, account and history entry, every
tombstone, with its timestamp; every parent's timestamp; every ACE and group
membership.

Why a copy rather than a conversion in place: Kinto's database stays as it
was, so going back is pointing Kinto at it again; the target can be SQLite;
and our schema is made by our own migrations, never by altering Kinto's
tables (whose names ours share).

The source is read in one repeatable-read, read-only transaction (a
consistent snapshot, even with Kinto running: writes made after it starts
are not copied, so put Kinto in read-only mode, ``kinto.readonly = true``,
before the copy). The target is written in one transaction per database:
all or nothing. It must be migrated and hold no object yet.

Principals are copied as they are: ``basicauth:<hmac>`` ids and default
bucket ids only match if the ini keeps Kinto's ``userid_hmac_secret`` and
``default_bucket_hmac_secret``.
"""

import sys

import ujson

from kinto_server.plugins.accounts.policy import PARENT_ID as ACCOUNTS_PARENT
from kinto_server.plugins.accounts.policy import RESOURCE_NAME as ACCOUNT
from kinto_server.storage import ImportConflict, Imported

#: Kinto's timestamps are TIMESTAMP columns; its API gives them as this.
EPOCH_MS = "(EXTRACT(EPOCH FROM {column}) * 1000)::BIGINT"
OBJECTS = f"""
    SELECT resource_name, parent_id, id, {EPOCH_MS.format(column="last_modified")}, deleted, data::TEXT
    FROM objects
"""
TIMESTAMPS = f"SELECT resource_name, parent_id, {EPOCH_MS.format(column='last_modified')} FROM timestamps"
ACES = "SELECT object_id, permission, principal FROM access_control_entries"
MEMBERSHIPS = "SELECT user_id, principal FROM user_principals"
VERSIONS = "SELECT name, value FROM metadata WHERE name LIKE '%%_schema_version'"
#: The first Kinto storage schema with the ``objects`` table (Kinto 14).
FIRST_VERSION = 21
READ_ROWS = 5_000


class KintoDatabase:
    """A Kinto database, read in one snapshot."""

    def __init__(self, url, role, error):
        import psycopg2

        self.url, self.role = url, role
        try:
            self.connection = psycopg2.connect(url)
        except psycopg2.Error as failure:
            raise error(f"Cannot connect to the Kinto database {url}: {str(failure).strip()}") from None
        self.connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
        self.error = error

    def versions(self):
        import psycopg2

        try:
            with self.connection.cursor() as cursor:
                cursor.execute(VERSIONS)
                return dict(cursor.fetchall())
        except psycopg2.Error:
            self.connection.rollback()
            return {}

    def rows(self, sql, name):
        """The rows of ``sql``, fetched READ_ROWS at a time (a server-side cursor)."""
        with self.connection.cursor(name=name) as cursor:
            cursor.itersize = READ_ROWS
            cursor.execute(sql)
            yield from cursor

    def close(self):
        self.connection.close()


def _check_kinto(database, component):
    versions = database.versions()
    key = f"{component}_schema_version"
    if key not in versions:
        raise database.error(
            f"{database.url} holds no Kinto {component} schema (no {key} in its metadata table): "
            f"give the URL of the database of Kinto's kinto.{component}_url"
        )
    if component == "storage" and int(versions[key]) < FIRST_VERSION:
        raise database.error(
            f"{database.url} holds Kinto's storage schema {versions[key]}, older than Kinto 14's: "
            "upgrade it with `kinto migrate` of Kinto 14 or later, then import it"
        )


def _objects(rows, counts):
    """Kinto's rows as ours. The one difference of layout: Kinto keeps each
    account under a parent of its own (its id), ours all under ``""``;
    their timestamps, unique per parent, are kept unless two accounts share
    one (created in the same millisecond): the later then takes the next
    free millisecond (an account's timestamp serves no sync)."""
    accounts = []
    for resource_name, parent_id, object_id, last_modified, deleted, data in rows:
        key = f"{resource_name} tombstones" if deleted else resource_name
        counts[key] = counts.get(key, 0) + 1
        data = {} if deleted else ujson.loads(data)
        if resource_name == ACCOUNT:
            accounts.append((last_modified, object_id, deleted, data))
            continue
        yield Imported(resource_name, parent_id, object_id, last_modified, deleted, data)
    previous = 0
    for last_modified, object_id, deleted, data in sorted(accounts, key=lambda account: account[:2]):
        previous = max(last_modified, previous + 1)
        yield Imported(ACCOUNT, ACCOUNTS_PARENT, object_id, previous, deleted, data)


def _timestamps(rows):
    for resource_name, parent_id, last_modified in rows:
        yield resource_name, ACCOUNTS_PARENT if resource_name == ACCOUNT else parent_id, last_modified


def run(args, found, error):
    """Copy; ``found`` are the ini's backends (storage and permission,
    checked by the caller), ``error`` the exception class of a user mistake."""
    storage, permission = found["storage"], found["permission"]
    source = KintoDatabase(args.source, "storage", error)
    permissions_source = source
    if args.permissions_source and args.permissions_source != args.source:
        permissions_source = KintoDatabase(args.permissions_source, "permission", error)
    try:
        _check_kinto(source, "storage")
        _check_kinto(permissions_source, "permission")
        names = [row[0] for row in source.rows("SELECT DISTINCT resource_name FROM objects", "names")]
        stored = storage.count_by_resource(resource_names=names or ["bucket"])
        if any(live or tombstones for live, tombstones in stored.values()):
            raise error(
                f"The storage of {args.ini} already holds objects: import into a new database "
                "(or an emptied one) so that nothing is mixed"
            )
        clients = list({id(c): c for c in (storage.client, permission.client)}.values())
        for client in clients:
            client.start_request(readonly=False)
        committed = False
        try:
            counts = {}
            total = storage.import_objects(
                _objects(source.rows(OBJECTS, "objects"), counts),
                timestamps=list(_timestamps(source.rows(TIMESTAMPS, "stamps"))),
            )
            aces, memberships = permission.import_permissions(
                aces=permissions_source.rows(ACES, "aces"), memberships=permissions_source.rows(MEMBERSHIPS, "members")
            )
            committed = True
        except ImportConflict as conflict:
            raise error(f"Nothing was imported: {conflict}") from None
        finally:
            for client in clients:
                client.finish_request(commit=committed)
    finally:
        source.close()
        if permissions_source is not source:
            permissions_source.close()
    detail = ", ".join(f"{count} {name}" for name, count in sorted(counts.items()))
    print(
        f"Imported {total} objects ({detail or 'none'}), {aces} permission entries and "
        f"{memberships} group memberships into {args.ini}.",
        file=sys.stdout,
    )
    return 0
